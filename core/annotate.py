"""Annotation ("label my rows"): a user's rows in, the same rows out with `label` and `confidence`.

    annotator = Annotator(llm, store, settings)
    job_id = annotator.create_job(order)
    annotator.load(job_id, read_rows(path))           # streams the file into storage; resumable
    result = await annotator.run(job_id, on_progress)  # labels what is still unlabeled; cancel to stop
    annotator.export(job_id, out_path)                  # file order, every row once; + low-confidence file + card

- Every input row is stored with its position before labeling; labels are written in place as
  each batch is answered, so a kill loses at most the batches in flight and a resume labels only
  rows still without a label.
- One process labels a job at a time (core/job_lease.py, as a dataset is generated): a lease with
  heartbeat; every stored label is fenced by it, so a worker frozen past its lease and replaced
  by another stops without writing (nor sending) more.
- Labeling is core.classify (ids, re-asks, two samples for confidence), as many requests in
  flight as the backend's adaptive limit allows (or DATAGEN_CONCURRENCY), rows read from storage a batch at a time: memory does not grow with the file.
- The chat flow (preview of ~10 rows, corrections as few-shot) uses the same pieces: `preview`
  labels a few rows without storing them; corrections go into `AnnotationOrder.examples`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from core.classify import BatchResult, Classifier, ClassifyTask, Item, one_line
from core.concurrency import JobConcurrency
from core.generation.progress import ProgressReporter
from core.generation.writer import outcome_read
from core.job_lease import RunLease
from core.llm import LLMBackend, LLMError
from core.settings import Settings
from core.stop_reasons import llm_stop, stop
from core.store_port import AnnotationStore, LeaseLost, RowToLabel
from core.vocabulary import JobProgress, ProgressCallback

log = logging.getLogger(__name__)

KIND = "annotation"
#: Rows stored per transaction while loading the file.
LOAD_CHUNK = 1000
#: Passes over the rows still unlabeled (a row whose answers kept skipping it gets another chance).
MAX_PASSES = 3
MAX_CONSECUTIVE_ERRORS = 5
#: Batches read from storage per query (rows waiting in memory: at most this many batches more).
PAGE_BATCHES = 16


class AnnotationOrder(BaseModel):
    """What to label and how; stored as the job's spec so a resume labels the same way."""

    labels: list[str]
    descriptions: dict[str, str] = {}
    instructions: str = ""
    examples: list[tuple[str, str]] = []  # (text, label): corrections from the chat preview
    text_column: str | None = None  # None: guessed from the first row
    source_name: str = ""
    samples: int = 2
    columns: list[str] = []  # every column seen, in order of appearance (set while loading)
    loaded: bool = False  # the whole file is in storage

    def task(self) -> ClassifyTask:
        return ClassifyTask(labels=tuple(self.labels), instructions=self.instructions,
                            descriptions=dict(self.descriptions), examples=tuple(self.examples))


class AnnotationFailed(Exception):
    """Stops an annotation job with a message for the user."""


@dataclass
class AnnotationResult:
    job_id: int
    status: str  # done | failed | cancelled
    error: str | None
    total: int
    labeled: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    elapsed: float


class Annotator:
    def __init__(self, llm: LLMBackend, store: AnnotationStore, settings: Settings, *, batch_size: int | None = None) -> None:
        self.llm = llm
        self.store = store
        self.settings = settings
        self.slots = JobConcurrency(llm, settings)  # as the engine's (core/generation/requests.py)
        self.limiter = self.slots.limiter
        self.batch_size = batch_size or max(llm.batch_size or settings.batch_size, 20 if not llm.is_local else 5)
        self._db_lock = threading.Lock()

    @property
    def concurrency(self) -> int:
        """Batches to have in flight now (each waits for one request at a time)."""
        return self.slots.current

    def _classifier(self, samples: int, lease: RunLease | None = None) -> Classifier:
        # The batches in flight bound the requests; the classifier's own limit stays out of the way.
        # A job's run asks only while it holds the job (a second sample, a re-ask included).
        return Classifier(self.llm, batch_size=self.batch_size, concurrency=1024, samples=samples,
                          before_request=lease.confirm if lease is not None else None)

    # --- jobs and loading ---------------------------------------------------------------------

    def create_job(self, order: AnnotationOrder) -> int:
        return self.store.create_job(order.model_dump_json(), kind=KIND, model=getattr(self.llm, "description", ""))

    def order(self, job_id: int) -> AnnotationOrder:
        job = self.store.get_job(job_id)
        if job is None or job.kind != KIND:
            raise KeyError(f"job {job_id} is not an annotation job")
        return AnnotationOrder.model_validate_json(job.spec_json)

    def load(self, job_id: int, rows: Iterable[dict[str, Any]]) -> int:
        """Store the file's rows (skipping those a killed earlier load already stored); returns
        how many rows the job has. Raises AnnotationFailed when no text column can be found."""
        order = self.order(job_id)
        if order.loaded:
            return self.store.annotation_row_count(job_id)
        stored = self.store.annotation_row_count(job_id)  # chunks are atomic: rows 0..stored-1 are in
        columns = list(order.columns)
        chunk: list[tuple[int, dict[str, Any], str]] = []
        position = -1
        for position, row in enumerate(rows):
            for key in row:
                if key not in columns:
                    columns.append(key)
            if position == 0 and order.text_column is None:
                from core.row_sources import guess_text_column

                order.text_column = guess_text_column(list(row))
                if order.text_column is None:
                    raise AnnotationFailed(f"which column holds the text? The file has {', '.join(map(str, row))}; "
                                           "name it with --text-column")
            elif position == 0 and order.text_column not in row:
                raise AnnotationFailed(f"the file has no column {order.text_column!r}; it has "
                                       f"{', '.join(map(str, row))}")
            if position < stored:
                continue
            value = row.get(order.text_column)
            chunk.append((position, row, "" if value is None else str(value)))
            if len(chunk) >= LOAD_CHUNK:
                self.store.add_annotation_rows(job_id, chunk)
                chunk = []
        self.store.add_annotation_rows(job_id, chunk)
        if position < 0 and stored == 0:
            raise AnnotationFailed("the file has no rows")
        order.columns, order.loaded = columns, True
        self.store.update_job(job_id, spec_json=order.model_dump_json())
        return self.store.annotation_row_count(job_id)

    # --- labeling -----------------------------------------------------------------------------

    async def preview(self, order: AnnotationOrder, texts: list[str]) -> BatchResult:
        """Label a few rows (the chat's preview) without storing anything."""
        classifier = self._classifier(order.samples)
        return await classifier.classify([Item(str(i), text) for i, text in enumerate(texts)], order.task())

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None) -> AnnotationResult:
        """Label every unlabeled row. Cancel the task to stop (Ctrl-C, SIGTERM): labels stored so
        far stay, the job goes back to "pending" (resumable) and CancelledError propagates. A job
        the user cancelled (store.cancel_job) is not run: status "cancelled". One process at a
        time labels a job, as one generates a dataset (core/job_lease.py): JobBusy when another
        holds it, LeaseLost when another took it over meanwhile (nothing more is written)."""
        started = time.monotonic()
        lease = RunLease(self.store, job_id, ttl=self.settings.lease_seconds)
        async with lease.hold():
            return await self._run_held(job_id, lease, on_progress, started)

    async def _run_held(self, job_id: int, lease: RunLease, on_progress: ProgressCallback | None,
                        started: float) -> AnnotationResult:
        order = await asyncio.to_thread(self.order, job_id)
        total = await asyncio.to_thread(self.store.annotation_row_count, job_id)
        counts = await asyncio.to_thread(self.store.label_counts, job_id)
        state = _RunState(job_id=job_id, total=total, labeled=total - counts.get(None, 0), lease=lease)
        reporter = ProgressReporter(on_progress, self.settings.progress_interval)
        classifier = self._classifier(order.samples, lease)
        status, error = "done", None
        if not await asyncio.to_thread(self.store.start_job, job_id, model=getattr(self.llm, "description", "")):
            return await self._result(state, "cancelled", None)
        try:
            for _ in range(MAX_PASSES):
                if state.labeled >= total:
                    break
                await self._pass(state, classifier, order.task(), reporter)
            if state.labeled < total:
                raise AnnotationFailed(stop("rows_unanswered", f"{total - state.labeled} rows got no usable answer; "
                                            "run again to retry them", rows=total - state.labeled))
        except asyncio.CancelledError:
            if lease.lost is not None:
                raise  # another process took the job over: write nothing (RunLease.hold() says LeaseLost)
            self._write_now(state)  # answers already in are stored before the job is marked
            lease.stop_heartbeat()
            self._finish(state, "pending", None, time.monotonic() - started)  # interrupted, resumable
            raise
        except AnnotationFailed as exc:
            status, error = "failed", str(exc)
        lease.stop_heartbeat()  # before the final status releases the lease
        await asyncio.to_thread(self._finish, state, status, error, time.monotonic() - started)
        await reporter.report(state.progress(), force=True)
        return await self._result(state, status, error)

    async def _result(self, state: "_RunState", status: str, error: str | None) -> AnnotationResult:
        job = await asyncio.to_thread(self.store.get_job, state.job_id)
        assert job is not None
        return AnnotationResult(state.job_id, status, error, state.total, state.labeled, job.requests,
                                job.prompt_tokens, job.completion_tokens, job.elapsed_seconds)

    async def _pass(self, state: "_RunState", classifier: Classifier, task: ClassifyTask,
                    reporter: ProgressReporter) -> None:
        """One walk over the unlabeled rows, in file order, `concurrency` batches at a time."""
        tasks: set[asyncio.Task[None]] = set()
        after, exhausted = -1, False
        queued: list[RowToLabel] = []
        page = self.batch_size * PAGE_BATCHES
        try:
            while True:
                while not exhausted and len(tasks) < self.concurrency:
                    if not queued:  # one query per page, not per batch: the loop would wait on it
                        queued = await asyncio.to_thread(self.store.unlabeled_rows, state.job_id, after=after,
                                                         limit=page)
                        if not queued:
                            exhausted = True
                            break
                        after = queued[-1].position
                    rows, queued = queued[: self.batch_size], queued[self.batch_size :]
                    tasks.add(asyncio.create_task(self._label(state, classifier, task, rows)))
                if not tasks:
                    break  # not return: the answers still being committed must land before the job ends
                done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                # Every finished batch's outcome is read (as the generator's request loop does):
                # two failing at once left one "never retrieved", logged later by the collector.
                failures = [finished.exception() for finished in done]
                failure = next((exc for exc in failures if exc is not None), None)
                if failure is not None:
                    raise failure  # AnnotationFailed and bugs propagate from here
                self._check_writer(state)
                await reporter.report(state.progress())
        finally:
            for pending in tasks:
                pending.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        while state.writer is not None and not state.writer.done():
            await asyncio.shield(state.writer)
        self._check_writer(state)

    async def _label(self, state: "_RunState", classifier: Classifier, task: ClassifyTask,
                     rows: list[RowToLabel]) -> None:
        items = [Item(str(row.id), one_line(row.text)) for row in rows]
        try:
            result = await classifier.classify_batch(items, task)
        except LLMError as exc:
            state.consecutive_errors += 1
            log.warning("annotation job %s: request failed: %s", state.job_id, exc)
            if state.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                raise AnnotationFailed(llm_stop(exc, state.consecutive_errors)) from exc
            return
        state.consecutive_errors = 0
        labels = [(int(item_id), verdict.label, verdict.confidence, verdict.other)
                  for item_id, verdict in result.verdicts.items()]
        state.pending += labels
        state.pending_usage[0] += result.requests
        state.pending_usage[1] += result.usage.prompt_tokens
        state.pending_usage[2] += result.usage.completion_tokens
        if state.writer is None or state.writer.done():
            self._check_writer(state)
            state.writer = asyncio.create_task(self._write_pending(state))
            state.writer.add_done_callback(outcome_read)
        state.labeled += len(labels)
        state.prompt_tokens += result.usage.prompt_tokens
        state.completion_tokens += result.usage.completion_tokens
        state.requests += result.requests

    async def _write_pending(self, state: "_RunState") -> None:
        """Commit the answered labels; batches answered during a commit go into the next one
        together (group commit: at 64 requests in flight, one commit per batch costs CPU)."""
        while state.pending or any(state.pending_usage):
            labels, usage = state.take_pending()
            # Shielded: a cancel must not drop answers already paid for while they are stored.
            await asyncio.shield(asyncio.ensure_future(asyncio.to_thread(self._write, state, labels, usage)))

    def _write_now(self, state: "_RunState") -> None:
        labels, usage = state.take_pending()
        if labels or any(usage):
            self._write(state, labels, usage)

    @staticmethod
    def _check_writer(state: "_RunState") -> None:
        writer = state.writer
        if writer is not None and writer.done() and not writer.cancelled() and writer.exception() is not None:
            if isinstance(writer.exception(), LeaseLost):
                raise writer.exception()  # type: ignore[misc]  # another process took the job: as itself
            raise AnnotationFailed(stop("storage_failed", f"could not store labels: {writer.exception()}"))

    def _write(self, state: "_RunState", labels: list[tuple[int, str, str, str | None]], usage: list[int]) -> None:
        with self._db_lock:  # fenced by the run's lease: LeaseLost, nothing stored, once another took the job
            self.store.set_labels(state.job_id, labels, requests=usage[0], prompt_tokens=usage[1],
                                  completion_tokens=usage[2], owner=state.lease.owner,
                                  lease_seconds=state.lease.ttl)

    def _finish(self, state: "_RunState", status: str, error: str | None, elapsed: float) -> None:
        with self._db_lock:
            self.store.finish_job(state.job_id, status, error=error, elapsed=elapsed, owner=state.lease.owner)


@dataclass
class _RunState:
    job_id: int
    total: int
    labeled: int
    lease: RunLease
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    consecutive_errors: int = 0
    pending: list[tuple[int, str, str, str | None]] = field(default_factory=list)  # answered, not yet committed
    pending_usage: list[int] = field(default_factory=lambda: [0, 0, 0])  # requests, prompt, completion tokens
    writer: "asyncio.Task[None] | None" = None

    def take_pending(self) -> tuple[list[tuple[int, str, str, str | None]], list[int]]:
        labels, usage = self.pending, self.pending_usage
        self.pending, self.pending_usage = [], [0, 0, 0]
        return labels, usage

    def progress(self) -> JobProgress:
        # The engine's progress record, so the displays of `datagen generate` show it as they are.
        return JobProgress(job_id=self.job_id, accepted={"": self.labeled}, quotas={"": self.total}, rejected=0,
                           duplicates=0, prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens,
                           requests=self.requests)
