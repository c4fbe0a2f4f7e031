"""Job/example queries on SQLite and (when reachable) a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import threading

from storage.jobs import NewRow
from storage.store import Store


def make_store(url: str) -> Store:
    return Store.from_url(url)


def test_job_lifecycle_and_counters(database_url: str) -> None:
    store = make_store(database_url)
    job_id = store.create_job('{"task": "qa", "count": 3}', kind="dataset", model="m via x")
    job = store.get_job(job_id)
    assert job is not None and job.status == "pending" and job.started_at is None
    assert [j.id for j in store.unfinished_jobs()] == [job_id]

    store.start_job(job_id, model="m via x")
    first_start = store.get_job(job_id).started_at  # type: ignore[union-attr]
    store.add_examples(job_id, [], requests=2, prompt_tokens=100, completion_tokens=40)
    store.add_examples(job_id, [], requests=1, prompt_tokens=50, completion_tokens=10)
    store.finish_job(job_id, "pending", elapsed=1.5)  # interrupted (Ctrl-C, shutdown): resumable
    assert [j.id for j in store.unfinished_jobs()] == [job_id]
    store.start_job(job_id)  # resumed: the first start time stays
    store.finish_job(job_id, "done", elapsed=2.0)

    job = store.get_job(job_id)
    assert job is not None
    assert (job.requests, job.prompt_tokens, job.completion_tokens) == (3, 150, 50)
    assert job.status == "done" and job.finished_at is not None
    assert job.started_at == first_start
    assert abs(job.elapsed_seconds - 3.5) < 1e-9
    assert store.unfinished_jobs() == []
    store.close()


def test_cancel_is_final_until_an_explicit_reopen_and_keys_name_jobs(database_url: str) -> None:
    store = make_store(database_url)
    job_id = store.create_job('{"task": "qa", "count": 3}', key="generate:abc")
    assert store.start_job(job_id)
    assert store.cancel_job(job_id)
    assert not store.start_job(job_id)  # a start that arrives late changes nothing
    assert not store.finish_job(job_id, "done", elapsed=1.0)
    job = store.get_job(job_id)
    assert job is not None and job.status == "cancelled" and job.elapsed_seconds == 1.0
    assert store.unfinished_jobs() == []
    assert not store.cancel_job(job_id)  # nothing left to cancel
    assert store.reopen_job(job_id)  # the user orders it again
    assert store.start_job(job_id) and store.finish_job(job_id, "done")
    assert not store.reopen_job(job_id) and not store.cancel_job(job_id)  # done stays done
    assert store.job_for_key("generate:abc").id == job_id  # type: ignore[union-attr]
    newer = store.create_job('{"task": "qa", "count": 3}', key="generate:abc")
    assert store.job_for_key("generate:abc").id == newer  # type: ignore[union-attr]
    assert store.job_for_key("generate:other") is None
    store.close()


def test_rows_counts_and_reasons(database_url: str) -> None:
    store = make_store(database_url)
    job_id = store.create_job("{}")
    other = store.create_job("{}")
    store.add_examples(job_id, [
        NewRow({"text": "Zażółć gęślą jaźń 🙂", "label": "positive"}, label="positive"),
        NewRow({"text": "meh", "label": "maybe"}, label="maybe", accepted=False, reason="bad label"),
        NewRow({"text": "kept one", "label": "negative"}, label="negative", source="kept"),
    ])
    store.add_examples(job_id, [
        NewRow({"text": "uploaded", "label": "negative"}, label="negative", source="uploaded"),
        NewRow({"text": "Zażółć gęślą jaźń 🙂", "label": "positive"}, label="positive", accepted=False, reason="duplicate"),
        NewRow({"text": "second", "label": "positive"}, label="positive"),
    ])
    store.add_examples(other, [NewRow({"text": "elsewhere", "label": "positive"}, label="positive")])

    rows = store.accepted_rows(job_id)
    assert [row.fields["text"] for row in rows] == ["Zażółć gęślą jaźń 🙂", "kept one", "uploaded", "second"]
    assert [row.source for row in rows] == ["synthetic", "kept", "uploaded", "synthetic"]
    assert [row.fields["text"] for row in store.accepted_rows(job_id, sources=["synthetic"])] == ["Zażółć gęślą jaźń 🙂", "second"]
    # Uploaded rows are context: they don't count toward the quotas.
    assert store.accepted_counts(job_id) == {"positive": 2, "negative": 1}
    assert store.rejected_reasons(job_id) == {"bad label": 1, "duplicate": 1}
    assert store.duplicate_count(job_id) == 1
    assert store.has_rows(job_id, source="kept") and not store.has_rows(other, source="kept")
    by_id = store.example_rows([rows[1].id])
    assert by_id[rows[1].id].fields == {"text": "kept one", "label": "negative"}
    store.close()


def test_batches_from_worker_threads_are_all_committed(database_url: str) -> None:
    """The engine commits from worker threads (asyncio.to_thread); nothing may get lost."""
    store = make_store(database_url)
    job_id = store.create_job("{}")
    lock = threading.Lock()

    def write(batch: int) -> None:
        with lock:  # as in the engine: one writer at a time
            store.add_examples(job_id, [NewRow({"text": f"{batch}-{i}"}, label="x") for i in range(10)], requests=1)

    async def main() -> None:
        await asyncio.gather(*(asyncio.to_thread(write, batch) for batch in range(30)))

    asyncio.run(main())
    assert store.accepted_counts(job_id) == {"x": 300}
    assert store.get_job(job_id).requests == 30  # type: ignore[union-attr]
    texts = [row.fields["text"] for row in store.accepted_rows(job_id)]
    assert len(set(texts)) == 300
    store.close()


def test_a_second_store_sees_committed_rows(database_url: str) -> None:
    """What one process committed is visible to a fresh connection (the resume path)."""
    writer = make_store(database_url)
    job_id = writer.create_job("{}")
    writer.add_examples(job_id, [NewRow({"text": "persisted"}, label="a")])
    reader = make_store(database_url)
    assert [row.fields for row in reader.accepted_rows(job_id)] == [{"text": "persisted"}]
    writer.close()
    reader.close()
