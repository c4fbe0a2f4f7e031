"""`datagen`: chat (terminal), generate (headless), telegram, slack.

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
        None, "--format", "-f", help="csv | json | jsonl | openai_jsonl (default: the spec's, else the file's suffix)."
    ),
    resume: Optional[int] = typer.Option(None, "--resume", help="Continue an interrupted job by its id."),
) -> None:
    """Generate a dataset from a spec file, headless."""
    from bot.headless import run_generate

    raise typer.Exit(run_generate(_settings(), spec, output, format, resume))


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


if __name__ == "__main__":  # pragma: no cover
    app()
