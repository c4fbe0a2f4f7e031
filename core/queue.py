"""Jobs handed to `datagen worker` processes through procrastinate, a PostgreSQL task queue.

Why procrastinate: a maintained PostgreSQL-only queue (no broker to run besides the database we
already need), asyncio-native, with priorities, per-key locks and worker heartbeats with
stalled-job detection: exactly the three things below, none of them written here.

- Fairness: small orders first, without starving large ones. A job's queue priority is minus
  the moment it may start at the latest, its "deadline": the time it was queued plus 10 ms a row,
  at most `DATAGEN_QUEUE_MAX_WAIT` (600 s). Of the jobs waiting, the earliest deadline is taken
  first: a 20-row order queued with a 100,000-row one goes first (0.2 s against 600 s), but orders
  queued more than that head start after the large one go after it, so a stream of small orders
  cannot hold a large one back for ever (plain "minus the row count" did).
- Per-user limit: each job carries one of `DATAGEN_MAX_JOBS_PER_USER` procrastinate locks of its
  user (job id modulo the limit); jobs sharing a lock never run at the same time, so one user
  has at most that many jobs generating.
- Kill safety: each worker sends a heartbeat; every worker looks, every few seconds, for jobs
  whose worker stopped sending them (SIGKILL, a lost machine) and puts them back in the queue.
  The next worker resumes the job from its stored rows. The job's lease (core/job_lease.py)
  makes sure that even then only one process generates or labels it; a worker that finds the
  job held by another live process tries again every third of the lease (RetryWhileHeld), so a
  job whose worker died on another machine before its lease ran out is still taken over.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import procrastinate
import psycopg
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from core.settings import Settings
from core.store_port import JobBusy, JobClaimedElsewhere, JobStore

log = logging.getLogger(__name__)

TASK = "datagen.generate_job"
QUEUE = "datagen"
#: The head start a row gives up: a waiting order lets through orders queued up to this many
#: seconds a row after it.
SECONDS_PER_ROW = 0.01
#: Priorities are whole seconds since this moment, so they fit procrastinate's 32-bit column for decades.
EPOCH = 1_767_225_600  # 2026-01-01 UTC


def priority(rows: int, *, queued_at: float, max_wait: float) -> int:
    """Minus the job's deadline (queued_at + its size's head start) in seconds since EPOCH:
    procrastinate takes the highest priority first, so the earliest deadline."""
    deadline = queued_at - EPOCH + min(rows * SECONDS_PER_ROW, max_wait)
    return -int(deadline)


def conninfo(database_url: str) -> str:
    """libpq form of a SQLAlchemy URL ("postgresql+psycopg://..." -> "postgresql://...")."""
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url[len(prefix):]
    return database_url


def ensure_schema(database_url: str) -> None:
    """Install procrastinate's tables once; concurrent starters wait on an advisory lock."""
    # psycopg, procrastinate's own driver, on the queue's own connection string; one transaction.
    with psycopg.connect(conninfo(database_url)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(4242001)")
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is None or row[0] is None:
            conn.execute(procrastinate.schema.SchemaManager.get_schema())  # no parameters: several statements


class RetryWhileHeld(procrastinate.BaseRetryStrategy):
    """A job another live process holds (JobBusy) is tried again every `seconds` until it ends:
    its holder may be a worker on another machine that died while its lease has not run out yet
    (the queue noticed the silence first). Returning at once, as before, left such a job with no
    worker at all. Any other failure is not retried (the job's status says what happened)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> procrastinate.RetryDecision | None:
        if isinstance(exception, JobBusy):
            return procrastinate.RetryDecision(retry_in={"seconds": self.seconds})
        return None


class _HeldJobRetryInOneLine(logging.Filter):
    """procrastinate logs every retry with the exception's traceback (it has no setting for it);
    a job held by another process is expected, not a fault: its message says everything."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if getattr(record, "action", None) == "job_error_retry" and isinstance(error, JobBusy):
            record.msg, record.args = f"{record.getMessage()} ({error})", ()
            record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE = _HeldJobRetryInOneLine()

_HOLDER = "SELECT worker_id, status FROM procrastinate_jobs WHERE id = %(job_id)s"


class _OwnJobsOnly(procrastinate.manager.JobManager):
    """Ends (finishes, retries) a queue job only while the worker that fetched it still holds it.
    A worker frozen past its heartbeat (SIGSTOP, a suspended VM) finds, when it wakes, that its
    queue job was put back and taken by another worker (its run ended with the lease lost): ending
    it then failed in procrastinate's SQL with "Job was not found ..." (a traceback, logged as a
    task exception nobody retrieved) or, worse, ended the job the other worker was still running
    (a later stall of that one could then not put it back). Subclassed: procrastinate has no hook."""

    async def still_held(self, job: Any, doing: str) -> bool:
        if job.id is None or job.worker_id is None:  # not fetched by a worker: procrastinate decides
            return True
        rows = await self.connector.execute_query_all_async(query=_HOLDER, job_id=job.id)  # [] once deleted
        if rows and rows[0]["worker_id"] == job.worker_id and rows[0]["status"] == "doing":
            return True
        log.info("queue job %s (datagen job %s): no longer held by the worker that took it (taken over by another "
                 "worker while that one was stalled, or requeued already); not %s it", job.id,
                 job.task_kwargs.get("job_id"), doing)
        return False

    async def finish_job(self, job: Any, status: Any, delete_job: bool) -> None:
        if await self.still_held(job, "finishing"):
            try:
                await super().finish_job(job, status, delete_job)
            except ConnectorException as exc:
                _unless_taken_over(exc, job, "finishing")

    async def retry_job(self, job: Any, retry_at: Any = None, priority: int | None = None, queue: str | None = None,
                        lock: str | None = None) -> None:
        if await self.still_held(job, "retrying"):
            try:
                await super().retry_job(job, retry_at, priority, queue, lock)
            except ConnectorException as exc:
                _unless_taken_over(exc, job, "retrying")


def _unless_taken_over(exc: ConnectorException, job: Any, doing: str) -> None:
    """Raise `exc` unless it is procrastinate's "Job was not found" (another worker ended or took the
    job between the check and the update, a sweeper requeued it first)."""
    if "Job was not found" not in str(exc.__cause__):
        raise exc
    log.info("queue job %s (datagen job %s): ended or requeued by another worker meanwhile; not %s it",
             job.id, job.task_kwargs.get("job_id"), doing)


def make_app(database_url: str, *, busy_retry: float = 10.0) -> procrastinate.App:
    """`busy_retry`: seconds between tries of a job another process holds (a third of the lease)."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(database_url)))
    app.job_manager = _OwnJobsOnly(app.connector)
    app.task(name=TASK, queue=QUEUE, pass_context=False, retry=RetryWhileHeld(busy_retry))(_generate_job)
    logging.getLogger("procrastinate.worker").addFilter(_ONE_LINE)  # once: the same filter object
    return app


class JobQueue:
    """The chat side: hand a job to the workers."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.app = make_app(database_url)
        self._opened = False

    async def submit(self, job_id: int, *, rows: int, user: str, per_user: int, max_wait: float = 600.0,
                     queued_at: float | None = None) -> None:
        if not self._opened:
            await asyncio.to_thread(ensure_schema, self.database_url)
            await self.app.open_async()
            self._opened = True
        slot = job_id % max(1, per_user)
        try:
            await self.app.configure_task(
                TASK, priority=priority(rows, queued_at=time.time() if queued_at is None else queued_at,
                                        max_wait=max_wait),
                lock=f"user:{user or 'anonymous'}:{slot}", queueing_lock=f"job:{job_id}",
            ).defer_async(job_id=job_id)
        except AlreadyEnqueued:  # waiting in the queue already (a chat process restarted)
            pass

    async def aclose(self) -> None:
        if self._opened:
            await self.app.close_async()
            self._opened = False


# --- the worker side --------------------------------------------------------------------------

class _Worker:
    """What one `datagen worker` process shares between the jobs it runs: one backend (so one
    adaptive concurrency for the provider), one store."""

    def __init__(self, settings: Settings, open_store: Callable[[str], JobStore]) -> None:
        from core.llm import make_backend

        self.settings = settings
        self.store = open_store(settings.database_url)
        self.llm = make_backend(settings)


_worker: _Worker | None = None


async def _generate_job(job_id: int) -> None:
    from core.generator import Generator

    assert _worker is not None, "run_worker() sets up the worker"
    worker = _worker
    job = await asyncio.to_thread(worker.store.get_job, job_id)
    if job is None or job.status in ("done", "failed", "cancelled"):
        return
    if job.kind == "annotation":  # "label my rows": the rows are in storage already, labeled in place
        from core.annotate import Annotator

        run = asyncio.create_task(Annotator(worker.llm, worker.store, worker.settings).run(job_id))
    else:
        run = asyncio.create_task(Generator(worker.llm, worker.store, worker.settings).run(job_id))
    watcher = asyncio.create_task(_stop_when_cancelled(worker, job_id, run))
    try:
        result = await run
        log.info("job %s: %s", job_id, result.status)
    except JobBusy:
        # RetryWhileHeld: again in a third of the lease, until the job ends or its holder is gone;
        # procrastinate's "Error, to retry" line names the holder (_HeldJobRetryInOneLine).
        raise
    except JobClaimedElsewhere as exc:
        log.info("job %s: %s", job_id, exc)
    except asyncio.CancelledError:
        if not watcher.done():
            raise  # the worker itself is stopping: the job stays resumable
        log.info("job %s: cancelled by its user", job_id)
    finally:
        watcher.cancel()


async def _stop_when_cancelled(worker: _Worker, job_id: int, run: asyncio.Task[Any]) -> None:
    """The user pressed Cancel in a chat served by another process: it marked the job cancelled."""
    while not run.done():
        await asyncio.sleep(1.0)
        job = await asyncio.to_thread(worker.store.get_job, job_id)
        if job is not None and job.status == "cancelled":
            run.cancel()
            return


async def _requeue_stalled(app: procrastinate.App, stalled_after: float) -> None:
    """Put back in the queue the jobs of workers that stopped sending heartbeats."""
    while True:
        await asyncio.sleep(max(1.0, stalled_after / 3))
        try:
            manager = app.job_manager
            for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
                # Every worker sweeps: another one may have requeued it a moment ago (then: one info line).
                if isinstance(manager, _OwnJobsOnly) and not await manager.still_held(job, "requeuing"):
                    continue
                log.warning("queue job %s (datagen job %s) lost its worker; queued again", job.id,
                            job.task_kwargs.get("job_id"))
                await manager.retry_job(job)
        except Exception:  # the database blinked: next round
            log.warning("could not look for stalled jobs", exc_info=True)


async def run_worker(settings: Settings, open_store: Callable[[str], JobStore], *, jobs: int | None = None,
                     wait: bool = True) -> None:
    """`datagen worker`: take jobs from the queue until stopped (SIGINT/SIGTERM: running jobs stop
    and stay resumable by another worker). `open_store(database_url)`: the jobs' storage (storage.Store.from_url)."""
    global _worker
    await asyncio.to_thread(ensure_schema, settings.database_url)
    _worker = _Worker(settings, open_store)
    app = make_app(settings.database_url, busy_retry=max(0.5, settings.lease_seconds / 3))
    stalled_after = settings.worker_stalled_after
    async with app.open_async():
        sweeper = asyncio.create_task(_requeue_stalled(app, stalled_after))
        try:
            await app.run_worker_async(
                queues=[QUEUE], concurrency=jobs or settings.worker_jobs, wait=wait,
                name=f"{socket.gethostname()}/{os.getpid()}", update_heartbeat_interval=max(0.5, stalled_after / 4),
                stalled_worker_timeout=stalled_after, shutdown_graceful_timeout=5, delete_jobs="successful",
                fetch_job_polling_interval=1.0,
            )
        finally:
            sweeper.cancel()
            await _worker.llm.aclose()
            _worker.store.close()
            _worker = None
