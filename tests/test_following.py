"""Orders handed to `datagen worker`s (DATAGEN_WORKERS=external) are followed by one chat replica
at a time (storage/follows.py, core/conversation/following.py): when the replica that queued an
order is SIGKILLed, another one takes it over and delivers the file, once; with two replicas
alive the file comes once; Cancel pressed on a replica that does not follow the order stops the
worker's job, its rows kept. On a real PostgreSQL, with real worker processes."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.events import ButtonPress, Document, Progress
from core.settings import Settings
from tests.dialog_support import User, csv_rows, find_choice, label_counts, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI
from tests.test_workers import REPO, start_worker, wait_for, workers  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres

ORDER = "Produce 300 examples: 150 positive and 150 negative tweets about trains."

# A chat replica in a process of its own (so it can be SIGKILLed): a real Dialog whose output
# channel appends each reply to a JSON-lines file; it handles the button presses read from stdin.
REPLICA = """
import asyncio, json, sys
from core.dialog import Dialog
from core.events import ButtonPress, ChatRef
from core.settings import Settings
from storage.store import Store

class Output:
    def __init__(self, path):
        self.file = open(path, "a")
    async def send(self, chat, reply):
        text = getattr(reply, "text", None) or getattr(reply, "caption", "")
        self.file.write(json.dumps({"type": type(reply).__name__, "text": text,
                                    "filename": getattr(reply, "filename", None)}) + "\\n")
        self.file.flush()

async def main():
    dialog = Dialog("test", Output(sys.argv[1]), Settings(_env_file=None), open_store=Store.from_url)
    await dialog.start()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        event = json.loads(line)
        await dialog.handle(ChatRef(event["chat"], event["user"]), ButtonPress(event["action"], event["value"]))
        print("handled", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def replica_settings(settings: Settings, postgres_url: str) -> Settings:
    return settings.model_copy(update={"database_url": postgres_url, "workers": "external", "lease_seconds": 2.0})


def dataset_files(replies: list) -> list[Document]:  # type: ignore[type-arg]
    return [r for r in replies if isinstance(r, Document) and r.filename.startswith("dataset-")
            and r.filename.endswith((".csv", ".json", ".jsonl", ".xlsx"))]  # not the card nor the chart


async def order_until_preview(user: User) -> list:  # type: ignore[type-arg]
    summary = await user.send(ORDER)
    return previews(await user.press(summary, "preview"))


def start_replica(postgres_url: str, fake: FakeOpenAI, output: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake.base_url,
           "DATAGEN_LLM": "openai", "DATAGEN_MODEL": "fake-model", "DATABASE_URL": postgres_url,
           "DATAGEN_WORKERS": "external", "DATAGEN_LEASE_SECONDS": "2", "DATAGEN_LANGUAGE_CHECK": "false",
           "DATAGEN_PROGRESS_INTERVAL": "0"}
    process = subprocess.Popen([sys.executable, "-c", REPLICA, str(output)], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def replies_in(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_a_sigkilled_replica_s_order_is_delivered_once_by_another(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    other = await new_user(replica_settings(settings, postgres_url))  # a replica that stays
    output = tmp_path / "killed-replica.jsonl"
    killed = start_replica(postgres_url, fake_llm, output)
    try:
        shown = (await order_until_preview(other))[0]
        generate = find_choice([shown], "generate")
        fake_llm.latency = 0.15
        assert killed.stdin is not None and killed.stdout is not None
        killed.stdin.write(json.dumps({"chat": other.chat.conversation, "user": other.chat.user,
                                       "action": generate.action, "value": generate.value}) + "\n")
        killed.stdin.flush()
        assert killed.stdout.readline().strip() == "handled"
        store = other.dialog.store
        job_id = max(job.id for job in store.unfinished_jobs(kind="dataset"))  # type: ignore[attr-defined]
        await wait_for(lambda: sum(store.accepted_counts(job_id).values()) >= 20, 30, "first rows")
        assert any(r["type"] == "Progress" for r in replies_in(output)), "the queuing replica followed it"
        killed.kill()
        killed.wait(10)
        assert sum(store.accepted_counts(job_id).values()) < 300, "killed mid-job"
        await wait_for(lambda: dataset_files(other.output.for_chat(other.chat)), 90, "the file from the other replica")
        await asyncio.sleep(3 * 2.0)  # three more lease times: nobody delivers it again
        third = await new_user(replica_settings(settings, postgres_url), chat=other.chat)  # a replica starting later
        await asyncio.sleep(2.0)
        replies = other.take()
        files = dataset_files(replies)
        assert len(files) == 1, [f.filename for f in files]
        assert f"continuing job #{job_id}" in texts(replies)
        assert label_counts(csv_rows(files[0])) == {"positive": 150, "negative": 150}
        assert not dataset_files(third.take()), "a replica started later delivered it again"
        assert not [r for r in replies_in(output) if r["type"] == "Document"]
        await third.dialog.aclose()
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait(10)
        await other.dialog.aclose()


async def test_two_live_replicas_deliver_an_order_once(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    """The second replica starts while the first follows the order (it used to follow every
    unfinished order of its channel at start, so the chat got the file twice)."""
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    first = await new_user(replica_settings(settings, postgres_url))
    second: User | None = None
    try:
        shown = (await order_until_preview(first))[0]
        fake_llm.latency = 0.1
        await first.press([shown], "generate", settle=False)
        job_id = first.dialog.running_jobs[0]
        store = first.dialog.store
        await wait_for(lambda: sum(store.accepted_counts(job_id).values()) >= 10, 30, "first rows")
        second = await new_user(replica_settings(settings, postgres_url), chat=first.chat)
        await asyncio.wait_for(first.dialog.wait_idle(), 90)
        await asyncio.sleep(3 * 2.0)  # the second replica's sweeps, several lease times
        await asyncio.wait_for(second.dialog.wait_idle(), 30)
        files = dataset_files(first.take()) + dataset_files(second.take())
        assert len(files) == 1, [f.filename for f in files]
        assert label_counts(csv_rows(files[0])) == {"positive": 150, "negative": 150}
    finally:
        await first.dialog.aclose()
        if second is not None:
            await second.dialog.aclose()


async def test_cancel_on_a_replica_that_does_not_follow_the_order_stops_the_worker(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    first = await new_user(replica_settings(settings, postgres_url))
    second: User | None = None
    try:
        shown = (await order_until_preview(first))[0]
        fake_llm.latency = 0.15
        replies = await first.press([shown], "generate", settle=False)
        job_id = first.dialog.running_jobs[0]
        store = first.dialog.store
        await wait_for(lambda: sum(store.accepted_counts(job_id).values()) >= 20, 30, "first rows")
        cancel = find_choice(replies + first.take(), "canceljob")  # the progress message's button
        second = await new_user(replica_settings(settings, postgres_url), chat=first.chat)
        assert not second.dialog.is_running(job_id), "the second replica does not follow it"
        answer = texts(await second.send(ButtonPress(cancel.action, cancel.value), settle=False))
        assert f"Stopped job #{job_id}" in answer, answer
        job = store.get_job(job_id)
        assert job is not None and job.status == "cancelled"
        await wait_for(lambda: "cancelled by its user" in (tmp_path / "worker0.log").read_text(), 10,
                       "the worker to stop the job")
        requests, rows = len(fake_llm.requests), sum(store.accepted_counts(job_id).values())
        await asyncio.sleep(2.0)
        assert len(fake_llm.requests) == requests, "the worker still asks the LLM"
        assert 20 <= rows == sum(store.accepted_counts(job_id).values()) < 300, "rows are kept, none added"
        await asyncio.wait_for(first.dialog.wait_idle(), 10)
        followed = first.take()
        closed = [r for r in followed if isinstance(r, Progress) and r.finished]
        assert closed and f"Job #{job_id}: cancelled" in closed[-1].text, "the follower closed its progress"
        assert not dataset_files(followed + second.take())
    finally:
        await first.dialog.aclose()
        if second is not None:
            await second.dialog.aclose()


async def test_a_sigkilled_replica_s_annotation_order_is_delivered_once_by_another(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    """"Label my rows" handed to the workers: the replica that queued it is SIGKILLed; another one
    takes the order over (the sweep used to look for dataset orders only: the user never got the
    labeled file) and delivers it once."""
    from tests.fakes.openai_server import marked_text
    from tests.test_annotate_chat import as_txt, read_csv

    rng = random.Random(7)
    truth = ["refund" if i % 3 else "bug" for i in range(800)]
    rows = [marked_text(label, rng) for label in truth]
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    other = await new_user(replica_settings(settings, postgres_url))  # a replica that stays
    output = tmp_path / "killed-replica.jsonl"
    killed = start_replica(postgres_url, fake_llm, output)
    try:
        await other.send("label my rows")
        await other.upload("tickets.txt", as_txt(rows))
        label_all = find_choice(await other.send("refund, bug"), "labelall")  # the preview ran in this replica
        fake_llm.latency = 0.15
        assert killed.stdin is not None and killed.stdout is not None
        killed.stdin.write(json.dumps({"chat": other.chat.conversation, "user": other.chat.user,
                                       "action": label_all.action, "value": label_all.value}) + "\n")
        killed.stdin.flush()
        assert killed.stdout.readline().strip() == "handled"
        store = other.dialog.store
        job_id = max(job.id for job in store.unfinished_jobs(kind="annotation"))  # type: ignore[attr-defined]
        await wait_for(lambda: store.label_counts(job_id).get(None, 0) <= 760, 30, "first labels")
        await wait_for(lambda: any(r["type"] == "Progress" for r in replies_in(output)), 10,
                       "the queuing replica to follow it")
        killed.kill()
        killed.wait(10)
        assert store.label_counts(job_id).get(None, 0) > 0, "killed mid-job"
        name = f"labeled-{job_id}.csv"

        def files(replies: list) -> list[Document]:  # type: ignore[type-arg]
            return [r for r in replies if isinstance(r, Document) and r.filename == name]

        await wait_for(lambda: files(other.output.for_chat(other.chat)), 90, "the labeled file from the other replica")
        await asyncio.sleep(3 * 2.0)  # three more lease times: nobody delivers it again
        third = await new_user(replica_settings(settings, postgres_url), chat=other.chat)  # a replica starting later
        await asyncio.sleep(2.0)
        replies = other.take()
        delivered = files(replies)
        assert len(delivered) == 1, [r.filename for r in replies if isinstance(r, Document)]
        labeled = read_csv(delivered[0])
        assert [r["text"] for r in labeled] == rows and [r["label"] for r in labeled] == truth
        assert not files(third.take()), "a replica started later delivered it again"
        assert not [r for r in replies_in(output) if r["type"] == "Document"]
        await third.dialog.aclose()
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait(10)
        await other.dialog.aclose()


async def test_cancel_of_an_annotation_order_on_a_replica_that_does_not_follow_it_stops_the_worker(
    postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings  # noqa: F811
) -> None:
    """As for a dataset order: the stored status says cancelled, the worker stops (labels kept),
    the follower closes its progress. The other replica used to answer that nothing was running."""
    from tests.fakes.openai_server import marked_text
    from tests.test_annotate_chat import as_txt

    rng = random.Random(8)
    rows = [marked_text("refund" if i % 3 else "bug", rng) for i in range(800)]
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    first = await new_user(replica_settings(settings, postgres_url))
    second: User | None = None
    try:
        await first.send("label my rows")
        await first.upload("tickets.txt", as_txt(rows))
        shown = await first.send("refund, bug")
        fake_llm.latency = 0.15
        started = await first.press(shown, "labelall", settle=False)
        cancel = find_choice(started, "canceljob")
        job_id = int(cancel.value)
        store = first.dialog.store
        await wait_for(lambda: store.label_counts(job_id).get(None, 0) <= 760, 30, "first labels")
        second = await new_user(replica_settings(settings, postgres_url), chat=first.chat)
        await wait_for(lambda: not second.dialog.is_running(job_id), 5, "the second replica not to follow it")
        answer = texts(await second.send(ButtonPress(cancel.action, cancel.value), settle=False))
        assert f"Stopped job #{job_id}" in answer, answer
        job = store.get_job(job_id)
        assert job is not None and job.status == "cancelled"
        await wait_for(lambda: "cancelled by its user" in (tmp_path / "worker0.log").read_text(), 10,
                       "the worker to stop the job")
        requests, unlabeled = len(fake_llm.requests), store.label_counts(job_id).get(None, 0)
        await asyncio.sleep(2.0)
        assert len(fake_llm.requests) == requests, "the worker still asks the LLM"
        assert 0 < unlabeled == store.label_counts(job_id).get(None, 0) <= 760, "labels are kept, none added"
        await asyncio.wait_for(first.dialog.wait_idle(), 10)
        closed = [r for r in first.take() if isinstance(r, Progress) and r.finished]
        assert closed and f"Job #{job_id}: cancelled" in closed[-1].text, "the follower closed its progress"
    finally:
        await first.dialog.aclose()
        if second is not None:
            await second.dialog.aclose()
