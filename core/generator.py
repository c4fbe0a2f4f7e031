"""The generation engine: quotas -> concurrent batches -> parse -> validate -> dedupe -> store -> progress.

    generator = Generator(llm, store, settings)
    job_id = generator.create_job(spec, guidance)
    result = await generator.run(job_id, on_progress=callback)   # resumable; cancel the task to stop

How it works:
- Quotas per label come from the spec, minus what is already stored (a re-run resumes).
- Each request asks for up to `batch_size` rows of ONE label (classification) so the label the
  model writes can be checked against the one asked for; requests go out concurrently, at most
  `concurrency` in flight, and a new one starts as soon as one finishes (a task pool, not waves).
- Every row is validated (core.quality), deduplicated across the whole job (exact + near), and
  accepted only while its label's quota is open: the job ends with exactly the ordered counts.
  A row whose label is not allowed is rejected, never relabeled.
- Every row is stored as its batch arrives (accepted, or rejected with the reason). Writes run
  in a worker thread and are grouped: batches that arrive while a commit is running go into
  the next commit together.
- A job whose requests keep producing nothing usable stops with an error that says why.

This module runs one job (claim, lease, start, finish, the result); the parts live in
core/generation/: job_state, resume, requests (the loop), acceptance, writer, progress.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from core import attributes
from core.generation.job_state import JobFailed, JobState
from core.generation.progress import ProgressReporter
from core.generation.requests import RequestLoop
from core.generation.resume import load_job_state
from core.generation.writer import RowWriter
from core.llm import LLMBackend
from core.settings import Settings
from core.spec import DatasetSpec
from core.job_lease import RunLease
from core.store_port import JobClaimedElsewhere, JobStore
from core.verify import Verifier, judge_description
from core.vocabulary import Guidance, JobProgress, JobResult, ProgressCallback

# The shared vocabulary lives in core.vocabulary; callers of the engine may import it from here.
__all__ = ["Generator", "Guidance", "JobClaimedElsewhere", "JobFailed", "JobProgress", "JobResult", "ProgressCallback"]

log = logging.getLogger(__name__)

#: The cyclic collector's first threshold while jobs run (CPython's default is 700; 3.13 uses 2,000).
GC_THRESHOLD = 10_000


def tune_collector() -> None:
    """Fewer runs of the cyclic garbage collector. A job allocates a few hundred container objects
    per request (JSON answers, HTTP objects, rows) that die young; at the default threshold the
    collector ran ~140 times in a 5,000-row job and cost ~0.4 s of its ~1.5 s of CPU, with it
    0.04 s (benchmarks/throughput.py). Only a threshold nobody has changed is raised."""
    first, *rest = gc.get_threshold()
    if first == 700:
        gc.set_threshold(GC_THRESHOLD, *rest)


class Generator:
    def __init__(self, llm: LLMBackend, store: JobStore, settings: Settings) -> None:
        tune_collector()
        self.llm = llm
        self.store = store
        self.settings = settings
        # Verification requests run in the generation request's slot, so the engine's limit bounds
        # them; the verifier's own limit only has to stay out of the way.
        self.verifier = Verifier.for_engine(llm, settings, concurrency=1024)  # None: DATAGEN_VERIFY off
        self.writer = RowWriter(store, settings)
        self.request_loop = RequestLoop(llm, settings, self.writer, self.verifier)
        self.batch_size = self.request_loop.batch_size
        self.limiter = self.request_loop.limiter

    @property
    def concurrency(self) -> int:
        """Requests this job may have waiting for the server now."""
        return self.request_loop.concurrency

    # --- public -----------------------------------------------------------------------------

    def create_job(
        self,
        spec: DatasetSpec,
        guidance: Guidance | None = None,
        *,
        kind: str = "dataset",
        conversation_id: int | None = None,
        key: str | None = None,
    ) -> int:
        """A new job; `key` names it so the same command run again finds it (JobStore.job_for_key)."""
        return self.store.create_job(
            spec.to_json(),
            guidance_json=(guidance or Guidance()).model_dump_json(),
            kind=kind,
            conversation_id=conversation_id,
            model=self._model_description(),
            key=key,
        )

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None) -> JobResult:
        """Generate until every quota is met; resumes from stored rows. Cancel the task to stop
        (Ctrl-C, shutdown): the job goes back to "pending" to be resumed, stored rows stay, and
        CancelledError propagates. A job the user cancelled (`JobStore.cancel_job`) is not run, and
        a cancel that arrives while it runs is never undone: the result says "cancelled"."""
        started = time.monotonic()
        # One process per job (core/job_lease.py): JobBusy ("job 1 is being generated by another
        # process since ...") before anything is loaded or asked; LeaseLost if taken over later.
        lease = RunLease(self.store, job_id, ttl=self.settings.lease_seconds)
        async with lease.hold():
            state = await asyncio.to_thread(load_job_state, self.store, self.settings, job_id)
            state.owner, state.lease = lease.owner, lease
            return await self._run_claimed(state, on_progress, started)

    async def _prepare_attributes(self, state: JobState) -> None:
        """The order's own dimensions of variety (core/attributes.py): asked once per job, stored, reused on resume."""
        found, usage, requests = await attributes.for_job(self.llm, self.store, self.settings, state.job_id, state.spec)
        state.attributes = found
        state.usage.prompt_tokens += usage.prompt_tokens
        state.usage.completion_tokens += usage.completion_tokens
        for i, n in enumerate((requests, usage.prompt_tokens, usage.completion_tokens)):
            state.pending_usage[i] += n

    async def _run_claimed(self, state: JobState, on_progress: ProgressCallback | None, started: float) -> JobResult:
        job_id = state.job_id
        reporter = ProgressReporter(on_progress, self.settings.progress_interval)
        status, error = "done", None
        try:
            if not await asyncio.to_thread(self.writer.start_sync, state, self._model_description()):
                return await self._result(state, None)
            await self._prepare_attributes(state)
            state.last_answer = time.monotonic()
            await self.request_loop.generate(state, reporter)
        except asyncio.CancelledError:
            if state.lease is not None and state.lease.lost is not None:
                raise  # stopped by the heartbeat, not by our caller: RunLease.hold() says LeaseLost
            # Rows already processed are written before the job is put back; sync, so a second
            # cancel can't interrupt the clean-up.
            try:
                await self.writer.drain(state)
            except asyncio.CancelledError:
                pass
            except Exception:  # a failed commit: the rows that did get stored still count
                log.exception("job %s: storing rows failed while stopping", job_id)
            self.writer.flush_sync(state)
            self._stop_heartbeat(state)
            self.writer.finish_sync(state, "pending", None, time.monotonic() - started)
            if self.verifier is not None:
                await self.verifier.aclose()
            raise
        except JobClaimedElsewhere:
            raise
        except JobFailed as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # a bug must still leave the job in a clear state, not "running"
            log.exception("job %s crashed", job_id)
            status, error = "failed", f"internal error: {exc!r}"
        self.writer.schedule_flush(state)
        await self.writer.drain(state)
        if self.verifier is not None:
            await self.verifier.aclose()
        elapsed = time.monotonic() - started
        self._stop_heartbeat(state)
        await asyncio.to_thread(self.writer.finish_sync, state, status, error, elapsed)
        await reporter.report(self.request_loop.progress(state), force=True)
        return await self._result(state, error)

    async def _result(self, state: JobState, error: str | None) -> JobResult:
        """The outcome as stored: the database's status wins (a cancel that came meanwhile)."""
        job_id = state.job_id
        rejected = await asyncio.to_thread(self.store.rejected_reasons, job_id)
        accepted = await asyncio.to_thread(self.store.accepted_counts, job_id)
        job = await asyncio.to_thread(self.store.get_job, job_id)
        assert job is not None
        return JobResult(
            job_id=job_id,
            status=job.status,
            error=error if job.status == "failed" else None,
            accepted={label: accepted.get(label, 0) for label in state.quotas},
            rejected=rejected,
            duplicates=sum(n for reason, n in rejected.items() if reason in ("duplicate", "near-duplicate")),
            prompt_tokens=job.prompt_tokens,  # the job's totals, over every run of it
            completion_tokens=job.completion_tokens,
            elapsed=job.elapsed_seconds,
        )

    @staticmethod
    def _stop_heartbeat(state: JobState) -> None:
        if state.lease is not None:
            state.lease.stop_heartbeat()

    def _model_description(self) -> str:
        """What the job's card names as its model: the generator, and the judge when verifying."""
        return getattr(self.llm, "description", "") + judge_description(self.verifier)
