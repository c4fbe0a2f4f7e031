"""Storing a run's rows. Every row is stored as its batch arrives (accepted, or rejected with the
reason). Writes run in a worker thread and are grouped: batches that arrive while a commit is running
go into the next commit together. One writer at a time, also across cancellation clean-up; every
write is fenced by the run's lease (storage.leases)."""

from __future__ import annotations

import asyncio
import threading

from core.generation.job_state import JobFailed, JobState
from core.settings import Settings
from core.stop_reasons import stop
from core.store_port import JobStore, LeaseLost, NewRow


def outcome_read(task: asyncio.Task[None]) -> None:
    """Mark a writer's failure read: check_writer() raises it while the run goes on; a run that ended
    otherwise (its lease lost, cancelled) has no use for it, and left unread it is logged by the
    garbage collector at a random later moment ("Task exception was never retrieved")."""
    if not task.cancelled():
        task.exception()


class RowWriter:
    def __init__(self, store: JobStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._db_lock = threading.Lock()  # one writer at a time, also across cancellation clean-up

    def schedule_flush(self, state: JobState) -> None:
        """Have the pending rows committed soon. The request slot is free at once: a commit never
        holds up the next request. Batches that arrive during a commit go into the next one
        together (group commit)."""
        if state.writer is None or state.writer.done():
            if state.writer is not None and not state.writer.cancelled() and state.writer.exception():
                return  # a failed write stops the job in check_writer; don't hide it
            state.writer = asyncio.create_task(self._write_pending(state))
            state.writer.add_done_callback(outcome_read)

    async def _write_pending(self, state: JobState) -> None:
        while state.pending or any(state.pending_usage):
            rows, usage = self._take_pending(state)
            # Shielded: cancelling the job must not cancel a commit still queued for the worker
            # thread (its rows would be lost); the clean-up waits for it instead.
            write = asyncio.ensure_future(asyncio.to_thread(self._write, state, rows, usage))
            state.writes.add(write)
            write.add_done_callback(state.writes.discard)
            await asyncio.shield(write)

    @staticmethod
    def check_writer(state: JobState) -> None:
        """Stop the job when a commit failed (LeaseLost as itself: another process took the job)."""
        writer = state.writer
        if writer is not None and writer.done() and not writer.cancelled() and writer.exception() is not None:
            if isinstance(writer.exception(), LeaseLost):
                raise writer.exception()  # type: ignore[misc]
            raise JobFailed(stop("storage_failed", f"could not store rows: {writer.exception()}"))

    @staticmethod
    async def drain(state: JobState) -> None:
        """Wait until every pending row is committed (re-raises a failed commit)."""
        while (state.writer is not None and not state.writer.done()) or state.writes:
            if state.writer is not None and not state.writer.done():
                await asyncio.shield(state.writer)
            if state.writes:
                await asyncio.gather(*list(state.writes), return_exceptions=True)  # the writer re-raises its own
        RowWriter.check_writer(state)

    def flush_sync(self, state: JobState) -> None:
        rows, usage = self._take_pending(state)
        if rows or any(usage):
            self._write(state, rows, usage)

    @staticmethod
    def _take_pending(state: JobState) -> tuple[list[NewRow], list[int]]:
        rows, usage = state.pending, state.pending_usage
        state.pending, state.pending_usage = [], [0, 0, 0]
        return rows, usage

    def _write(self, state: JobState, rows: list[NewRow], usage: list[int]) -> None:
        with self._db_lock:
            self.store.add_examples(state.job_id, rows, requests=usage[0], prompt_tokens=usage[1],
                                    completion_tokens=usage[2], owner=state.owner,
                                    lease_seconds=self.settings.lease_seconds)

    def start_sync(self, state: JobState, model: str) -> bool:
        """Mark the job running (False: the run was stopped first, or the job may not start)."""
        with self._db_lock:  # a run interrupted before this write got the lock must not start any more
            if state.stopped:
                return False
            return self.store.start_job(state.job_id, model=model)

    def finish_sync(self, state: JobState, status: str, error: str | None, elapsed: float) -> None:
        with self._db_lock:  # after any write still running in a worker thread, the start included
            state.stopped = True
            self.store.finish_job(state.job_id, status, error=error, elapsed=elapsed, owner=state.owner)
