"""`datagen generate SPEC -o FILE [--format ...] [--resume ID | --fresh]`: one dataset from a spec file, no chat.

Run again with the same spec and output after an interruption, it continues that command's
unfinished job (its rows are kept); `--fresh` starts a new job; `--resume ID` names a job.

Progress goes to stderr (a rich bar on a terminal, plain throttled lines when piped); the
final summary goes to stdout. Exit codes: 0 done, 1 the job or the model failed, 2 bad input
(spec, format, job id), 130 interrupted (the job can be resumed).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.progress import ProgressThrottle
from core.settings import Settings
from core.spec import DatasetSpec, OutputFormat, SpecError, TaskType, stored_spec
from core.stop_reasons import plain

if TYPE_CHECKING:  # the engine, storage and rich load after the spec is checked: bad input answers at once
    from rich.console import Console

    from core.generator import Generator, JobProgress, JobResult
    from core.llm import LLMBackend
    from storage.store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
#: How often the progress bar redraws on a terminal (the engine's callback interval there).
TTY_REFRESH_SECONDS = 0.2


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _label_name(label: str) -> str:
    return label or "rows"


class _PlainProgress:
    """One line per update, at most every `interval` seconds, and only when something changed."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self.stream = stream
        self.throttle = ProgressThrottle(interval)  # the one progress throttle (core/progress.py)

    def __enter__(self) -> "_PlainProgress":
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, progress: JobProgress, *, force: bool = False) -> None:
        if not force and self.throttle.wait() > 0:
            return  # too soon: not even worth building the line
        per_label = ", ".join(
            f"{label} {min(progress.accepted.get(label, 0), quota)}/{quota}"
            for label, quota in progress.quotas.items() if label
        )
        tokens = progress.prompt_tokens + progress.completion_tokens
        line = (f"job {progress.job_id}: {progress.done}/{progress.total} rows"
                + (f" ({per_label})" if per_label else "")
                + f"; {progress.rejected} rejected; {tokens:,} tokens")
        if _waiting(progress):
            line += f"; {_waiting(progress)}"
        if self.throttle.should_send(line, final=force):
            print(line, file=self.stream, flush=True)


class _RichProgress:
    """A bar per label plus the total, with tokens used; drawn on stderr."""

    def __init__(self, console: "Console") -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "_RichProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(*exc)  # type: ignore[arg-type]

    def update(self, progress: JobProgress, *, force: bool = False) -> None:
        if not self._tasks:
            for label, quota in progress.quotas.items():
                if len(progress.quotas) > 1:
                    self._tasks[label] = self._progress.add_task(_label_name(label), total=quota, info="")
            self._tasks["\0total"] = self._progress.add_task("total", total=progress.total, info="")
        for label, quota in progress.quotas.items():
            if label in self._tasks:
                self._progress.update(self._tasks[label], completed=min(progress.accepted.get(label, 0), quota))
        tokens = progress.prompt_tokens + progress.completion_tokens
        info = _waiting(progress) or f"{tokens:,} tokens · {progress.rejected} rejected · {progress.duplicates} duplicates"
        self._progress.update(self._tasks["\0total"], completed=progress.done, info=info)


def _unwritable(path: Path) -> str | None:
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the folder {folder}: {exc.strerror or exc}"
    if not os.access(folder, os.W_OK):
        return f"cannot write to the folder {folder}: permission denied"
    return None


def _waiting(progress: JobProgress) -> str:
    """"waiting for the model (40 s without an answer; gives up after 180 s)", or "" while answers come."""
    if not progress.waiting_seconds:
        return ""
    shown = int(progress.waiting_seconds) // 5 * 5 or int(progress.waiting_seconds)  # steps of 5 s: fewer lines
    return f"waiting for the model ({shown} s without an answer; gives up after {progress.waiting_limit:g} s)"


def command_key(spec: DatasetSpec, output_path: Path) -> str:
    """Names the job of `datagen generate SPEC -o OUT`: the same spec to the same file is the same job."""
    text = f"generate\n{output_path.resolve()}\n{spec.to_json()}"
    return "generate:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _resume_hint(spec_path: Path, output_path: Path, job_id: int) -> str:
    return f"datagen generate {spec_path} -o {output_path} --resume {job_id}"


def _announce_model(llm: LLMBackend) -> None:
    print(f"model: {llm.description}", file=sys.stderr)
    if llm.is_local:
        print(
            "warning: this is a small model running on this computer; its rows are often unusable (wrong "
            "language, repeated, garbled or wrongly labeled). For usable data, "
            "set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server such as vLLM, Ollama "
            "or a llama.cpp server) and run again.",
            file=sys.stderr,
        )


async def _run_job(generator: Generator, job_id: int, settings: Settings) -> JobResult:
    """Run the job with progress; SIGTERM stops it like Ctrl-C (rows kept, job resumable)."""
    from rich.console import Console

    console = Console(stderr=True)
    display: _RichProgress | _PlainProgress = (
        _RichProgress(console) if console.is_terminal else _PlainProgress(sys.stderr, settings.progress_interval)
    )
    if console.is_terminal and not logging.getLogger().handlers:
        from rich.logging import RichHandler

        # The engine's warnings (retries, failed requests) print above the bars instead of through them.
        logging.basicConfig(level=logging.WARNING, format="%(message)s",
                            handlers=[RichHandler(console=console, show_time=False, show_path=False)])
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    try:
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
        pass
    last: list[JobProgress] = []

    def on_progress(progress: JobProgress) -> None:
        last[:] = [progress]
        display.update(progress)

    with display:
        try:
            return await generator.run(job_id, on_progress=on_progress)
        finally:
            if last:
                display.update(last[0], force=True)


def run_generate(
    settings: Settings,
    spec_path: Path,
    output_path: Path,
    fmt: str | None,
    resume_job_id: int | None,
    documents: Path | None = None,
    fresh: bool = False,
) -> int:
    spec_path, output_path = Path(spec_path), Path(output_path)
    if fresh and resume_job_id is not None:
        return _fail("--fresh starts a new job and --resume continues one: give only one of them", EXIT_USAGE)
    try:
        spec = DatasetSpec.load(spec_path, max_count=settings.max_count)
    except SpecError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if documents is not None or spec.task == TaskType.documents:
        spec_or_code = _with_documents(spec, documents, resume_job_id)
        if isinstance(spec_or_code, int):
            return spec_or_code
        spec = spec_or_code
    from core.export import ExportError, format_for_path
    from storage.store import Store

    if output_path.is_dir():
        return _fail(f"{output_path} is a directory; give a file name such as {output_path / 'dataset.csv'}",
                     EXIT_USAGE)
    try:
        output_format = format_for_path(output_path, spec.format, fmt)
    except ExportError as exc:
        return _fail(str(exc), EXIT_USAGE)
    problem = _unwritable(output_path)
    if problem:  # find out before spending tokens, not after
        return _fail(problem, EXIT_USAGE)

    try:
        store = Store.from_url(settings.database_url)
    except Exception as exc:  # a bad DATABASE_URL or an unreachable server: one line, not a traceback
        return _fail(f"cannot open the database ({settings.database_url.split('@')[-1]}): {_first_line(exc)}",
                     EXIT_FAILED)
    try:
        return _generate(settings, store, spec, spec_path, output_path, output_format, resume_job_id, fresh)
    except KeyboardInterrupt:  # outside the job (starting the model, writing the file): nothing to resume yet
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        store.close()


def _with_documents(spec: DatasetSpec, folder: Path | None, resume_job_id: int | None) -> DatasetSpec | int:
    """The spec with the passages of the documents in `folder` (task documents only)."""
    from core.documents.convert import DocumentError, read_folder

    if spec.task != TaskType.documents:
        return _fail(f"--documents is for task documents (questions from your documents), not {spec.task.value}",
                     EXIT_USAGE)
    if folder is None:
        if resume_job_id is not None:
            return spec  # the job has its passages
        return _fail("task documents needs the documents: add --documents FOLDER (PDF, DOCX, Markdown, HTML, TXT)",
                     EXIT_USAGE)
    try:
        passages = read_folder(Path(folder))
    except DocumentError as exc:
        return _fail(str(exc), EXIT_USAGE)
    documents = len({passage.document for passage in passages})
    print(f"documents: {documents} file(s), {len(passages)} passages", file=sys.stderr)
    return spec.model_copy(update={"passages": passages})


def _generate(
    settings: Settings,
    store: Store,
    spec: DatasetSpec,
    spec_path: Path,
    output_path: Path,
    output_format: OutputFormat,
    resume_job_id: int | None,
    fresh: bool,
) -> int:
    from core.export import ExportError, export_job
    from core.generator import Generator
    from core.llm import make_backend

    key = command_key(spec, output_path)
    continuing = False
    if resume_job_id is None and not fresh:
        previous = store.job_for_key(key)
        if previous is not None and previous.status != "done":  # interrupted, killed, failed or cancelled
            resume_job_id, continuing = previous.id, True
    job = store.get_job(resume_job_id) if resume_job_id is not None else None
    if resume_job_id is not None:
        if job is None:
            return _fail(f"there is no job {resume_job_id} in the database; run without --resume to start one",
                         EXIT_USAGE)
        if job.kind != "dataset":
            return _fail(f"job {resume_job_id} is a {job.kind}, not a dataset", EXIT_USAGE)
        job_spec = stored_spec(job.spec_json)
        same = (job_spec.model_dump(exclude={"passages"}) == spec.model_dump(exclude={"passages"})
                and spec.passages in (None, job_spec.passages))  # resuming a documents job needs no folder
        if not same:
            print(f"note: job {resume_job_id} was ordered with a different spec; it resumes as it was ordered",
                  file=sys.stderr)
        spec = job_spec

    result: JobResult | None = None  # None: the resumed job was already done, export what is stored
    if job is None or job.status != "done":
        try:
            llm = make_backend(settings)
        except Exception as exc:  # no model file, llama.cpp missing, bad base URL: say it in one line
            return _fail(f"cannot start the model: {_first_line(exc)}", EXIT_FAILED)
        _announce_model(llm)
        generator = Generator(llm, store, settings)
        if resume_job_id is not None:
            job_id = resume_job_id
            if continuing:
                stored = min(sum(store.accepted_counts(job_id).values()), spec.count or 0)
                print(f"job {job_id}: continuing this command's unfinished job ({stored}/{spec.count} rows "
                      f"already stored); add --fresh to start over", file=sys.stderr)
            else:
                print(f"job {job_id}: resuming", file=sys.stderr)
            store.reopen_job(job_id)  # asked for explicitly: a stopped (cancelled/failed) job goes on
        else:
            job_id = generator.create_job(spec, key=key)
            print(f"job {job_id}: started ({spec.count} rows); if interrupted, resume with: "
                  f"{_resume_hint(spec_path, output_path, job_id)}", file=sys.stderr)
        outcome = _run(generator, llm, job_id, settings, spec_path, output_path)
        if isinstance(outcome, int):
            return outcome
        if outcome.status != "done":
            return _fail(
                f"job {job_id} {outcome.status}: {plain(outcome.error) or 'no reason given'} (rows so far are kept; "
                f"to try again: {_resume_hint(spec_path, output_path, job_id)})",
                EXIT_FAILED,
            )
        result = outcome
    else:
        assert resume_job_id is not None
        job_id = resume_job_id
        print(f"job {job_id} is already done; exporting its rows", file=sys.stderr)

    try:
        exported = export_job(store, job_id, output_path, output_format)
    except (OSError, ExportError) as exc:
        return _fail(f"cannot write {output_path}: {_first_line(exc)}", EXIT_FAILED)
    _summary(store, spec, job_id, exported.path, exported.card_path, exported.rows, result)
    _trust_summary(store, spec, job_id, exported.path, settings)
    return EXIT_OK


def _trust_summary(store: Store, spec: DatasetSpec, job_id: int, path: Path, settings: Settings) -> None:
    """The chart beside the dataset and the variety line; the dataset is written already, so a
    chart that cannot be written is a warning, not a failure."""
    from core.export import write_chart, variety_of

    try:
        print(f"chart: {write_chart(store, job_id, path)}")
    except OSError as exc:
        print(f"warning: cannot write the chart beside {path}: {_first_line(exc)}", file=sys.stderr)
    print(variety_of(store, job_id, spec, settings).summary("en"))


def _run(
    generator: Generator, llm: LLMBackend, job_id: int, settings: Settings, spec_path: Path, output_path: Path
) -> JobResult | int:
    from storage.leases import JobClaimedElsewhere

    async def main() -> JobResult:
        try:
            return await _run_job(generator, job_id, settings)
        finally:
            await llm.aclose()

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        counts = generator.store.accepted_counts(job_id)
        print(
            f"\ninterrupted: job {job_id} stopped with {sum(counts.values())} rows stored. "
            f"Resume with: {_resume_hint(spec_path, output_path, job_id)}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except JobClaimedElsewhere as exc:  # another process generates it: say so, touch nothing
        return _fail(str(exc), EXIT_FAILED)
    except Exception as exc:
        return _fail(f"job {job_id} failed: {_first_line(exc)}", EXIT_FAILED)


def _summary(
    store: Store, spec: DatasetSpec, job_id: int, path: Path, card_path: Path, rows: int,
    result: JobResult | None,
) -> None:
    counts = store.accepted_counts(job_id)
    parts = [f"{label} {counts.get(label, 0)}" for label in spec.quotas() if label]
    if rows > sum(counts.values()):
        parts.append(f"uploaded {rows - sum(counts.values())}")
    print(f"wrote {path} ({rows} rows" + (f": {', '.join(parts)})" if parts else ")"))
    print(f"card: {card_path}")
    if result is not None:
        tokens = result.prompt_tokens + result.completion_tokens
        print(f"{tokens:,} tokens, {result.duplicates} duplicates removed, "
              f"{sum(result.rejected.values())} rows rejected, {result.elapsed:.1f} s")
