"""The Telegram channel end to end: the real python-telegram-bot against a fake Bot API server on
127.0.0.1 (tests/fakes/telegram_server.py) and, where a conversation runs, the real dialog,
engine and storage against the fake OpenAI-compatible server (tests/fakes/openai_server.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import Session, select
from telegram.ext import Application

from bot.telegram import (
    TelegramBot,
    TelegramOutput,
    api_urls,
    build_application,
    make_application,
    parse_callback_data,
    run_telegram,
)
from core.events import ChatRef, Choice, Document, Preview, PreviewItem, Progress, Say
from core.settings import Settings
from storage.models import Conversation
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.telegram_server import BotMessage, FakeTelegramServer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHAT = 4242  # a private chat: chat id == user id
ALICE = ChatRef(conversation=str(CHAT), user=str(CHAT), user_name="alice")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


def telegram_settings(settings: Settings, tg: FakeTelegramServer, **changes: Any) -> Settings:
    return settings.model_copy(
        update={"telegram_bot_token": tg.token, "telegram_api_base_url": tg.base_url, **changes}
    )


@pytest.fixture
async def application(settings: Settings, tg: FakeTelegramServer) -> AsyncIterator[Application]:
    app = make_application(telegram_settings(settings, tg))
    await app.initialize()
    yield app
    await app.shutdown()


# --- rendering: core replies -> Bot API calls ---------------------------------------------------


async def test_choices_become_inline_buttons_whose_data_fits_64_bytes(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot)
    long_value = "x" * 80  # the core promises short values; the adapter must still never send > 64 bytes
    choices = (Choice("Generate all", "generate", "7"), Choice("Odd one", "pick", long_value))
    await output.send(ALICE, Say("Ready?", choices))

    [message] = tg.messages_to(CHAT)
    assert message.text == "Ready?"
    datas = [b["callback_data"] for b in message.buttons()]
    assert all(len(d.encode("utf-8")) <= 64 for d in datas)
    assert [b["text"] for b in message.buttons()] == ["Generate all", "Odd one"]
    assert output.codec.decode(datas[0]) == parse_callback_data("generate:7")
    decoded = output.codec.decode(datas[1])
    assert decoded is not None and (decoded.action, decoded.value) == ("pick", long_value)


async def test_long_text_is_split_and_buttons_stay_on_the_last_part(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot)
    text = "\n".join(f"line {i} " + "y" * 90 for i in range(100))  # ~9,800 characters
    await output.send(ALICE, Say(text, (Choice("OK", "ok"),)))

    messages = tg.messages_to(CHAT)
    assert len(messages) == 3
    assert "\n".join(m.text for m in messages) == text
    assert [bool(m.buttons()) for m in messages] == [False, False, True]


async def test_preview_items_are_rated_in_their_own_messages(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot)
    items = tuple(
        PreviewItem(example_id=100 + n, number=n, text=f"Q: sentence {n} A: positive",
                    choices=(Choice("👍", "up", str(100 + n)), Choice("👎", "down", str(100 + n))))
        for n in (1, 2, 3)
    )
    await output.send(ALICE, Preview("Preview (3 examples). Rate them.", items, (Choice("Generate all", "generate"),)))

    messages = tg.messages_to(CHAT)
    assert [m.text for m in messages[:3]] == [f"#{n} Q: sentence {n} A: positive" for n in (1, 2, 3)]
    for n, message in zip((1, 2, 3), messages[:3]):
        assert [(b["text"], b["callback_data"]) for b in message.buttons()] == [("👍", f"up:{100 + n}"), ("👎", f"down:{100 + n}")]
    assert messages[3].text == "Preview (3 examples). Rate them."
    assert [b["text"] for b in messages[3].buttons()] == ["Generate all"]


async def test_progress_is_one_message_edited_at_most_once_per_interval(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot, progress_edit_interval=0.5)
    cancel = (Choice("Cancel", "cancel", "9"),)
    await output.send(ALICE, Progress(9, "Job #9: 0/10", 0, 10, choices=cancel))
    await output.send(ALICE, Progress(9, "Job #9: 0/10", 0, 10, choices=cancel))  # identical: no call
    await output.send(ALICE, Progress(9, "Job #9: 3/10", 3, 10, choices=cancel))  # too soon: deferred
    await output.send(ALICE, Progress(9, "Job #9: 6/10", 6, 10, choices=cancel))  # replaces the deferred one
    assert len(tg.calls_of("sendMessage")) == 1 and not tg.calls_of("editMessageText")

    [message] = tg.messages_to(CHAT)
    await tg.wait_for(lambda: message.text == "Job #9: 6/10", timeout=3, what="the deferred edit")
    assert len(tg.calls_of("editMessageText")) == 1
    assert message.button("Cancel")["callback_data"] == "cancel:9"  # type: ignore[index]

    await output.send(ALICE, Progress(9, "Job #9: done, 10/10", 10, 10, finished=True))  # final: at once
    assert message.text == "Job #9: done, 10/10" and message.buttons() == []
    assert len(tg.calls_of("editMessageText")) == 2
    assert all(c.status == 200 for c in tg.calls_of("editMessageText"))  # never a "not modified" 400

    await output.send(ALICE, Progress(10, "Job #10: 0/5", 0, 5))  # another job: its own message
    assert len(tg.messages_to(CHAT)) == 2
    await output.aclose()


async def test_document_is_uploaded_from_memory_with_a_trimmed_caption(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot)
    data = "text,label\nGreat food,positive\n".encode("utf-8")
    await output.send(ALICE, Document("reviews.csv", data, caption="summary " * 300, mime_type="text/csv"))

    [message] = tg.documents_to(CHAT)
    assert message.document is not None
    assert message.document.filename == "reviews.csv" and message.document.data == data
    assert 1000 < len(message.caption) <= 1024 and message.caption.endswith("…")


async def test_a_document_over_telegrams_limit_is_explained_not_lost_silently(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot, max_document_bytes=100)
    await output.send(ALICE, Document("big.csv", b"x" * 101, caption="10 rows"))

    assert not tg.calls_of("sendDocument")
    [message] = tg.messages_to(CHAT)
    assert "big.csv" in message.text and "TELEGRAM_API_BASE_URL" in message.text


async def test_flood_control_retry_after_is_waited_out(application: Application, tg: FakeTelegramServer) -> None:
    output = TelegramOutput(application.bot)
    tg.fail_next("sendMessage", times=1, retry_after=1)
    started = asyncio.get_running_loop().time()
    await output.send(ALICE, Say("still delivered"))
    elapsed = asyncio.get_running_loop().time() - started

    assert [c.status for c in tg.calls_of("sendMessage")] == [429, 200]
    assert [m.text for m in tg.messages_to(CHAT)] == ["still delivered"]
    assert elapsed >= 1.0  # it honoured retry_after instead of hammering the server


def test_api_base_url_maps_to_ptb_urls() -> None:
    assert api_urls("http://localhost:8081") == ("http://localhost:8081/bot", "http://localhost:8081/file/bot")
    assert api_urls("http://localhost:8081/bot/") == ("http://localhost:8081/bot", "http://localhost:8081/file/bot")


# --- end to end: the real dialog, engine and storage behind the bot -----------------------------

SEED_PROMPT = (
    "Produce 10 exemplars for sentiment analysis. Examples are categorized as either positive or negative. "
    "Produce 2 negative examples and 8 positive examples. Use this format for the examples: Q: <sentence> A: <sentiment>"
)
OPEN_ANSWER = "restaurant reviews"  # for a question without buttons (the topic, most likely)


@asynccontextmanager
async def running_bot(settings: Settings, **start: Any) -> AsyncIterator[TelegramBot]:
    bot = build_application(settings, progress_edit_interval=0.05)
    await bot.start(poll_timeout=1, **start)
    try:
        yield bot
    finally:
        await bot.stop()


async def quiet(tg: FakeTelegramServer, since: int, *, period: float = 0.3, timeout: float = 15.0) -> None:
    """Wait until the bot has made a call after `since` and then nothing but polling for `period` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        real = [c for c in tg.calls[since:] if c.method != "getUpdates"]
        if real and not tg.pending_updates and loop.time() - real[-1].at >= period:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot did not settle")


def last_message(tg: FakeTelegramServer, chat_id: int = CHAT) -> BotMessage:
    return tg.messages_to(chat_id)[-1]


def with_button(tg: FakeTelegramServer, label_part: str, chat_id: int = CHAT) -> BotMessage | None:
    return next((m for m in reversed(tg.messages_to(chat_id)) if m.button(label_part)), None)


async def order_until_summary(tg: FakeTelegramServer, prompt: str = SEED_PROMPT) -> BotMessage:
    """Send the order as one DM, then answer whatever the bot still asks (its first button, the default,
    or OPEN_ANSWER), until the summary offers a preview. Tolerant of which questions the dialog asks."""
    since = len(tg.calls)
    tg.push_message(CHAT, CHAT, prompt, username="alice")
    for _ in range(10):
        await quiet(tg, since)
        message = last_message(tg)
        if message.button("preview"):
            return message
        since = len(tg.calls)
        if message.buttons():
            tg.push_callback(CHAT, CHAT, message.message_id, message.buttons()[0]["callback_data"], username="alice")
        else:
            tg.push_message(CHAT, CHAT, OPEN_ANSWER, username="alice")
    raise AssertionError(f"no summary; the bot said: {[m.text for m in tg.messages_to(CHAT)]}")


async def preview(tg: FakeTelegramServer, summary: BotMessage) -> tuple[list[BotMessage], BotMessage]:
    """Press "Generate preview"; return the rated items and the message with "Generate all"."""
    before = len(tg.messages_to(CHAT))
    tg.press(CHAT, CHAT, summary, "preview")
    final = await tg.wait_for(
        lambda: next((m for m in tg.messages_to(CHAT)[before:] if m.button("Generate all")), None), what="the preview"
    )
    items = [m for m in tg.messages_to(CHAT)[before:] if m.button("👍") and m.button("👎")]
    assert items, "the preview has no 👍/👎 items"
    return items, final


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def test_seed_prompt_to_a_csv_with_exactly_2_negative_and_8_positive(
    settings: Settings, tg: FakeTelegramServer, fake_llm: FakeOpenAI
) -> None:
    # Small batches, so the job reports progress several times.
    config = telegram_settings(settings, tg, batch_size=2, concurrency=2)
    async with running_bot(config):
        summary = await order_until_summary(tg)
        items, final = await preview(tg, summary)

        # Every button carries data within Telegram's limit, and the fake refused none of the calls.
        assert all(len(b["callback_data"].encode()) <= 64 for m in tg.messages_to(CHAT) for b in m.buttons())

        liked, disliked = items[0], items[1]
        answered = len(tg.calls_of("answerCallbackQuery"))
        seen = len(tg.messages_to(CHAT))
        tg.press(CHAT, CHAT, liked, "👍")
        tg.press(CHAT, CHAT, disliked, "👎")
        await tg.wait_for(lambda: len(tg.calls_of("answerCallbackQuery")) == answered + 2, what="both presses answered")
        await tg.wait_for(lambda: len(tg.messages_to(CHAT)) >= seen + 2, what="both ratings acknowledged")
        acknowledgements = [m.text for m in tg.messages_to(CHAT)[seen:]]
        assert any(text.startswith("👍") for text in acknowledgements) and any(text.startswith("👎") for text in acknowledgements)

        seen = len(tg.messages_to(CHAT))
        tg.press(CHAT, CHAT, final, "Generate all")
        [document] = await tg.wait_for(
            lambda: [m for m in tg.documents_to(CHAT) if m.document and m.document.filename.endswith(".csv")],
            timeout=30,
            what="the CSV",
        )
        [chart] = await tg.wait_for(lambda: tg.photos_to(CHAT), timeout=30, what="the chart as a photo")

    assert chart.photo is not None and chart.photo.data.startswith(PNG_SIGNATURE)
    assert chart.photo.filename.endswith(".chart.png") and "per label" in chart.caption
    assert document.document is not None
    assert "variety: " in document.caption  # the delivery message carries the variety line
    rows = csv_rows(document.document.data)
    labels = [row["label"] for row in rows]
    assert len(rows) == 10 and labels.count("negative") == 2 and labels.count("positive") == 8
    assert document.caption  # the summary travels with the file
    liked_text = liked.text.split(" ", 1)[1].split("\n")[0]
    disliked_text = disliked.text.split(" ", 1)[1].split("\n")[0]
    texts = [row["text"] for row in rows]
    assert liked_text in texts and disliked_text not in texts  # 👍 kept, 👎 left out

    # One progress message, edited in place, finally without the Cancel button.
    progress = [m for m in tg.messages_to(CHAT)[seen:] if m.edits]
    assert len(progress) == 1
    assert "10/10" in progress[0].text and not progress[0].buttons()
    assert all(c.status == 200 for c in tg.calls_of("editMessageText"))
    # The dataset card follows the data file.
    assert any(m.document and m.document.filename.endswith(".md") for m in tg.documents_to(CHAT))
    # Every press was answered (the client's spinner stops).
    assert {c.params["callback_query_id"] for c in tg.calls_of("answerCallbackQuery")} == set(tg.callback_query_ids)


def conversations_in(settings: Settings) -> list[Conversation]:
    store = Store.from_url(settings.database_url)
    try:
        with Session(store.engine) as session:
            return list(session.exec(select(Conversation)).all())
    finally:
        store.close()


async def test_a_user_not_allowed_gets_one_polite_message_and_reaches_nothing(
    settings: Settings, tg: FakeTelegramServer, fake_llm: FakeOpenAI
) -> None:
    config = telegram_settings(settings, tg, telegram_allowed_users="@Alice, 31337")
    stranger = 555
    async with running_bot(config) as bot:
        tg.push_message(stranger, stranger, SEED_PROMPT, username="mallory")
        tg.push_message(stranger, stranger, "/new", username="mallory")
        tg.push_callback(stranger, stranger, 1, "generate:", username="mallory")  # a forged press
        await tg.wait_for(lambda: bot.refused[stranger] == 3, what="three refused updates")
        await tg.wait_for(lambda: len(tg.calls_of("answerCallbackQuery")) == 1, what="the press answered")

        # Allowed by @username (case-insensitive) and by id: both reach the dialog.
        tg.push_message(CHAT, CHAT, "/help", username="alice")
        tg.push_message(31337, 31337, "/help", username=None)
        await tg.wait_for(lambda: tg.messages_to(CHAT) and tg.messages_to(31337), what="replies to allowed users")

    [refusal] = tg.messages_to(stranger)
    assert str(stranger) in refusal.text  # tells them what to pass on to the administrator
    assert fake_llm.requests == []
    assert sorted(c.external_id for c in conversations_in(config)) == sorted([str(CHAT), "31337"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_refuses_calls_without_the_secret_token(
    settings: Settings, tg: FakeTelegramServer, fake_llm: FakeOpenAI
) -> None:
    config = telegram_settings(
        settings, tg, telegram_webhook_url="https://bot.example.test/tg-hook", telegram_webhook_secret="right-Secret_1"
    )
    port = free_port()
    async with running_bot(config, webhook_listen="127.0.0.1", webhook_port=port):
        [registered] = tg.calls_of("setWebhook")
        assert registered.params["url"] == "https://bot.example.test/tg-hook"
        assert registered.params["secret_token"] == "right-Secret_1"
        assert not tg.calls_of("getUpdates")  # no polling in webhook mode

        url = f"http://127.0.0.1:{port}/tg-hook"
        async with aiohttp.ClientSession() as http:
            forged = tg.make_message_update(CHAT, CHAT, SEED_PROMPT, username="alice")
            async with http.post(url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                assert response.status == 403
            async with http.post(url, json=forged) as response:
                assert response.status == 403
            await asyncio.sleep(0.3)  # had it been accepted, the dialog would be answering by now
            assert not tg.messages_to(CHAT) and fake_llm.requests == [] and conversations_in(config) == []

            genuine = tg.make_message_update(CHAT, CHAT, "/help", username="alice")
            async with http.post(url, json=genuine, headers={"X-Telegram-Bot-Api-Secret-Token": "right-Secret_1"}) as response:
                assert response.status == 200
            await tg.wait_for(lambda: tg.messages_to(CHAT), what="the reply to the genuine update")


async def test_uploads_csv_reaches_the_dialog_other_types_and_big_files_are_refused_unread(
    settings: Settings, tg: FakeTelegramServer
) -> None:
    config = telegram_settings(settings, tg, max_upload_bytes=2000)
    seed = "text,label\nLovely soup,positive\nCold fries,negative\nGreat staff,positive\nNice view,positive\n"
    async with running_bot(config):
        tg.push_document(CHAT, CHAT, "seed.csv", seed.encode("utf-8"), username="alice")
        report = await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "seed.csv" in m.text], what="the upload report")
        assert "4" in report[0].text  # the dialog read the 4 rows we sent
        assert len(tg.file_downloads) == 1

        tg.push_document(CHAT, CHAT, "photo.png", b"\x89PNG", mime_type="image/png", username="alice")
        refusal = await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "photo.png" in m.text],
                                    what="the type refusal")
        assert "PDF, DOCX, Markdown" in refusal[0].text  # what it can read, documents included
        tg.push_document(CHAT, CHAT, "huge.csv", b"text,label\n", declared_size=5_000_000, username="alice")
        await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "huge.csv" in m.text], what="the size refusal")
        assert len(tg.file_downloads) == 1  # neither refused file was downloaded

        # A download that fails (here: Telegram no longer knows the file) gets an answer too.
        lost = tg.push_document(CHAT, CHAT, "lost.csv", seed.encode("utf-8"), username="alice")
        del tg.files[lost["message"]["document"]["file_id"]]
        await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "lost.csv" in m.text], what="the download failure")

        # A CSV sent with a generic name but a CSV MIME type is accepted too.
        tg.push_document(CHAT, CHAT, "export", seed.encode("utf-8"), mime_type="text/csv", username="alice")
        await tg.wait_for(lambda: len(tg.file_downloads) == 2, what="the MIME-typed CSV download")
        await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "export" in m.text], what="its report")


async def test_a_restarted_bot_finishes_the_job_and_delivers_the_file(
    settings: Settings, tg: FakeTelegramServer, fake_llm: FakeOpenAI
) -> None:
    config = telegram_settings(settings, tg)
    async with running_bot(config):
        summary = await order_until_summary(tg)
        _, final = await preview(tg, summary)
        fake_llm.latency = 30  # the LLM hangs: the job is mid-flight when the bot stops
        tg.press(CHAT, CHAT, final, "Generate all")
        await tg.wait_for(lambda: fake_llm.in_flight > 0, what="a generation request in flight")
    assert not tg.documents_to(CHAT)

    fake_llm.latency = 0
    async with running_bot(config):  # a new Application and a new Dialog on the same database
        [document] = await tg.wait_for(
            lambda: [m for m in tg.documents_to(CHAT) if m.document and m.document.filename.endswith(".csv")],
            timeout=30,
            what="the CSV after the restart",
        )
    assert document.document is not None
    labels = [row["label"] for row in csv_rows(document.document.data)]
    assert len(labels) == 10 and labels.count("negative") == 2 and labels.count("positive") == 8


async def test_the_cancel_button_on_the_progress_message_stops_the_job(
    settings: Settings, tg: FakeTelegramServer, fake_llm: FakeOpenAI
) -> None:
    config = telegram_settings(settings, tg)
    async with running_bot(config):
        summary = await order_until_summary(tg)
        _, final = await preview(tg, summary)
        fake_llm.latency = 30
        seen = len(tg.messages_to(CHAT))
        tg.press(CHAT, CHAT, final, "Generate all")
        progress = await tg.wait_for(
            lambda: next((m for m in tg.messages_to(CHAT)[seen:] if m.button("Cancel")), None), what="the progress message"
        )
        shown = progress.text
        tg.press(CHAT, CHAT, progress, "Cancel")
        await tg.wait_for(lambda: progress.text != shown and not progress.buttons(), what="the progress message to close")
        fake_llm.latency = 0
        await asyncio.sleep(0.3)
    assert not tg.documents_to(CHAT)


async def test_a_slow_update_does_not_hold_up_other_users(settings: Settings, tg: FakeTelegramServer) -> None:
    async with running_bot(telegram_settings(settings, tg)):
        since = len(tg.calls)
        tg.push_message(777, 777, "/help", username="bob")  # warm-up: the first answer also sets up the LLM client
        await quiet(tg, since)
        answers = len(tg.messages_to(777))
        tg.file_delay = 2.0  # alice's upload takes long to download
        tg.push_document(CHAT, CHAT, "seed.csv", b"text,label\nGood,positive\nBad,negative\n", username="alice")
        await tg.wait_for(lambda: tg.file_downloads, what="alice's download to start")
        started = asyncio.get_running_loop().time()
        tg.push_message(777, 777, "/help", username="bob")
        await tg.wait_for(lambda: len(tg.messages_to(777)) > answers, what="bob's answer")
        assert asyncio.get_running_loop().time() - started < 1.0
        await tg.wait_for(lambda: tg.messages_to(CHAT), what="alice's upload report")


async def test_a_restarted_bot_continues_the_conversation_from_old_buttons(
    settings: Settings, tg: FakeTelegramServer
) -> None:
    config = telegram_settings(settings, tg)
    async with running_bot(config):
        summary = await order_until_summary(tg)
    async with running_bot(config):
        # The button of a message sent by the previous process still works: the state is in the database.
        await preview(tg, summary)


# --- the `datagen telegram` entry point ---------------------------------------------------------


def test_bad_configuration_exits_with_2_and_one_line(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_telegram(settings.model_copy(update={"telegram_bot_token": None})) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
    insecure = settings.model_copy(update={"telegram_bot_token": "1:x", "telegram_webhook_url": "http://bot.example.test/hook"})
    assert run_telegram(insecure) == 2
    assert "https" in capsys.readouterr().err
    bad_secret = settings.model_copy(
        update={"telegram_bot_token": "1:x", "telegram_webhook_url": "https://bot.example.test/hook", "telegram_webhook_secret": "has space"}
    )
    assert run_telegram(bad_secret) == 2
    assert "TELEGRAM_WEBHOOK_SECRET" in capsys.readouterr().err


async def test_datagen_telegram_serves_until_sigterm(tg: FakeTelegramServer, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPENAI_", "DATAGEN_", "DATABASE_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": fake_llm.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "telegram",
        cwd=tmp_path, env=env | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await tg.wait_for(lambda: tg.calls_of("getUpdates"), timeout=30, what="the bot to start polling")
        tg.push_message(CHAT, CHAT, "/help", username="alice")
        await tg.wait_for(lambda: tg.messages_to(CHAT), timeout=15, what="the answer to /help")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, output.decode(errors="replace")[-2000:]
