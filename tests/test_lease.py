"""One process per job (storage/leases.py): claims, expiry, take-over, fenced writes, and two
`datagen generate --resume` at once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, update

from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from storage.jobs import NewRow
from storage.leases import JobBusy, LeaseLost, new_owner
from storage.models import JobLease, utcnow
from storage.db import make_engine
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI

ORDER = {"task": "classification", "topic": "hotel reviews", "labels": ["positive", "negative"],
         "label_counts": {"positive": 120, "negative": 80}}
REPO = Path(__file__).resolve().parents[1]


def new_job(store: Store) -> int:
    return store.create_job(DatasetSpec.from_data(ORDER).to_json())


def expire(store: Store, job_id: int) -> None:
    """What time does to a holder that stopped renewing (killed on another machine, frozen)."""
    with store.engine.begin() as conn:
        conn.execute(update(JobLease).where(JobLease.job_id == job_id).values(expires_at=utcnow() - timedelta(seconds=1)))


def test_a_second_owner_is_refused_until_the_first_finishes(database_url: str) -> None:
    store = Store.from_url(database_url)
    job_id = new_job(store)
    first, second = new_owner(), new_owner()
    store.claim_job(job_id, first)
    with pytest.raises(JobBusy, match=rf"job {job_id} is being worked on by another process since \d{{4}}-.*"
                                      r"stops for 45 s"):  # the claimer's lease, not always 30 s
        store.claim_job(job_id, second, ttl=45)
    assert store.is_claimed(job_id)
    store.claim_job(job_id, first)  # the holder may claim again (renewal)
    store.finish_job(job_id, "done", owner=first)  # releases in the same transaction
    assert not store.is_claimed(job_id)
    store.claim_job(job_id, second)
    store.close()


def test_an_expired_claim_is_taken_over_and_the_old_holder_is_fenced_off(database_url: str) -> None:
    store = Store.from_url(database_url)
    job_id = new_job(store)
    old, new = "otherhost/4242/aaaa", new_owner()
    store.claim_job(job_id, old)
    store.add_examples(job_id, [NewRow({"text": "kept before", "label": "positive"}, label="positive")], owner=old)
    with pytest.raises(JobBusy):
        store.claim_job(job_id, new)
    expire(store, job_id)
    store.claim_job(job_id, new)
    # The old holder wakes up: it can neither renew, nor write rows, nor set the job's status.
    with pytest.raises(LeaseLost):
        store.renew_lease(job_id, old)
    with pytest.raises(LeaseLost):
        store.add_examples(job_id, [NewRow({"text": "written too late", "label": "positive"}, label="positive")],
                           requests=1, owner=old)
    with pytest.raises(LeaseLost):
        store.finish_job(job_id, "failed", error="old holder", owner=old)
    assert [row.fields["text"] for row in store.accepted_rows(job_id)] == ["kept before"]
    job = store.get_job(job_id)
    assert job is not None and job.status == "pending" and job.requests == 0
    store.renew_lease(job_id, new)
    store.close()


def test_a_dead_holder_on_this_host_is_taken_over_at_once(database_url: str) -> None:
    store = Store.from_url(database_url)
    job_id = new_job(store)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{socket.gethostname()}/{int(gone.stdout)}/bbbb"
    store.claim_job(job_id, dead_owner, ttl=3600)
    assert not store.is_claimed(job_id)
    store.claim_job(job_id, new_owner())  # no waiting for the hour to pass
    # A live process on another host is not "dead" just because its pid is unknown here.
    other = new_job(store)
    store.claim_job(other, "elsewhere/1/cccc", ttl=3600)
    with pytest.raises(JobBusy):
        store.claim_job(other, new_owner())
    store.close()


@pytest.mark.parametrize("expired", [False, True])
def test_of_many_claimers_at_once_exactly_one_wins(database_url: str, expired: bool) -> None:
    setup = Store.from_url(database_url)
    job_id = new_job(setup)
    if expired:
        setup.claim_job(job_id, "otherhost/1/old")
        expire(setup, job_id)
    stores = [Store.from_url(database_url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def claim(store: Store) -> None:
        barrier.wait()
        try:
            store.claim_job(job_id, new_owner())
            outcomes.append("won")
        except JobBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["busy"] * 7 + ["won"]
    for store in [setup, *stores]:
        store.close()


async def test_two_runs_of_one_job_never_generate_together(database_url: str, settings: Settings,
                                                           fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 4, "batch_size": 5})
    fake_llm.latency = 0.05
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    first, second = Generator(llm, store, settings), Generator(llm, store, settings)
    job_id = first.create_job(DatasetSpec.from_data(ORDER))
    running = asyncio.create_task(first.run(job_id))
    while not store.is_claimed(job_id):
        await asyncio.sleep(0.01)
    requests_before = fake_llm.request_count
    with pytest.raises(JobBusy, match=f"job {job_id} is being generated by another process"):
        await second.run(job_id)
    assert fake_llm.request_count - requests_before <= 4, "the refused run asked the LLM nothing"
    result = await running
    assert result.status == "done"
    assert Counter(row.label for row in store.accepted_rows(job_id)) == {"positive": 120, "negative": 80}
    assert not store.is_claimed(job_id)
    await llm.aclose()
    store.close()


async def test_a_run_whose_job_was_taken_over_stops_without_writing(database_url: str, settings: Settings,
                                                                    fake_llm: FakeOpenAI,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The holder froze past its lease (simulated by expiring it) and another process took the job:
    when it wakes, its heartbeat or its next write finds out, and it stops: no row, no status, and
    no refused write left unread (the collector logged it later, at a random moment)."""
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "batch_size": 5,
                                           "lease_seconds": 0.6})
    fake_llm.latency = 0.05
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    generator = Generator(llm, store, settings)
    job_id = generator.create_job(DatasetSpec.from_data(ORDER))
    running = asyncio.create_task(generator.run(job_id))
    while sum(store.accepted_counts(job_id).values()) < 20:
        await asyncio.sleep(0.01)
    expire(store, job_id)
    taker = new_owner()
    store.claim_job(job_id, taker)
    taken_at = len(store.accepted_rows(job_id))
    with pytest.raises(LeaseLost, match=f"job {job_id} was taken over"):
        await asyncio.wait_for(running, 10)
    await asyncio.sleep(0.3)
    assert len(store.accepted_rows(job_id)) == taken_at, "no row written after the take-over"
    job = store.get_job(job_id)
    assert job is not None and job.status == "running"  # the new holder's business now
    lease = store.lease_of(job_id)
    assert lease is not None and lease[0] == taker
    await llm.aclose()
    store.close()
    with caplog.at_level("ERROR", logger="asyncio"):
        gc.collect()
    assert not [record for record in caplog.records if "never retrieved" in record.getMessage()]


def test_two_generate_resume_at_once_one_refuses_and_the_file_is_exact(tmp_path: Path, fake_llm: FakeOpenAI,
                                                                       database_url: str) -> None:
    """Issue 9 item 3: two `datagen generate --resume 1` at the same time both exited 0 with ~1.9x
    the ordered rows. Now one refuses with a clear message and the other delivers exactly the order."""
    fake_llm.latency = 0.1
    store = Store.from_url(database_url)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(ORDER))
    job_id = store.create_job(DatasetSpec.from_data(ORDER).to_json())
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake_llm.base_url,
           "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_CONCURRENCY": "2",
           "DATAGEN_BATCH_SIZE": "5"}
    command = [sys.executable, "-m", "bot.cli", "generate", str(spec_path), "--resume", str(job_id), "-o"]
    processes = [subprocess.Popen([*command, str(tmp_path / f"out{i}.csv")], env=env, cwd=tmp_path,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    codes = sorted(process.returncode for process in processes)
    assert codes == [0, 1], outputs
    refused = next(err for (out, err), process in zip(outputs, processes) if process.returncode == 1)
    assert f"job {job_id} is being generated by another process since" in refused
    written = next(tmp_path / f"out{i}.csv" for i, process in enumerate(processes) if process.returncode == 0)
    lines = written.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 200
    assert Counter(line.rsplit(",", 1)[1] for line in lines[1:]) == {"positive": 120, "negative": 80}
    store.close()


class SlowReadsStore(Store):
    """A database that answers the reads after a job's end slowly (a loaded machine): longer than
    a heartbeat, so one beat falls after finish_job released the lease."""

    def rejected_reasons(self, job_id: int) -> dict[str, int]:
        import time

        time.sleep(0.5)
        return super().rejected_reasons(job_id)


async def test_a_heartbeat_after_the_job_finished_does_not_cancel_the_run(database_url: str, settings: Settings,
                                                                         fake_llm: FakeOpenAI) -> None:
    """finish_job releases the lease; a renewal after it used to find the lease gone and cancel the
    finished run: the job was "done" but the run ended in CancelledError (a worker's job "Aborted",
    never reported done; in one process the chat never got the file)."""
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "batch_size": 5,
                                           "lease_seconds": 0.3})
    store = SlowReadsStore.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    generator = Generator(llm, store, settings)
    job_id = generator.create_job(DatasetSpec.from_data(ORDER))
    result = await asyncio.wait_for(generator.run(job_id), 60)
    assert result.status == "done"
    assert Counter(row.label for row in store.accepted_rows(job_id)) == {"positive": 120, "negative": 80}
    assert not store.is_claimed(job_id)
    await llm.aclose()
    store.close()


def freeze_once_after_renewing(store: Store, seconds: float) -> threading.Event:
    """Sleep `seconds` inside the next fenced write, right after it renewed (and locked) the lease
    row: what a SIGSTOP there does. The event is set when it wakes."""
    woke = threading.Event()

    @event.listens_for(store.engine, "after_cursor_execute")
    def freeze(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE JOBLEASE") and not woke.is_set():
            time.sleep(seconds)
            woke.set()

    return woke


@pytest.mark.postgres
def test_a_write_whose_session_the_server_ended_is_stored_by_its_still_holding_owner(postgres_url: str) -> None:
    """A busy machine paused a live holder mid-write past the idle-in-transaction timeout; no one
    took the job (its lease is still good): the write is done again, not lost, not doubled."""
    store = Store(make_engine(postgres_url, idle_in_transaction_seconds=1))
    job_id = new_job(store)
    owner = new_owner()
    store.claim_job(job_id, owner, ttl=30)
    woke = freeze_once_after_renewing(store, 2.5)
    store.add_examples(job_id, [NewRow({"text": "paused write"}, "positive", dedupe_key="k1")], requests=1, owner=owner)
    assert woke.is_set(), "the write was paused"
    assert [row.fields["text"] for row in store.accepted_rows(job_id)] == ["paused write"]
    assert store.get_job(job_id).requests == 1  # type: ignore[union-attr]
    store.close()


@pytest.mark.postgres
def test_a_holder_frozen_inside_a_write_is_taken_over_and_stores_nothing_when_it_wakes(postgres_url: str) -> None:
    """A worker frozen (SIGSTOP, a suspended VM) between two statements of a fenced write holds
    the lease row's lock: PostgreSQL ends its session after the idle-in-transaction timeout, so
    another process takes the job over while it still sleeps; the woken write raises LeaseLost
    and stores nothing. (Before the timeout, the take-over waited for the frozen one: a CI run.)"""
    frozen_store = Store(make_engine(postgres_url, idle_in_transaction_seconds=1))
    other = Store.from_url(postgres_url)
    job_id = new_job(frozen_store)
    first, second = new_owner(), new_owner()
    frozen_store.claim_job(job_id, first, ttl=1)
    woke = freeze_once_after_renewing(frozen_store, 6)

    outcome: list[BaseException | None] = []

    def frozen_write() -> None:
        try:
            frozen_store.add_examples(job_id, [NewRow({"text": "late write"}, "positive", dedupe_key="k1")],
                                      owner=first, lease_seconds=1)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001  (asserted below)
            outcome.append(exc)

    writer = threading.Thread(target=frozen_write)
    writer.start()
    deadline = time.monotonic() + 5
    while True:
        try:
            other.claim_job(job_id, second)
            break
        except JobBusy:
            assert time.monotonic() < deadline, "the lease was never free"
            time.sleep(0.1)
    assert not woke.is_set(), "the take-over waited for the frozen holder to wake"
    writer.join(20)
    assert outcome and isinstance(outcome[0], LeaseLost), outcome
    assert other.accepted_rows(job_id) == [] and other.lease_of(job_id)[0] == second  # type: ignore[index]
    frozen_store.close()
    other.close()
