"""Annotation jobs ("label my rows") on `datagen worker` processes are as kill-safe as dataset
jobs (core/job_lease.py): one worker labels a job at a time; a SIGKILLed worker's job is finished
by another from its stored labels; a worker frozen past its lease and replaced sends nothing
more when it wakes. On a real PostgreSQL, with real worker processes; the fake server's
`arrivals` (API key per worker) tell which worker sent each labeling request."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from core.annotate import AnnotationOrder, Annotator
from core.llm_openai import OpenAIBackend
from core.queue import JobQueue
from core.settings import Settings
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, marked_text
from tests.test_workers import start_worker, wait_for, workers  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres

ROWS = 1200
LABELS = ["refund", "bug"]


async def queue_annotation(settings: Settings, postgres_url: str, store: Store) -> tuple[int, list[str], list[str]]:
    """An 1,200-row annotation job stored and queued; (job id, texts, true labels)."""
    rng = random.Random(14)
    truth = [LABELS[i % 3 == 0] for i in range(ROWS)]
    texts = [marked_text(label, rng) for label in truth]
    annotator = Annotator(OpenAIBackend.from_settings(settings), store, settings)
    job_id = annotator.create_job(AnnotationOrder(labels=LABELS))
    assert annotator.load(job_id, [{"text": text} for text in texts]) == ROWS
    queue = JobQueue(postgres_url)
    await queue.submit(job_id, rows=ROWS, user="U1", per_user=2)
    await queue.aclose()
    return job_id, texts, truth


def labeled(store: Store, job_id: int) -> int:
    return ROWS - store.label_counts(job_id).get(None, 0)


def labeled_texts(store: Store, job_id: int) -> set[str]:
    return {row.fields["text"] for row in store.iter_annotation_rows(job_id) if row.label is not None}


def asked(fake: FakeOpenAI, key: str, *, after: float = 0.0) -> list[str]:
    """The prompts (all messages) of the labeling requests `key` sent after `after`."""
    return ["\n".join(str(m.get("content", "")) for m in body.get("messages", []))
            for body, (at, sender) in zip(fake.requests, fake.arrivals) if sender == key and at > after]


def holder_of(fake: FakeOpenAI, started: list[subprocess.Popen[str]]) -> tuple[int, subprocess.Popen[str]]:
    """The worker that sent the first labeling request: (its index, its process)."""
    index = int(fake.arrivals[0][1].removeprefix("worker"))
    return index, started[index]


def assert_every_row_labeled_once(store: Store, job_id: int, texts: list[str], truth: list[str]) -> None:
    job = store.get_job(job_id)
    assert job is not None and job.status == "done", job and (job.status, job.error)
    rows = list(store.iter_annotation_rows(job_id))
    assert [row.position for row in rows] == list(range(ROWS)), "a row is missing or stored twice"
    assert [row.fields["text"] for row in rows] == texts
    assert [row.label for row in rows] == truth


async def test_a_sigkilled_worker_s_annotation_job_is_finished_by_another(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    fake_llm.latency = 0.2
    store = Store.from_url(postgres_url)
    job_id, texts, truth = await queue_annotation(settings, postgres_url, store)
    for _ in range(2):
        start_worker(workers, postgres_url, fake_llm, tmp_path)
    await wait_for(lambda: labeled(store, job_id) >= 200, 60, "200 rows labeled")
    index, holder = holder_of(fake_llm, workers)
    other_key, other = f"worker{1 - index}", workers[1 - index]
    lease = store.lease_of(job_id)
    assert lease is not None and f"/{holder.pid}/" in lease[0], f"the labeling worker holds the job: {lease}"
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    killed_at = time.monotonic()
    done_at_kill = labeled_texts(store, job_id)
    assert 200 <= len(done_at_kill) < ROWS, "killed mid-job"
    assert not asked(fake_llm, other_key), "the other worker labeled the job while the first one did"
    await wait_for(lambda: (job := store.get_job(job_id)) is not None and job.status == "done", 90,
                   "the other worker to finish the job")
    assert_every_row_labeled_once(store, job_id, texts, truth)
    resumed = asked(fake_llm, other_key)
    assert resumed and all(fake_llm.arrivals[i][0] > killed_at for i, (_, key) in enumerate(fake_llm.arrivals)
                           if key == other_key)
    again = [text for text in done_at_kill if any(text in prompt for prompt in resumed)]
    assert not again, f"{len(again)} rows labeled before the kill were asked again"
    assert other.poll() is None, "the surviving worker keeps serving"
    store.close()


async def test_a_frozen_worker_replaced_by_another_stops_labeling_when_it_wakes(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    """SIGSTOP (a GC pause, a suspended VM) longer than the worker's heartbeat: the queue gives the
    job to the other worker. When the first wakes (SIGCONT), it must not go on labeling next to
    the other one: its lease is gone, it sends no request more and stores nothing."""
    fake_llm.latency = 0.2
    store = Store.from_url(postgres_url)
    job_id, texts, truth = await queue_annotation(settings, postgres_url, store)
    for _ in range(2):
        start_worker(workers, postgres_url, fake_llm, tmp_path)
    await wait_for(lambda: labeled(store, job_id) >= 100, 60, "100 rows labeled")
    index, frozen = holder_of(fake_llm, workers)
    frozen_key, other_key = f"worker{index}", f"worker{1 - index}"
    frozen.send_signal(signal.SIGSTOP)
    try:
        await wait_for(lambda: len(asked(fake_llm, other_key)) >= 6, 60, "the other worker to take the job over")
    finally:
        frozen.send_signal(signal.SIGCONT)
    woke_at = time.monotonic()
    assert labeled(store, job_id) < ROWS - 200, "the job is still far from done when the frozen worker wakes"
    await wait_for(lambda: (job := store.get_job(job_id)) is not None and job.status == "done", 90,
                   "the job to be done")
    assert_every_row_labeled_once(store, job_id, texts, truth)
    after_waking = asked(fake_llm, frozen_key, after=woke_at)
    assert not after_waking, f"the woken worker sent {len(after_waking)} labeling requests next to the other one"
    log = (tmp_path / f"worker{index}.log").read_text()
    assert f"job {job_id}: job {job_id} was taken over" in log, log
    store.close()
