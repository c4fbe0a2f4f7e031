"""A `datagen worker` frozen (SIGSTOP, a suspended VM) past its heartbeat and lease while it
generates: the queue gives its job to another worker, which finishes it. When the frozen one
wakes, it leaves the queue job alone (it is not its own any more): one clear log line, no
procrastinate "Job was not found" error with a traceback, and it keeps serving."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from core.queue import JobQueue
from core.spec import DatasetSpec
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.test_workers import assert_exact, order, start_worker, wait_for, workers  # noqa: F401 (a fixture)

pytestmark = pytest.mark.postgres


async def test_a_worker_frozen_past_its_lease_wakes_quietly(postgres_url: str, fake_llm: FakeOpenAI,
                                                            tmp_path: Path, workers: list) -> None:
    fake_llm.latency = 0.1
    store = Store.from_url(postgres_url)
    job_id = store.create_job(DatasetSpec.from_data(order(400)).to_json())
    queue = JobQueue(postgres_url)
    await queue.submit(job_id, rows=400, user="U1", per_user=2)
    pair = [start_worker(workers, postgres_url, fake_llm, tmp_path) for _ in range(2)]
    await wait_for(lambda: sum(store.accepted_counts(job_id).values()) >= 60, 60, "60 rows")
    lease = store.lease_of(job_id)
    assert lease is not None
    holder = next(p for p in pair if p.pid == int(lease[0].split("/")[1]))
    other = pair[1 - pair.index(holder)]
    holder_log = tmp_path / f"worker{pair.index(holder)}.log"
    holder.send_signal(signal.SIGSTOP)
    try:
        await wait_for(lambda: (job := store.get_job(job_id)) is not None and job.status == "done", 90,
                       "the other worker to finish the job")
    finally:
        holder.send_signal(signal.SIGCONT)
    assert_exact(store, job_id, 400)
    lease_line = f"job {job_id}:"
    woke = time.monotonic()
    # Awake, the frozen worker finds its job taken over and says so (its run ends: the lease is lost).
    await wait_for(lambda: "taken over by another worker" in holder_log.read_text(), 30, "the woken worker's line")
    await wait_for(lambda: time.monotonic() - woke > 3, 10, "a few seconds awake")  # its sweeper and heartbeat ran
    log = holder_log.read_text()
    assert "Job was not found" not in log and "Traceback" not in log, log
    assert lease_line in log
    assert holder.poll() is None and other.poll() is None, "both workers keep serving"
    await queue.aclose()
    store.close()
