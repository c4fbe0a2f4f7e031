"""`datagen annotate FILE --labels a,b,c -o OUT [--resume JOB]`: label a user's own rows, no chat.

Progress and cancel work like `datagen generate` (the same displays; Ctrl-C or SIGTERM stops the
job with its labels kept; `--resume JOB` continues it, also after a kill -9). Exit codes: 0 done,
1 the job or the model failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.headless import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _announce_model, _fail, _first_line,
                          _PlainProgress, _RichProgress, _unwritable)
from core.settings import Settings
from core.stop_reasons import plain

if TYPE_CHECKING:
    from core.annotate import AnnotationOrder, AnnotationResult, Annotator
    from core.generator import JobProgress
    from storage.store import Store

from core.annotation_labels import PRESETS  # `--labels sentiment` etc.: the common tasks


def parse_labels(value: str) -> list[str]:
    """'a, b ,c' -> ['a', 'b', 'c']; a preset name -> its labels."""
    if value.strip().lower() in PRESETS:
        return list(PRESETS[value.strip().lower()])
    labels = [part.strip() for part in value.split(",") if part.strip()]
    if len(labels) < 2 or len({label.lower() for label in labels}) != len(labels):
        raise ValueError(f"--labels needs at least two distinct labels separated by commas (or one of: "
                         f"{', '.join(PRESETS)}), got {value!r}")
    return labels


def _resume_hint(args: list[str], job_id: int) -> str:
    return "datagen annotate " + shlex.join(args) + f" --resume {job_id}"


def run_annotate(settings: Settings, input_path: Path, labels_text: str, output_path: Path, *,
                 text_column: str | None = None, descriptions: list[str] | None = None, instructions: str = "",
                 samples: int = 2, fmt: str | None = None, resume: int | None = None) -> int:
    from core.annotate import AnnotationOrder
    from core.annotate_export import AnnotationExportError, format_of
    from core.row_sources import ROW_SUFFIXES

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        return _fail(f"{input_path} is not a file", EXIT_USAGE)
    if input_path.suffix.lower() not in ROW_SUFFIXES:
        return _fail(f"cannot read {input_path.name}: use CSV, TSV, XLSX, JSON, JSONL or a .txt file with one "
                     "row per line", EXIT_USAGE)
    try:
        labels = parse_labels(labels_text)
        described = dict(_description(item, labels) for item in descriptions or [])
        output_format = format_of(output_path, fmt)
    except (ValueError, AnnotationExportError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    if output_path.resolve() == input_path.resolve():
        return _fail("the output would overwrite the input; choose another -o file", EXIT_USAGE)
    problem = _unwritable(output_path)
    if problem:
        return _fail(problem, EXIT_USAGE)
    order = AnnotationOrder(labels=labels, descriptions=described, instructions=instructions,
                            text_column=text_column, source_name=input_path.name, samples=samples)
    args = [str(input_path), "--labels", labels_text, "-o", str(output_path)]

    from storage.store import Store

    try:
        store = Store.from_url(settings.database_url)
    except Exception as exc:
        return _fail(f"cannot open the database ({settings.database_url.split('@')[-1]}): {_first_line(exc)}",
                     EXIT_FAILED)
    try:
        return _annotate(settings, store, input_path, output_path, output_format, order, resume, args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        store.close()


def _description(item: str, labels: list[str]) -> tuple[str, str]:
    label, sep, text = item.partition("=")
    if not sep or label.strip() not in labels:
        raise ValueError(f"--describe wants LABEL=description with one of the labels {labels}, got {item!r}")
    return label.strip(), text.strip()


def _annotate(settings: Settings, store: "Store", input_path: Path, output_path: Path, output_format: str,
              order: "AnnotationOrder", resume: int | None, args: list[str]) -> int:
    from core.annotate import KIND, AnnotationFailed, Annotator
    from core.annotate_export import export_annotations
    from core.llm import make_backend
    from core.row_sources import read_rows
    from core.uploads import UploadError

    if resume is not None:
        job = store.get_job(resume)
        if job is None or job.kind != KIND:
            return _fail(f"there is no annotation job {resume} in the database; run without --resume", EXIT_USAGE)
    try:
        llm = make_backend(settings)
    except Exception as exc:
        return _fail(f"cannot start the model: {_first_line(exc)}", EXIT_FAILED)
    _announce_model(llm)
    annotator = Annotator(llm, store, settings)
    if resume is None:
        job_id = annotator.create_job(order)
        print(f"job {job_id}: started; if interrupted, resume with: {_resume_hint(args, job_id)}", file=sys.stderr)
    else:
        job_id = resume
        order = annotator.order(job_id)
        print(f"job {job_id}: resuming", file=sys.stderr)
    try:
        total = annotator.load(job_id, read_rows(input_path))
    except UploadError as exc:
        from core.messages import text

        return _fail(text("en", exc.key, **exc.values), EXIT_USAGE)
    except AnnotationFailed as exc:
        return _fail(str(exc), EXIT_USAGE)
    order = annotator.order(job_id)
    print(f"job {job_id}: {total:,} rows to label", file=sys.stderr)

    outcome = _run(annotator, job_id, settings, args)
    if isinstance(outcome, int):
        return outcome
    if outcome.status != "done":
        return _fail(f"job {job_id} {outcome.status}: {plain(outcome.error)} (labels so far are kept; to continue: "
                     f"{_resume_hint(args, job_id)})", EXIT_FAILED)
    try:
        exported = export_annotations(store, job_id, order, output_path, output_format)
    except OSError as exc:
        return _fail(f"cannot write {output_path}: {_first_line(exc)}", EXIT_FAILED)
    parts = ", ".join(f"{label} {exported.per_label.get(label, 0)}" for label in order.labels)
    low = sum(exported.low_per_label.values())
    print(f"wrote {exported.path} ({exported.rows} rows: {parts})")
    print(f"low confidence: {low} rows in {exported.low_confidence_path}")
    print(f"card: {exported.card_path}")
    tokens = outcome.prompt_tokens + outcome.completion_tokens
    print(f"{outcome.requests} requests, {tokens:,} tokens, {outcome.elapsed:.1f} s")
    return EXIT_OK


def _run(annotator: "Annotator", job_id: int, settings: Settings, args: list[str]) -> "AnnotationResult | int":
    async def main() -> "AnnotationResult":
        try:
            return await _run_job(annotator, job_id, settings)
        finally:
            await annotator.llm.aclose()

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        counts = annotator.store.label_counts(job_id)
        labeled = sum(n for label, n in counts.items() if label is not None)
        print(f"\ninterrupted: job {job_id} stopped with {labeled} rows labeled. Resume with: "
              f"{_resume_hint(args, job_id)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return _fail(f"job {job_id} failed: {_first_line(exc)}", EXIT_FAILED)


async def _run_job(annotator: "Annotator", job_id: int, settings: Settings) -> "AnnotationResult":
    """The job with the progress display of `datagen generate`; SIGTERM stops it like Ctrl-C."""
    from rich.console import Console

    console = Console(stderr=True)
    display: _RichProgress | _PlainProgress = (
        _RichProgress(console) if console.is_terminal else _PlainProgress(sys.stderr, settings.progress_interval))
    if console.is_terminal and not logging.getLogger().handlers:
        from rich.logging import RichHandler

        logging.basicConfig(level=logging.WARNING, format="%(message)s",
                            handlers=[RichHandler(console=console, show_time=False, show_path=False)])
    task = asyncio.current_task()
    try:
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):
        pass
    last: list["JobProgress"] = []

    def on_progress(progress: "JobProgress") -> None:
        last[:] = [progress]
        display.update(progress)

    with display:
        try:
            return await annotator.run(job_id, on_progress=on_progress)
        finally:
            if last:
                display.update(last[0], force=True)
