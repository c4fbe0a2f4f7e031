"""One process at a time per job, seen from the run: claim, heartbeat, a check before new work, release.

    lease = RunLease(store, job_id, ttl=settings.lease_seconds)
    async with lease.hold():          # JobBusy when a live process holds the job; KeyError: no such job
        await lease.confirm()         # before sending more work; LeaseLost once another process took it
        store.add_examples(..., owner=lease.owner)   # every write is fenced by the lease (storage.leases)
        lease.stop_heartbeat()
        store.finish_job(..., owner=lease.owner)     # the final status releases it

Both kinds of jobs run under it: datasets (core/generator.py) and annotations (core/annotate.py).
The heartbeat renews the lease every third of its time; when it finds the job taken over (this
process was frozen longer than the lease, or cut off from the database), it cancels the run, and
`hold()` turns that cancel into LeaseLost, so the caller knows it must neither write nor report.
`confirm()` covers the moment after such a freeze, before the heartbeat has run again: work is
sent only while the lease was renewed less than half its time ago, else it is renewed first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.store_port import JobBusy, JobStore, LeaseLost, new_owner

log = logging.getLogger(__name__)


class RunLease:
    def __init__(self, store: JobStore, job_id: int, *, ttl: float) -> None:
        self.store = store
        self.job_id = job_id
        self.ttl = ttl
        self.owner = new_owner()  # this run: writes and the final status carry it
        self.lost: LeaseLost | None = None  # set once another process is found holding the job
        self._renewed = 0.0  # monotonic time the last successful claim or renewal was sent
        self._renewing = asyncio.Lock()
        self._run: asyncio.Task[object] | None = None
        self._stopped_run = False  # the heartbeat cancelled the run (hold() turns that into LeaseLost)
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def fresh(self) -> bool:
        """The lease surely has not run out: renewed less than half its time ago."""
        return self.lost is None and time.monotonic() - self._renewed < self.ttl / 2

    @asynccontextmanager
    async def hold(self) -> AsyncIterator["RunLease"]:
        await self._claim()
        self._run = asyncio.current_task()
        self._heartbeat = asyncio.create_task(self._beat(), name=f"lease-{self.job_id}")
        try:
            yield self
        except asyncio.CancelledError:
            if not self._stopped_run:
                raise
            if self._run is not None:
                self._run.uncancel()  # the heartbeat's cancel, not the caller's
            assert self.lost is not None
            raise self.lost from None
        finally:
            self.stop_heartbeat()
            try:  # synchronous, as a second cancel must not interrupt it; a no-op once finish_job released it
                self.store.release_job(self.job_id, self.owner)
            except Exception:  # the database is gone: the lease expires by itself
                log.warning("job %s: could not release its lease", self.job_id, exc_info=True)

    async def confirm(self) -> None:
        """Before sending more work: renew the lease first when it may have run out; LeaseLost
        when another process has taken the job over meanwhile."""
        if not self.fresh:
            await self._renew(stop_run=False)
        if self.lost is not None:
            raise self.lost

    def stop_heartbeat(self) -> None:
        """Before the final status: finish_job releases the lease, and a renewal after that would
        find it gone and cancel the finished run. Synchronous: a cancelled task never resumes."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()

    # --- inside -------------------------------------------------------------------------------

    async def _claim(self) -> None:
        claim = asyncio.ensure_future(asyncio.to_thread(self._claim_sync))
        try:
            await asyncio.shield(claim)
        except asyncio.CancelledError:
            # The claim goes on in its worker thread: once it lands, give the job up again, or a
            # quick Cancel would leave this process holding the job for the whole lease time.
            claim.add_done_callback(self._give_up_claim)
            raise

    def _claim_sync(self) -> None:
        sent = time.monotonic()
        job = self.store.get_job(self.job_id)
        if job is None:
            raise KeyError(f"job {self.job_id} does not exist")
        try:
            self.store.claim_job(self.job_id, self.owner, ttl=self.ttl)
        except JobBusy as exc:
            exc.kind = job.kind  # the storage does not know it: "being labeled", not "generated"
            raise
        self._renewed = sent

    def _give_up_claim(self, claim: "asyncio.Future[None]") -> None:
        if claim.cancelled() or claim.exception() is not None:
            return  # never claimed (JobBusy, an unknown job): nothing to give up
        try:
            self.store.release_job(self.job_id, self.owner)
        except Exception:  # the database is gone: the lease expires by itself
            log.warning("job %s: could not release its lease", self.job_id, exc_info=True)

    async def _beat(self) -> None:
        while self.lost is None:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._renew(stop_run=True)
            except Exception:  # a database hiccup: the next beat tries again; writes are fenced anyway
                log.warning("job %s: could not renew its lease", self.job_id, exc_info=True)

    async def _renew(self, *, stop_run: bool) -> None:
        """Renew once (one renewal at a time). The first to find the lease lost records it; the
        heartbeat then stops the run, `confirm()` raises in it."""
        async with self._renewing:
            if self.lost is not None:
                return
            sent = time.monotonic()
            try:
                await asyncio.to_thread(self.store.renew_lease, self.job_id, self.owner, ttl=self.ttl)
            except LeaseLost as exc:
                self.lost = exc
                if stop_run and self._run is not None and not self._run.done():
                    self._stopped_run = True
                    self._run.cancel()
                return
            self._renewed = max(self._renewed, sent)
