"""Where a job is generated: the seam between the conversation and the engine.

    runner = make_runner(settings, store, generator_factory)
    result = await runner.run(job_id, on_progress, user="U1")   # progress callbacks, then the result
    await runner.cancel(job_id)                                   # the user pressed Cancel

- `InProcessRunner` (the default, SQLite or PostgreSQL): the job runs in this process's event loop.
  Cancelling the awaiting task cancels the job.
- `QueueRunner` (`DATAGEN_WORKERS=external`, PostgreSQL): the job is handed to the procrastinate
  queue (core/queue.py) and a `datagen worker` process, on any machine, generates it; this process
  follows it in the database (rows stored, status) and reports progress, so the chat that owns
  the conversation delivers the file whichever worker made it. Cancelling the awaiting task only
  stops following (a restart of the chat process must not stop the job); `cancel()` stops the job,
  from any replica (the worker checks the job's stored status every second).
  One replica follows a job at a time (storage/follows.py): `adopt()` takes it (a new job, or one
  whose follower stopped renewing: scaled down, killed), and `claim_report()` grants reporting
  its end (the file) once, so no chat gets the file twice however many replicas run.
  It takes annotation jobs too ("label my rows", core/annotate.py: a worker labels the stored rows
  in place), followed by the same loop; only what progress and the result are differs per kind
  (`_DatasetView`, `_AnnotationView`). In process, the dialog runs those with its own Annotator
  (core/conversation/background.py).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from core.generator import Generator, JobClaimedElsewhere, JobProgress, JobResult, ProgressCallback
from core.settings import Settings
from core.spec import stored_spec
from core.store_port import AnnotationStore, StoredJob, new_owner

log = logging.getLogger(__name__)

FINISHED = ("done", "failed", "cancelled")


class JobRunner(Protocol):
    #: True when `run` generates in this process (a bot resuming after a restart then skips jobs
    #: another live process holds); False when workers generate and this process only follows.
    runs_here: bool

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None, *, user: str = "") -> JobResult: ...

    async def cancel(self, job_id: int) -> bool: ...

    async def adopt(self, job_id: int) -> bool:
        """Become the one process that follows and reports this job; False if another does."""
        ...

    async def claim_report(self, job_id: int) -> bool:
        """True once per job: this process reports its end (the file, the failure)."""
        ...

    async def aclose(self) -> None: ...


class FollowedElsewhere(JobClaimedElsewhere):
    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id} is followed by another chat process")


class InProcessRunner:
    runs_here = True

    def __init__(self, generator: Callable[[], Awaitable[Generator]]) -> None:
        self._generator = generator

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None, *, user: str = "") -> JobResult:
        return await (await self._generator()).run(job_id, on_progress)

    async def cancel(self, job_id: int) -> bool:
        """Nothing to do: cancelling the task awaiting `run` cancels the job."""
        return False

    async def adopt(self, job_id: int) -> bool:
        return True  # the generation lease (storage/leases.py) decides who runs it

    async def claim_report(self, job_id: int) -> bool:
        return True  # the process that generated the job reports it

    async def aclose(self) -> None:
        """The generator belongs to the dialog."""


class QueueRunner:
    runs_here = False

    def __init__(self, settings: Settings, store: AnnotationStore, *, poll_interval: float = 1.0) -> None:
        from core.queue import JobQueue  # procrastinate: only when workers are external

        self.settings = settings
        self.store = store
        self.queue = JobQueue(settings.database_url)
        self.poll_interval = poll_interval
        self.owner = new_owner()  # this process, as the follower of its jobs
        self.follow_ttl = settings.lease_seconds

    async def adopt(self, job_id: int) -> bool:
        return await asyncio.to_thread(self.store.follow_job, job_id, self.owner, ttl=self.follow_ttl)

    async def claim_report(self, job_id: int) -> bool:
        return await asyncio.to_thread(self.store.claim_report, job_id, self.owner)

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None, *, user: str = "") -> JobResult:
        """Queue the job (unless queued or finished) and follow it until it ends; FollowedElsewhere
        when another replica follows it (or took it over while this one was frozen)."""
        if not await self.adopt(job_id):
            raise FollowedElsewhere(job_id)
        try:
            return await self._follow(job_id, on_progress, user)
        except asyncio.CancelledError:
            # Shutdown (or the user's Cancel here): another replica may take the job over at once.
            await asyncio.shield(asyncio.to_thread(self.store.release_follow, job_id, self.owner))
            raise

    async def _keep_following(self, job_id: int, renewed: float) -> float:
        """Renew the follower lease every third of its time; FollowedElsewhere once it was lost."""
        if time.monotonic() - renewed <= self.follow_ttl / 3:
            return renewed
        if not await asyncio.to_thread(self.store.renew_follow, job_id, self.owner, ttl=self.follow_ttl):
            raise FollowedElsewhere(job_id)
        return time.monotonic()

    async def _follow(self, job_id: int, on_progress: ProgressCallback | None, user: str) -> JobResult:
        """Queue the job unless it ended, then report its progress (when it changed) until it ends."""
        job = await asyncio.to_thread(self.store.get_job, job_id)
        if job is None:
            raise KeyError(f"job {job_id} does not exist")
        view = await asyncio.to_thread(_view_of, self.store, job)
        if job.status not in FINISHED:
            await self.queue.submit(job_id, rows=view.rows, user=user, per_user=self.settings.max_jobs_per_user,
                                    max_wait=self.settings.queue_max_wait)
        last_done = -1
        renewed = time.monotonic()
        while True:
            renewed = await self._keep_following(job_id, renewed)
            job = await asyncio.to_thread(self.store.get_job, job_id)
            assert job is not None
            progress = await asyncio.to_thread(view.progress, job)
            if on_progress is not None and (progress.done != last_done or job.status in FINISHED):
                last_done = progress.done
                outcome = on_progress(progress)
                if inspect.isawaitable(outcome):
                    await outcome
            if job.status in FINISHED:
                return await asyncio.to_thread(view.result, job, progress)
            await asyncio.sleep(self.poll_interval)

    async def cancel(self, job_id: int) -> bool:
        """Mark the job cancelled (whichever replica follows it): the worker generating it sees that
        within a second and stops, its rows stay stored; a job still waiting in the queue is
        skipped when a worker takes it. False when it had ended already."""
        return await asyncio.to_thread(self.store.cancel_job, job_id)

    async def aclose(self) -> None:
        await self.queue.aclose()


class _DatasetView:
    """A dataset job as the follower sees it: rows accepted of rows ordered, per label."""

    def __init__(self, store: AnnotationStore, job: StoredJob) -> None:
        self.store = store
        self.quotas = dict(stored_spec(job.spec_json).quotas())
        self.rows = sum(self.quotas.values())

    def progress(self, job: StoredJob) -> JobProgress:
        assert job.id is not None
        counts = self.store.accepted_counts(job.id)
        return JobProgress(job_id=job.id, accepted={label: counts.get(label, 0) for label in self.quotas},
                           quotas=dict(self.quotas), rejected=0, duplicates=0, prompt_tokens=job.prompt_tokens,
                           completion_tokens=job.completion_tokens, requests=job.requests)

    def result(self, job: StoredJob, progress: JobProgress) -> JobResult:
        assert job.id is not None
        rejected = self.store.rejected_reasons(job.id)
        return JobResult(job_id=job.id, status=job.status, error=job.error, accepted=progress.accepted,
                         rejected=rejected,
                         duplicates=sum(n for reason, n in rejected.items() if reason in ("duplicate", "near-duplicate")),
                         prompt_tokens=job.prompt_tokens, completion_tokens=job.completion_tokens,
                         elapsed=job.elapsed_seconds)


class _AnnotationView:
    """An annotation job ("label my rows", core/annotate.py): its rows are stored, a worker labels
    them in place; progress is rows labeled of rows uploaded."""

    def __init__(self, store: AnnotationStore, job: StoredJob) -> None:
        assert job.id is not None
        self.store = store
        self.rows = store.annotation_row_count(job.id)

    def progress(self, job: StoredJob) -> JobProgress:
        assert job.id is not None
        done = self.rows - self.store.label_counts(job.id).get(None, 0)
        return JobProgress(job_id=job.id, accepted={"": done}, quotas={"": self.rows}, rejected=0, duplicates=0,
                           prompt_tokens=job.prompt_tokens, completion_tokens=job.completion_tokens,
                           requests=job.requests)

    def result(self, job: StoredJob, progress: JobProgress) -> JobResult:
        assert job.id is not None
        return JobResult(job_id=job.id, status=job.status, error=job.error, accepted=dict(progress.accepted),
                         rejected={}, duplicates=0, prompt_tokens=job.prompt_tokens,
                         completion_tokens=job.completion_tokens, elapsed=job.elapsed_seconds)


def _view_of(store: AnnotationStore, job: StoredJob) -> _DatasetView | _AnnotationView:
    """How the follower measures this kind of job (blocking: call in a thread)."""
    return _AnnotationView(store, job) if job.kind == "annotation" else _DatasetView(store, job)


def make_runner(settings: Settings, store: AnnotationStore, generator: Callable[[], Awaitable[Generator]]) -> JobRunner:
    if settings.workers == "external":
        if not settings.database_url.startswith(("postgres", "postgresql")):
            raise ValueError("DATAGEN_WORKERS=external needs DATABASE_URL to point at PostgreSQL (the job queue lives there)")
        return QueueRunner(settings, store)
    return InProcessRunner(generator)
