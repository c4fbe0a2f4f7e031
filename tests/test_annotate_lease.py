"""An annotation job is labeled by one process at a time, as a dataset is generated (core/job_lease.py):
a second run of it is refused before asking anything; a run whose job was taken over stops
without storing a label or sending a request more. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import random

import pytest

from core.annotate import AnnotationOrder, Annotator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from storage.leases import JobBusy, LeaseLost, new_owner
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, marked_text
from tests.test_lease import expire

LABELS = ["refund", "bug"]


def annotation_job(annotator: Annotator, rows: int) -> tuple[int, list[str]]:
    rng = random.Random(3)
    truth = [LABELS[i % 4 == 0] for i in range(rows)]
    job_id = annotator.create_job(AnnotationOrder(labels=LABELS, samples=1))
    annotator.load(job_id, [{"text": marked_text(label, rng)} for label in truth])
    return job_id, truth


def labeled(store: Store, job_id: int) -> int:
    return sum(n for label, n in store.label_counts(job_id).items() if label is not None)


async def test_two_runs_of_one_annotation_job_never_label_together(database_url: str, settings: Settings,
                                                                   fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "lease_seconds": 12})
    fake_llm.latency = 0.05
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    first, second = Annotator(llm, store, settings), Annotator(llm, store, settings)
    job_id, truth = annotation_job(first, 400)
    running = asyncio.create_task(first.run(job_id))
    for _ in range(1000):  # 10 s at most
        if store.is_claimed(job_id):
            break
        await asyncio.sleep(0.01)
    assert store.is_claimed(job_id), "the running annotation job holds a lease"
    requests_before = fake_llm.request_count
    # The annotation's own words and the configured lease (it said "being generated" and 30 s).
    with pytest.raises(JobBusy, match=rf"job {job_id} is being labeled by another process since .*"
                                      rf"stops for {settings.lease_seconds:g} s"):
        await second.run(job_id)
    assert fake_llm.request_count - requests_before <= 2, "the refused run asked the LLM nothing"
    result = await running
    assert result.status == "done"
    assert [row.label for row in store.iter_annotation_rows(job_id)] == truth
    assert fake_llm.request_count == 400 // first.batch_size, "every batch asked once"
    assert not store.is_claimed(job_id)
    await llm.aclose()
    store.close()


async def test_an_annotation_run_whose_job_was_taken_over_stops_without_writing(
    database_url: str, settings: Settings, fake_llm: FakeOpenAI
) -> None:
    """The holder froze past its lease (simulated by expiring it) and another process took the job:
    its heartbeat or next write finds out, and it stops: no label, no status, no request more. (A
    real freeze is caught before the first request after it: test_workers_annotation.)"""
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "lease_seconds": 0.6})
    fake_llm.latency = 0.05
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    annotator = Annotator(llm, store, settings)
    job_id, _ = annotation_job(annotator, 1000)
    running = asyncio.create_task(annotator.run(job_id))
    while labeled(store, job_id) < 100 and not running.done():
        await asyncio.sleep(0.01)
    expire(store, job_id)
    taker = new_owner()
    store.claim_job(job_id, taker)
    taken_at = labeled(store, job_id)
    with pytest.raises(LeaseLost, match=f"job {job_id} was taken over"):
        await asyncio.wait_for(running, 10)
    # A request already on the wire when the run stopped may reach the fake (its own thread, slow
    # on a loaded machine) a moment later: count from when the server holds nothing. A run that
    # went on asking would keep it busy and add requests below.
    for _ in range(100):
        if fake_llm.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    stopped_at = fake_llm.request_count
    await asyncio.sleep(0.5)
    assert labeled(store, job_id) == taken_at, "no label stored after the take-over"
    assert fake_llm.request_count == stopped_at, "nothing goes on asking once the run stopped"
    job = store.get_job(job_id)
    assert job is not None and job.status == "running"  # the new holder's business now
    lease = store.lease_of(job_id)
    assert lease is not None and lease[0] == taker
    await llm.aclose()
    store.close()
