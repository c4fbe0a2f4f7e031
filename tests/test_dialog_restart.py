"""A restart loses nothing: a new Dialog (a new process in production) on the same database
continues the conversation, and an interrupted job resumes and still delivers its file."""

from __future__ import annotations

import asyncio

from core.events import ButtonPress
from core.settings import Settings
from storage.store import Store
from tests.dialog_support import (
    SEED_PROMPT,
    User,
    csv_rows,
    documents,
    find_choice,
    label_counts,
    new_user,
    previews,
    texts,
    wait_for_rows,
)
from tests.fakes.openai_server import FakeOpenAI


async def restarted(user: User, settings: Settings) -> User:
    """Shut the first dialog down and start a fresh one on the same database, same chat."""
    await user.dialog.aclose()
    return await new_user(settings, chat=user.chat)


async def test_restart_mid_conversation_continues_with_typed_choices_and_ratings(
    settings: Settings, database_url: str
) -> None:
    settings = settings.model_copy(update={"database_url": database_url})  # SQLite and PostgreSQL
    user = await new_user(settings)
    summary = await user.send(SEED_PROMPT)
    find_choice(summary, "preview")

    user = await restarted(user, settings)
    replies = await user.send("1")  # "[1] Generate preview", offered by the previous process
    shown = previews(replies)
    assert len(shown) == 1, texts(replies)
    first = shown[0].items[0]

    user = await restarted(user, settings)
    replies = await user.send(f"+{first.number}")  # the preview's numbering survived too
    assert "👍" in texts(replies)
    replies = await user.send("shorter please")
    assert "shorter please" in texts(replies)

    user = await restarted(user, settings)
    try:
        replies = await user.send("/status")
        assert "10" in texts(replies)
        done = await user.send(ButtonPress("generate"))
        rows = csv_rows(documents(done)[0])
        assert label_counts(rows) == {"negative": 2, "positive": 8}
        assert first.text.split("\n→")[0] in [r["text"] for r in rows]  # the 👍 from two restarts ago
    finally:
        await user.dialog.aclose()


async def test_restart_mid_job_resumes_and_delivers(settings: Settings, fake_llm: FakeOpenAI, database_url: str) -> None:
    tuned = settings.model_copy(update={"concurrency": 2, "batch_size": 5, "database_url": database_url})
    user = await new_user(tuned)
    summary = await user.send("Produce 60 examples: 20 positive and 40 negative tweets about trains.")
    shown = previews(await user.press(summary, "preview"))[0]
    fake_llm.latency = 0.15
    replies = await user.press([shown], "generate", settle=False)
    await asyncio.sleep(0.05)
    job_id = int(find_choice(user.take() + replies, "canceljob").value)
    await wait_for_rows(user.dialog.store, job_id)
    await user.dialog.aclose()  # the process stops mid-job

    store = Store.from_url(tuned.database_url)
    job = store.get_job(job_id)
    assert job is not None and job.status in ("pending", "running")  # resumable, not "cancelled"
    made_before = len(store.accepted_rows(job_id, sources=["synthetic"]))
    assert 0 < made_before < 60
    store.close()

    fake_llm.latency = 0
    user = await new_user(tuned, chat=user.chat)  # start() resumes the job and tells the chat
    try:
        await user.dialog.wait_idle()
        replies = user.take()
        assert f"continuing job #{job_id}" in texts(replies)
        rows = csv_rows(documents(replies)[0])
        assert label_counts(rows) == {"positive": 20, "negative": 40}
        assert user.dialog.store.get_job(job_id).status == "done"
    finally:
        await user.dialog.aclose()
