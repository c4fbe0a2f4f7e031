"""`datagen worker` processes on a real PostgreSQL (procrastinate): a SIGKILLed worker's job is
finished by another from its stored rows, none lost or repeated, never two at once; small orders
go first; the chat side follows a job it handed to the workers (core/runner.py)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.quality import dedupe_key, row_text
from core.queue import JobQueue
from core.runner import QueueRunner
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.postgres


def order(count: int) -> dict:
    return {"task": "classification", "topic": "support tickets", "labels": ["billing", "bug"], "count": count}


@pytest.fixture
def workers(postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Start `datagen worker` processes with `start(jobs)`; all are killed at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def start_worker(started: list[subprocess.Popen[str]], database_url: str, fake: FakeOpenAI, tmp_path: Path,
                 jobs: int = 2) -> subprocess.Popen[str]:
    # Each worker its own API key: the fake server's `arrivals` tell which one sent a request.
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": f"worker{len(started)}", "OPENAI_BASE_URL": fake.base_url,
           "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_CONCURRENCY": "2",
           "DATAGEN_BATCH_SIZE": "5", "DATAGEN_WORKER_STALLED_AFTER": "2", "DATAGEN_LEASE_SECONDS": "3"}
    log = open(tmp_path / f"worker{len(started)}.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--jobs", str(jobs)], env=env,
                               cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True)
    started.append(process)
    return process


def assert_exact(store: Store, job_id: int, count: int) -> None:
    job = store.get_job(job_id)
    assert job is not None and job.status == "done", job and (job.status, job.error)
    rows = store.accepted_rows(job_id)
    assert Counter(row.label for row in rows) == {"billing": count // 2, "bug": count // 2}
    spec = DatasetSpec.model_validate_json(job.spec_json)
    keys = [dedupe_key(row_text(spec.task, row.fields)) for row in rows]
    assert len(keys) == len(set(keys)), "a row was stored twice"


async def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_a_sigkilled_worker_s_job_is_finished_by_another(postgres_url: str, fake_llm: FakeOpenAI,
                                                              tmp_path: Path, workers: list) -> None:
    fake_llm.latency = 0.1
    store = Store.from_url(postgres_url)
    job_id = store.create_job(DatasetSpec.from_data(order(600)).to_json())
    queue = JobQueue(postgres_url)
    await queue.submit(job_id, rows=600, user="U1", per_user=2)
    first, second = (start_worker(workers, postgres_url, fake_llm, tmp_path) for _ in range(2))
    await wait_for(lambda: sum(store.accepted_counts(job_id).values()) >= 100, 60, "100 rows")
    lease = store.lease_of(job_id)
    assert lease is not None
    holder = {first.pid: first, second.pid: second}[int(lease[0].split("/")[1])]
    other = second if holder is first else first
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    rows_at_kill = sum(store.accepted_counts(job_id).values())
    assert rows_at_kill < 600, "killed mid-job"
    owners: list[str] = []

    def finished() -> bool:
        current = store.lease_of(job_id)
        if current is not None and (not owners or owners[-1] != current[0]):
            owners.append(current[0])
        job = store.get_job(job_id)
        return job is not None and job.status == "done"

    await wait_for(finished, 90, "the other worker to finish the job")
    assert_exact(store, job_id, 600)
    # After the kill, the job was held by the surviving worker only (never by two at once).
    assert all(f"/{other.pid}/" in owner or f"/{holder.pid}/" in owner for owner in owners), owners
    assert any(f"/{other.pid}/" in owner for owner in owners) or store.lease_of(job_id) is None
    assert other.poll() is None, "the surviving worker keeps serving"
    await queue.aclose()
    store.close()


async def test_a_small_order_queued_with_a_large_one_finishes_first(postgres_url: str, fake_llm: FakeOpenAI,
                                                                   tmp_path: Path, workers: list) -> None:
    fake_llm.latency = 0.05
    store = Store.from_url(postgres_url)
    queue = JobQueue(postgres_url)
    large = store.create_job(DatasetSpec.from_data(order(400)).to_json())
    small = store.create_job(DatasetSpec.from_data(order(20)).to_json())
    await queue.submit(large, rows=400, user="U1", per_user=2)  # queued first
    await queue.submit(small, rows=20, user="U2", per_user=2)
    start_worker(workers, postgres_url, fake_llm, tmp_path, jobs=1)  # one job at a time: the order matters

    def both_done() -> bool:
        return all((job := store.get_job(j)) is not None and job.status == "done" for j in (large, small))

    await wait_for(both_done, 90, "both jobs")
    large_job, small_job = store.get_job(large), store.get_job(small)
    assert large_job and small_job and small_job.finished_at and large_job.finished_at
    assert small_job.finished_at < large_job.finished_at
    assert_exact(store, small, 20)
    assert_exact(store, large, 400)
    await queue.aclose()
    store.close()


async def test_a_large_order_starts_within_its_bound_while_small_orders_keep_arriving(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list
) -> None:
    """Small orders arrive faster than one worker does them; a 200-row order queued among them
    starts once the small orders queued before its deadline (2 s: 10 ms a row) are done. With
    "minus the row count" as the priority, it waited until the stream of small orders stopped."""
    fake_llm.latency = 0.3
    store = Store.from_url(postgres_url)
    queue = JobQueue(postgres_url)
    start_worker(workers, postgres_url, fake_llm, tmp_path, jobs=1)
    small = 0

    async def submit_small() -> None:
        nonlocal small
        job_id = store.create_job(DatasetSpec.from_data(order(20)).to_json())
        small += 1
        await queue.submit(job_id, rows=20, user=f"U{small}", per_user=2)

    for _ in range(3):
        await submit_small()
    large = store.create_job(DatasetSpec.from_data(order(200)).to_json())
    await queue.submit(large, rows=200, user="BIG", per_user=2)
    queued = time.monotonic()
    while time.monotonic() - queued < 40:  # a new small order every 0.5 s: more than the worker does (~1.3 s each)
        job = store.get_job(large)
        if job is not None and job.started_at is not None:
            break
        await submit_small()
        await asyncio.sleep(0.5)
    waited = time.monotonic() - queued
    done_small = sum(1 for j in range(1, large + small + 1) if (job := store.get_job(j)) and job.status == "done")
    # Its bound: the ~8 small orders queued before its deadline (2 s), about 1.3 s each.
    assert waited < 25, f"the large order waited {waited:.0f} s behind {small} small orders ({done_small} done)"
    assert small - done_small >= 5, "small orders were still waiting: the large one did not just find the queue empty"
    await queue.aclose()
    store.close()


async def test_the_chat_side_follows_a_job_and_one_user_runs_one_job_at_a_time(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings
) -> None:
    fake_llm.latency = 0.05
    chat_settings = settings.model_copy(update={"database_url": postgres_url, "workers": "external",
                                                "max_jobs_per_user": 1})
    store = Store.from_url(postgres_url)
    runner = QueueRunner(chat_settings, store, poll_interval=0.2)
    jobs = [store.create_job(DatasetSpec.from_data(order(100)).to_json()) for _ in range(3)]
    start_worker(workers, postgres_url, fake_llm, tmp_path, jobs=3)
    seen: dict[int, list[int]] = {job: [] for job in jobs}

    async def follow(job_id: int, user: str):  # type: ignore[no-untyped-def]
        return await runner.run(job_id, lambda progress: seen[job_id].append(progress.done), user=user)

    results = await asyncio.wait_for(
        asyncio.gather(follow(jobs[0], "U1"), follow(jobs[1], "U1"), follow(jobs[2], "U2")), 120)
    assert [result.status for result in results] == ["done"] * 3
    for job_id in jobs:
        assert_exact(store, job_id, 100)
        assert seen[job_id][-1] == 100 and seen[job_id] == sorted(seen[job_id])
    a, b = store.get_job(jobs[0]), store.get_job(jobs[1])
    assert a and b and a.started_at and b.started_at and a.finished_at and b.finished_at
    assert a.finished_at <= b.started_at or b.finished_at <= a.started_at, "U1's two jobs overlapped"
    await runner.aclose()
    store.close()


async def test_a_chat_with_external_workers_delivers_and_survives_a_chat_restart(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings
) -> None:
    """DATAGEN_WORKERS=external: the preview runs in the chat process, the order on a worker; the
    chat process that owns the conversation reports progress and delivers the file, also when it
    restarted in the middle (it follows the job again, it does not generate it)."""
    from tests.dialog_support import csv_rows, documents, find_choice, label_counts, new_user, previews, texts

    tuned = settings.model_copy(update={"database_url": postgres_url, "workers": "external", "batch_size": 5,
                                        "concurrency": 2})
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    user = await new_user(tuned)
    summary = await user.send("Produce 60 examples: 20 positive and 40 negative tweets about trains.")
    shown = previews(await user.press(summary, "preview"))[0]
    fake_llm.latency = 0.15
    replies = await user.press([shown], "generate", settle=False)
    await asyncio.sleep(0.3)
    job_id = int(find_choice(user.take() + replies, "canceljob").value)
    await wait_for(lambda: sum(user.dialog.store.accepted_counts(job_id).values()) >= 5, 30, "first rows")
    await user.dialog.aclose()  # the chat process restarts; the worker goes on
    user = await new_user(tuned, chat=user.chat)
    try:
        await asyncio.wait_for(user.dialog.wait_idle(), 60)
        replies = user.take()
        assert f"continuing job #{job_id}" in texts(replies)
        rows = csv_rows(documents(replies)[0])
        assert label_counts(rows) == {"positive": 20, "negative": 40}
        job = user.dialog.store.get_job(job_id)
        assert job is not None and job.status == "done"
        log = (tmp_path / "worker0.log").read_text()
        assert f"job {job_id}: done" in log, f"a worker generated it; its log:\n{log}"
    finally:
        await user.dialog.aclose()


async def test_label_my_rows_with_external_workers_runs_on_a_worker(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings
) -> None:
    """DATAGEN_WORKERS=external: Label all hands the annotation job to the queue like a dataset job.
    With no worker running, the chat process labels nothing (the rows stay unlabeled); a worker
    started later labels every row, and the chat delivers the labeled file in the file's order."""
    from tests.dialog_support import documents, find_choice, new_user, texts
    from tests.fakes.openai_server import marked_text
    from tests.test_annotate_chat import as_txt, read_csv

    rng = __import__("random").Random(4)
    truth = ["refund" if i % 3 else "bug" for i in range(40)]
    rows = [marked_text(t, rng) for t in truth]
    tuned = settings.model_copy(update={"database_url": postgres_url, "workers": "external", "batch_size": 5,
                                        "concurrency": 2})
    user = await new_user(tuned)
    try:
        await user.send("label my rows")
        await user.upload("tickets.txt", as_txt(rows))
        shown = await user.send("refund, bug")  # the preview runs in the chat process, as the dataset preview does
        started = await user.press(shown, "labelall", settle=False)
        job_id = int(find_choice(started, "canceljob").value)
        requests_before = len(fake_llm.requests)
        await asyncio.sleep(2.0)
        store = user.dialog.store
        assert store.label_counts(job_id) == {None: 40}, "the chat process labeled rows itself"
        assert len(fake_llm.requests) == requests_before
        start_worker(workers, postgres_url, fake_llm, tmp_path)
        await asyncio.wait_for(user.dialog.wait_idle(), 60)
        replies = user.take()
        labeled = read_csv(documents(replies)[0])
        assert [r["text"] for r in labeled] == rows and [r["label"] for r in labeled] == truth, texts(replies)
        log = (tmp_path / "worker0.log").read_text()
        assert f"job {job_id}: done" in log, f"a worker labeled it; its log:\n{log}"
    finally:
        await user.dialog.aclose()


async def test_a_job_held_by_a_worker_that_died_on_another_machine_is_taken_over(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list
) -> None:
    """The queue noticed a dead worker before its lease ran out (it ran on another machine, so its
    pid can't be checked): the worker given the job found it held and returned, the job was done
    in the queue's eyes and nobody ever resumed it. Now it looks again until the lease runs out."""
    from datetime import timedelta

    from sqlalchemy import update

    from storage.models import JobLease, utcnow

    store = Store.from_url(postgres_url)
    job_id = store.create_job(DatasetSpec.from_data(order(40)).to_json())
    store.claim_job(job_id, "otherhost/4242/dead", ttl=60)
    with store.engine.begin() as conn:  # its last renewal was a while ago: 4 s of lease left
        conn.execute(update(JobLease).where(JobLease.job_id == job_id)
                     .values(expires_at=utcnow() + timedelta(seconds=4)))
    queue = JobQueue(postgres_url)
    await queue.submit(job_id, rows=40, user="U1", per_user=2)
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    await wait_for(lambda: "is being generated by another process" in (tmp_path / "worker0.log").read_text(), 30,
                   "the worker to find the job held")
    await wait_for(lambda: (job := store.get_job(job_id)) is not None and job.status == "done", 30,
                   "the worker to take the job over once the lease ran out")
    assert_exact(store, job_id, 40)
    # Each try of the held job is one log line that says why, not a traceback (procrastinate's default).
    log = (tmp_path / "worker0.log").read_text()
    assert "Traceback" not in log and "JobBusy" not in log, log
    tries = re.findall(rf".*job {job_id} is being generated by another process.*", log)
    assert tries and all("Error, to retry" in line for line in tries), log
    await queue.aclose()
    store.close()
