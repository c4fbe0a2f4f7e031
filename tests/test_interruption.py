"""Interrupt a job (cancel its task, or SIGKILL the process running it), resume it, and get
exactly the ordered rows: none lost, none repeated. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.quality import dedupe_key, row_text
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI

ORDER = {"task": "classification", "topic": "hotel reviews", "labels": ["positive", "negative", "neutral"],
         "label_counts": {"positive": 90, "negative": 60, "neutral": 30}}
REPO = Path(__file__).resolve().parents[1]


def assert_complete(store: Store, job_id: int, spec: DatasetSpec) -> None:
    rows = store.accepted_rows(job_id)
    assert dict(Counter(row.label for row in rows)) == spec.quotas()
    keys = [dedupe_key(row_text(spec.task, row.fields)) for row in rows]
    assert len(keys) == len(set(keys))
    job = store.get_job(job_id)
    assert job is not None and job.status == "done"


async def test_cancel_then_resume(database_url: str, settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 3, "batch_size": 5})
    fake_llm.latency = 0.05
    spec = DatasetSpec.from_data(ORDER)
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    generator = Generator(llm, store, settings)
    job_id = generator.create_job(spec)

    task = asyncio.create_task(generator.run(job_id))
    while sum(store.accepted_counts(job_id).values()) < 40:
        await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
        raise AssertionError("run() must re-raise CancelledError")
    except asyncio.CancelledError:
        pass

    job = store.get_job(job_id)
    assert job is not None and job.status == "pending"  # interrupted, not cancelled by the user: resumable
    kept_before = store.accepted_rows(job_id)
    assert 40 <= len(kept_before) < 180
    requests_before = job.requests

    result = await Generator(llm, store, settings).run(job_id)  # a fresh engine, as after a restart
    await llm.aclose()
    assert result.status == "done" and result.accepted == spec.quotas()
    assert_complete(store, job_id, spec)
    after = {row.id: row for row in store.accepted_rows(job_id)}
    assert all(after[row.id] == row for row in kept_before)  # nothing stored before was lost or changed
    assert store.get_job(job_id).requests > requests_before  # type: ignore[union-attr]


async def test_a_cancel_racing_the_start_is_final(database_url: str, settings: Settings, fake_llm: FakeOpenAI) -> None:
    """The user's Cancel can land at any moment: before the job's start is stored, while it is
    being stored, mid-run. Whatever the order of the writes, the job ends "cancelled", is not
    among the jobs a restart resumes, and running it again generates nothing."""
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "batch_size": 5})
    fake_llm.latency = 0.01
    spec = DatasetSpec.from_data({**ORDER, "label_counts": {"positive": 20, "negative": 20, "neutral": 20}})
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    generator = Generator(llm, store, settings)
    rng = random.Random(9)
    job_ids = []
    for attempt in range(60):
        job_id = generator.create_job(spec)
        job_ids.append(job_id)
        task = asyncio.create_task(generator.run(job_id))
        for _ in range(rng.randint(0, 8)):  # a few event-loop turns: loading, storing the start, ...
            await asyncio.sleep(0)
        if rng.random() < 0.3:
            await asyncio.sleep(rng.uniform(0, 0.05))  # ... or mid-run
        order = attempt % 3
        if order == 0:  # the cancel is stored first, then the task is stopped
            await asyncio.to_thread(store.cancel_job, job_id)
            task.cancel()
        elif order == 1:  # both at once
            task.cancel()
            await asyncio.to_thread(store.cancel_job, job_id)
        else:  # the task is stopped first, the cancel stored after it ended
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.to_thread(store.cancel_job, job_id)
        await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.2)  # any write still on its way in a worker thread lands now
    statuses = Counter(store.get_job(job_id).status for job_id in job_ids)  # type: ignore[union-attr]
    assert statuses == {"cancelled": 60}
    assert [job.id for job in store.unfinished_jobs()] == []
    requests_before = len(fake_llm.requests)
    again = await generator.run(job_ids[0])
    await llm.aclose()
    assert again.status == "cancelled" and len(fake_llm.requests) == requests_before
    assert store.get_job(job_ids[0]).status == "cancelled"  # type: ignore[union-attr]
    store.close()


DRIVER = textwrap.dedent(
    """
    import asyncio, sys
    from core.generator import Generator
    from core.llm_openai import OpenAIBackend
    from core.settings import Settings
    from core.spec import DatasetSpec
    from storage.store import Store

    async def main() -> None:
        settings = Settings(openai_api_key="k", openai_base_url=sys.argv[1], llm="openai", database_url=sys.argv[2],
                            concurrency=2, batch_size=5, progress_interval=0, _env_file=None)
        store = Store.from_url(settings.database_url)
        llm = OpenAIBackend.from_settings(settings)
        await Generator(llm, store, settings).run(int(sys.argv[3]))

    asyncio.run(main())
    """
)


async def test_killed_process_resumes_exactly(database_url: str, settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2, "batch_size": 5})
    fake_llm.latency = 0.05
    spec = DatasetSpec.from_data(ORDER)
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    job_id = Generator(llm, store, settings).create_job(spec)

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", DRIVER, fake_llm.base_url, database_url, str(job_id)],
                               cwd=REPO, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while sum(store.accepted_counts(job_id).values()) < 30:
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the subprocess stored no rows"
            await asyncio.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)  # no clean-up code runs: the hardest interruption
        process.wait(10)
        process.stderr.close()  # type: ignore[union-attr]

    job = store.get_job(job_id)
    assert job is not None and job.status == "running"  # left behind by the crash...
    assert job_id in [j.id for j in store.unfinished_jobs()]  # ...and found for resuming
    before = store.accepted_rows(job_id)
    assert 30 <= len(before) < 180

    result = await Generator(llm, store, settings).run(job_id)
    await llm.aclose()
    assert result.status == "done"
    assert_complete(store, job_id, spec)
    after = {row.id: row for row in store.accepted_rows(job_id)}
    assert all(after[row.id] == row for row in before)


async def test_killed_datagen_generate_resumes_to_the_exact_file(
    database_url: str, fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    """The real CLI: SIGKILL `datagen generate` mid-job, then `--resume` it; the file is exact."""
    import csv

    fake_llm.latency = 0.05
    spec_path = tmp_path / "order.json"
    spec_path.write_text(__import__("json").dumps(ORDER), encoding="utf-8")
    output = tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake_llm.base_url,
           "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_CONCURRENCY": "2",
           "DATAGEN_BATCH_SIZE": "5", "DATAGEN_PROGRESS_INTERVAL": "0"}
    datagen = Path(sys.executable).with_name("datagen")
    command = [str(datagen) if datagen.exists() else "datagen", "generate", str(spec_path), "-o", str(output)]
    store = Store.from_url(database_url)

    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while True:
            jobs = store.unfinished_jobs()
            if jobs and sum(store.accepted_counts(jobs[0].id).values()) >= 30:
                break
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "datagen generate stored no rows"
            await asyncio.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stderr.close()  # type: ignore[union-attr]
    job_id = jobs[0].id
    assert not output.exists()

    resumed = await asyncio.to_thread(
        subprocess.run, [*command, "--resume", str(job_id)], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    spec = DatasetSpec.from_data(ORDER)
    assert dict(Counter(row["label"] for row in rows)) == spec.quotas()
    assert len({dedupe_key(row["text"]) for row in rows}) == len(rows)
    assert_complete(store, job_id, spec)
