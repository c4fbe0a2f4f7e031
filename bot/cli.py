"""`datagen`: chat (terminal), generate and annotate (headless), telegram, slack.

Each command only loads settings and hands over to its module, so `datagen --help`
stays fast and a missing token gets a one-line answer instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from core.settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Order synthetic, labeled datasets by chat, or generate them from a spec file.",
)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's report is long; one line is what a user needs
        typer.echo(f"error: bad configuration: {exc}".splitlines()[0], err=True)
        raise typer.Exit(2) from None


@app.command()
def chat() -> None:
    """Talk to the bot in this terminal (works with no API key through the embedded model)."""
    from bot.terminal import run_terminal

    raise typer.Exit(run_terminal(_settings()))


@app.command()
def generate(
    spec: Path = typer.Argument(..., help="Spec file (YAML or JSON): task, labels, count, ..."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the dataset."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", help="csv | json | jsonl | openai_jsonl | xlsx (default: the spec's, else the file's suffix)."
    ),
    resume: Optional[int] = typer.Option(None, "--resume", help="Continue an interrupted job by its id."),
    documents: Optional[Path] = typer.Option(
        None, "--documents", help="task documents: a folder of PDF, DOCX, Markdown, HTML or TXT files to ask about."
    ),
    fresh: bool = typer.Option(
        False, "--fresh", help="Start a new job even if this spec to this file has an unfinished one."
    ),
) -> None:
    """Generate a dataset from a spec file, headless. Run again after an interruption, it continues."""
    from bot.headless import run_generate

    raise typer.Exit(run_generate(_settings(), spec, output, format, resume, documents=documents, fresh=fresh))


@app.command()
def annotate(
    file: Path = typer.Argument(..., help="Your rows: CSV, TSV, XLSX, JSON, JSONL, or .txt with one row per line."),
    labels: str = typer.Option(..., "--labels", "-l", help="Labels separated by commas, or: sentiment, intent, toxicity."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the labeled rows (.csv .json .jsonl .xlsx)."),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="The column to classify (default: text, ...)."),
    describe: Optional[list[str]] = typer.Option(None, "--describe", help="LABEL=what it means (repeatable)."),
    instructions: str = typer.Option("", "--instructions", help="What the rows are, e.g. 'support tickets of a shoe shop'."),
    samples: int = typer.Option(2, "--samples", min=1, max=2, help="2: ask twice and mark disagreements low-confidence."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="csv | json | jsonl | xlsx (default: from -o)."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Continue an interrupted annotation job by its id."),
) -> None:
    """Label your own rows: every row once, in order, plus `label` and `confidence`."""
    from bot.annotate_cli import run_annotate

    raise typer.Exit(run_annotate(_settings(), file, labels, output, text_column=text_column, descriptions=describe,
                                  instructions=instructions, samples=samples, fmt=format, resume=resume))


@app.command()
def telegram() -> None:
    """Run the Telegram bot (TELEGRAM_BOT_TOKEN)."""
    from bot.telegram import run_telegram

    raise typer.Exit(run_telegram(_settings()))


@app.command()
def slack() -> None:
    """Run the Slack app (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; SLACK_APP_TOKEN for Socket Mode)."""
    from bot.slack import run_slack

    raise typer.Exit(run_slack(_settings()))


@app.command()
def worker(
    jobs: Optional[int] = typer.Option(None, "--jobs", help="Jobs generated at once (default DATAGEN_WORKER_JOBS)."),
) -> None:
    """Generate queued jobs for chat processes running with DATAGEN_WORKERS=external (PostgreSQL)."""
    import asyncio
    import logging

    settings = _settings()
    if not settings.database_url.startswith(("postgres", "postgresql")):
        typer.echo("error: `datagen worker` needs DATABASE_URL to point at PostgreSQL (the job queue lives there)",
                   err=True)
        raise typer.Exit(2)
    from core.queue import run_worker
    from storage.store import Store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("httpx", "httpx2", "openai"):  # one line per request otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        asyncio.run(run_worker(settings, Store.from_url, jobs=jobs))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":  # pragma: no cover
    app()
