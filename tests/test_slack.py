"""The Slack channel end to end: the real slack-bolt AsyncApp served over HTTP on 127.0.0.1,
really signed requests from the test (what Slack sends), the fake Slack Web API
(tests/fakes/slack_server.py) and the fake OpenAI server behind the real dialog."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session, select

from bot.slack import SlackBot, SlackOutput, build_app, plain_text, render_blocks, run_slack, split_blocks
from core.events import ChatRef, Choice, Preview, PreviewItem, Progress, Say
from core.settings import Settings
from storage.db import make_engine
from storage.models import Conversation
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-signing-secret"
TEAM = "T0001"
CHANNEL = "C0CHANNEL"
USER = "U0ALICE"

SEED_PROMPT = (
    "Produce 10 exemplars for sentiment analysis.\n"
    "Examples are categorized as either positive or negative.\n"
    "Produce 2 negative examples and 8 positive examples.\n"
    "Use this format for the examples:\n"
    "Q: <sentence>\n"
    "A: <sentiment>"
)


def slack_encoded(text: str) -> str:
    """How Slack encodes what a user typed (its three control characters)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- harness ---------------------------------------------------------------------------------


@dataclass
class SlackHarness:
    bot: SlackBot
    slack: FakeSlack
    llm: FakeOpenAI
    url: str
    session: aiohttp.ClientSession
    secret: str = SECRET

    _ids = itertools.count(1)

    async def post(self, body: str, content_type: str, *, timestamp: int | None = None,
                   signature: str | None = None) -> tuple[int, str, float]:
        """POST like Slack does: X-Slack-Request-Timestamp + X-Slack-Signature (v0 HMAC-SHA256)."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        if signature is None:
            signature = SignatureVerifier(self.secret).generate_signature(timestamp=ts, body=body)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}
        started = time.monotonic()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            return response.status, text, time.monotonic() - started

    async def command(self, text: str, *, user: str = USER, channel: str = CHANNEL) -> tuple[int, str, float]:
        form = {
            "token": "legacy", "team_id": TEAM, "team_domain": "fake", "channel_id": channel, "channel_name": "general",
            "user_id": user, "user_name": "alice", "command": "/dataset", "text": slack_encoded(text),
            "api_app_id": "A0APP", "response_url": f"{self.slack.root_url}/response", "trigger_id": "1.2.3",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, event_id: str | None = None) -> tuple[int, str, float]:
        envelope = {
            "token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
            "event": {"event_ts": event.get("ts", "1.0"), **event},
            "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": self.slack.bot_user_id, "is_bot": True}],
        }
        return await self.post(json.dumps(envelope), "application/json")

    async def mention(self, text: str, *, user: str = USER, channel: str = CHANNEL, ts: str = "1699999999.000200",
                      thread_ts: str | None = None) -> tuple[int, str, float]:
        event = {"type": "app_mention", "user": user, "channel": channel, "ts": ts,
                 "text": f"<@{self.slack.bot_user_id}> {slack_encoded(text)}"}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self.event(event)

    async def reply(self, channel: str, thread_ts: str | None, text: str = "", *, user: str = USER,
                    files: list[dict[str, Any]] | None = None) -> tuple[int, str, float]:
        """A message in a thread (or a DM when `thread_ts` is None and the channel is a D...)."""
        event: dict[str, Any] = {
            "type": "message", "user": user, "channel": channel, "ts": f"{time.time():.6f}",
            "text": slack_encoded(text), "channel_type": "im" if channel.startswith("D") else "channel",
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if files:
            event["subtype"] = "file_share"
            event["files"] = files
        return await self.event(event)

    async def press(self, message: dict[str, Any], button: dict[str, Any], *, user: str = USER) -> tuple[int, str, float]:
        """A block_actions payload for a button the bot really posted."""
        payload = {
            "type": "block_actions", "team": {"id": TEAM, "domain": "fake"}, "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": message["channel"]},
            "channel": {"id": message["channel"], "name": "general"},
            "message": {"type": "message", "ts": message["ts"], "thread_ts": message.get("thread_ts"),
                        "text": message["text"], "blocks": message["blocks"], "user": self.slack.bot_user_id},
            "response_url": f"{self.slack.root_url}/response",
            "actions": [{
                "type": "button", "action_id": button["action_id"], "block_id": "b", "value": button.get("value"),
                "text": button["text"], "action_ts": f"{time.time():.6f}",
            }],
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def find_button(messages: list[dict[str, Any]], label_part: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest message with a button whose label contains `label_part` (case-insensitive)."""
    for message in reversed(messages):
        for button in buttons(message):
            if label_part.lower() in button["text"]["text"].lower():
                return message, button
    raise AssertionError(f"no button {label_part!r} in {[[b['text']['text'] for b in buttons(m)] for m in messages]}")


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def slack_settings(settings: Settings, slack: FakeSlack, **extra: Any) -> Settings:
    return settings.model_copy(update={
        "slack_bot_token": slack.token, "slack_signing_secret": SECRET, "slack_api_url": slack.base_url, **extra,
    })


@asynccontextmanager
async def running_bot(settings: Settings, slack: FakeSlack, llm: FakeOpenAI, **extra: Any) -> AsyncIterator[SlackHarness]:
    """`datagen slack` in HTTP mode on 127.0.0.1 (random port), pointed at the fakes."""
    bot = build_app(slack_settings(settings, slack, **extra), progress_min_interval=0.05)
    await bot.start()
    runner, port = await bot.serve_http("127.0.0.1", 0)
    session = aiohttp.ClientSession()
    try:
        yield SlackHarness(bot, slack, llm, f"http://127.0.0.1:{port}/slack/events", session)
    finally:
        await session.close()
        await runner.cleanup()
        await bot.aclose()


@pytest.fixture
async def harness(settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI) -> AsyncIterator[SlackHarness]:
    async with running_bot(settings, slack, fake_llm) as h:
        yield h


# --- rendering and inbound text (pure functions) ---------------------------------------------


def test_preview_renders_each_example_with_its_own_rating_buttons() -> None:
    items = tuple(
        PreviewItem(example_id=40 + n, number=n, text=f"example <{n}> & co",
                    choices=(Choice("👍", "up", str(40 + n)), Choice("👎", "down", str(40 + n))))
        for n in (1, 2)
    )
    preview = Preview("Here are 2 examples:", items, choices=(Choice("Generate all", "generate"),))
    blocks = render_blocks(preview)
    assert [b["type"] for b in blocks] == ["section", "section", "actions", "section", "actions", "actions"]
    assert "example &lt;1&gt; &amp; co" in blocks[1]["text"]["text"]
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["dg:up:41", "dg:down:41", "dg:up:42", "dg:down:42", "dg:generate:"]
    assert [e.get("value") for e in blocks[2]["elements"]] == ["41", "41"]
    assert "value" not in blocks[5]["elements"][0]  # Slack rejects an empty button value


def test_long_replies_respect_block_kit_limits() -> None:
    items = tuple(PreviewItem(i, i, "x" * 10, (Choice("👍", "up", str(i)),)) for i in range(40))
    messages = split_blocks(render_blocks(Preview("intro", items)))
    assert len(messages) == 2 and all(len(m) <= 50 for m in messages)
    assert all(m[-1]["type"] == "actions" for m in messages)  # an example never loses its buttons
    long_text = render_blocks(Say("y" * 7000))
    assert len(long_text) == 3 and all(len(b["text"]["text"]) <= 3000 for b in long_text)
    same = render_blocks(Say("pick", (Choice("A", "x", "1"), Choice("B", "x", "1"))))
    first, second = same[1]["elements"]
    assert first["action_id"] != second["action_id"]


def test_inbound_text_is_what_the_user_typed() -> None:
    assert plain_text("<@UBOT> 10 reviews &lt;positive&gt; &amp; more", "UBOT") == "10 reviews <positive> & more"
    assert plain_text("see <https://x.test/a|the spec> in <#C1|data>", "UBOT") == "see the spec in #data"
    assert plain_text("<@UBOT|datagen>  status", "UBOT") == "/status"
    assert plain_text("Cancel", "UBOT") == "/cancel"
    assert plain_text("cancel the negative ones", "UBOT") == "cancel the negative ones"
    assert plain_text("<@UOTHER> is my colleague", "UBOT") == "<@UOTHER> is my colleague"


# --- HTTP mode: signatures, access control, acks -----------------------------------------------


async def test_unsigned_forged_and_replayed_requests_are_refused(harness: SlackHarness) -> None:
    body = urlencode({"command": "/dataset", "text": "10 reviews", "user_id": USER, "channel_id": CHANNEL, "team_id": TEAM})
    status, _, _ = await harness.post(body, "application/x-www-form-urlencoded", signature="")
    assert status == 401
    status, _, _ = await harness.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert status == 401
    old = int(time.time()) - 10 * 60  # a captured request replayed 10 minutes later
    replayed = SignatureVerifier(SECRET).generate_signature(timestamp=str(old), body=body)
    status, _, _ = await harness.post(body, "application/x-www-form-urlencoded", timestamp=old, signature=replayed)
    assert status == 401
    harness.secret = "someone-elses-secret"
    status, _, _ = await harness.post(body, "application/x-www-form-urlencoded")
    assert status == 401
    await asyncio.sleep(0.2)
    assert harness.slack.calls_of("chat.postMessage") == []
    assert harness.llm.requests == []


def conversations_in(h: SlackHarness) -> int:
    with Session(make_engine(h.bot.settings.database_url)) as session:
        return len(session.exec(select(Conversation)).all())


async def test_a_disallowed_user_gets_one_polite_refusal_and_nothing_else(
    settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI
) -> None:
    async with running_bot(settings, slack, fake_llm, slack_allowed_users="U0BOB, U0CAROL") as h:
        status, text, _ = await h.command(SEED_PROMPT)  # Alice is not on the list
        assert status == 200 and "not available" in text  # the command's ack, shown only to her
        assert (await h.mention(SEED_PROMPT))[0] == 200
        assert (await h.reply("D0ALICE", None, "10 reviews please"))[0] == 200
        await h.bot.wait_idle()
        refusals = slack.ephemeral
        assert [(r["channel"], r["user"]) for r in refusals] == [(CHANNEL, USER), ("D0ALICE", USER)]
        assert all("not available" in r["text"] for r in refusals)
        assert slack.calls_of("chat.postMessage") == []
        assert fake_llm.requests == []
        assert conversations_in(h) == 0  # nothing reached the database either
        # Bob is on the list and gets served.
        assert (await h.reply("D0BOB", None, "help", user="U0BOB"))[0] == 200
        await h.bot.wait_idle()
        assert [c["channel"] for c in slack.calls_of("chat.postMessage")] and all(
            c["channel"] == "D0BOB" for c in slack.calls_of("chat.postMessage"))


async def test_allowed_channels_limit_where_the_bot_works(settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI) -> None:
    async with running_bot(settings, slack, fake_llm, slack_allowed_channels="C0DATA") as h:
        status, text, _ = await h.command("10 reviews", channel=CHANNEL)
        assert status == 200 and "not available" in text
        await h.command("10 reviews", channel="C0DATA")
        await h.bot.wait_idle()
        assert {c["channel"] for c in slack.calls_of("chat.postMessage")} == {"C0DATA"}


# --- whole orders ------------------------------------------------------------------------------


def has_action(action: str, *, channel: str | None = None, thread_ts: str | None = None) -> Any:
    """A message predicate: posted in this thread and offering a button for `action`."""
    def where(message: dict[str, Any]) -> bool:
        if channel is not None and message["channel"] != channel:
            return False
        if thread_ts is not None and message.get("thread_ts") != thread_ts:
            return False
        return any(b["action_id"].startswith(f"dg:{action}:") for b in buttons(message))
    return where


def button_for(message: dict[str, Any], action: str) -> dict[str, Any]:
    return next(b for b in buttons(message) if b["action_id"].startswith(f"dg:{action}:"))


def label_counts(data: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        counts[row["label"].casefold()] = counts.get(row["label"].casefold(), 0) + 1
    return counts


async def test_seed_prompt_via_slash_command_ends_in_a_csv_in_the_thread(
    settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI
) -> None:
    # Small sequential batches of a slightly slow LLM, so the job reports progress several times.
    async with running_bot(settings, slack, fake_llm, batch_size=2, concurrency=1) as harness:
        await _order_by_slash_command(harness, slack, fake_llm)


async def _order_by_slash_command(harness: SlackHarness, slack: FakeSlack, llm: FakeOpenAI) -> None:
    status, body, elapsed = await harness.command(SEED_PROMPT)
    assert status == 200 and body == "" and elapsed < 1.0

    root = await slack.wait_message(lambda m: m["channel"] == CHANNEL and m["thread_ts"] is None, what="root message")
    assert f"<@{USER}>" in root["text"] and "Produce 10 exemplars" in root["text"]
    thread = root["ts"]
    summary = await slack.wait_message(has_action("preview", channel=CHANNEL, thread_ts=thread), what="summary")
    assert "10" in summary["text"]

    await harness.press(summary, button_for(summary, "preview"))
    preview = await slack.wait_message(has_action("up", thread_ts=thread), what="preview")
    blocks = preview["blocks"]
    examples = [(blocks[i], blocks[i + 1]) for i in range(len(blocks) - 1)
                if blocks[i]["type"] == "section" and blocks[i + 1]["type"] == "actions"
                and blocks[i + 1]["elements"][0]["action_id"].startswith("dg:up:")]
    assert len(examples) >= 2
    for section, actions in examples:
        up, down = actions["elements"]
        assert (up["text"]["text"], down["text"]["text"]) == ("👍", "👎")
        assert up["value"] == down["value"] and up["value"].isdigit()
        assert section["text"]["text"].startswith("#")
    shown_labels = {s["text"]["text"].rsplit("→", 1)[-1].strip().casefold() for s, _ in examples}
    assert shown_labels == {"positive", "negative"}

    before = len(slack.calls_of("chat.postMessage"))
    await harness.press(preview, examples[0][1]["elements"][0])  # 👍 on the first example
    await harness.press(preview, examples[1][1]["elements"][1])  # 👎 on the second
    await slack.wait_for("chat.postMessage", count=before + 2)  # each rating is answered

    llm.latency = 0.15
    await harness.press(preview, button_for(preview, "generate"))
    uploads = await slack.wait_for("files.completeUploadExternal", count=3, timeout=20)
    await harness.bot.wait_idle()

    dataset, card, chart = slack.uploads
    assert dataset["channel_id"] == CHANNEL and dataset["thread_ts"] == thread
    assert dataset["files"][0]["name"].endswith(".csv")
    assert label_counts(dataset["files"][0]["data"]) == {"negative": 2, "positive": 8}
    assert "negative: 2" in dataset["initial_comment"].lower() and "positive: 8" in dataset["initial_comment"].lower()
    assert card["thread_ts"] == thread and card["files"][0]["name"].endswith(".md")
    assert card["files"][0]["data"].decode().startswith("#")
    assert "variety: " in dataset["initial_comment"]  # the delivery message carries the variety line
    # The chart: a PNG file in the same thread.
    assert chart["thread_ts"] == thread and chart["files"][0]["name"].endswith(".chart.png")
    assert chart["files"][0]["data"].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(uploads) == 3

    # One progress message, posted with a Cancel button, then edited in place, ending finished.
    progress_posts = [c for c in slack.calls_of("chat.postMessage") if has_action("canceljob", thread_ts=thread)(c)]
    assert len(progress_posts) == 1
    edited = [m for m in slack.thread(CHANNEL, thread) if m["edits"]]
    assert len(edited) == 1, [m["text"] for m in slack.thread(CHANNEL, thread)]
    final = edited[0]
    updates = [c["text"] for c in slack.calls_of("chat.update") if c["ts"] == final["ts"]]
    assert len(updates) >= 2, updates  # intermediate progress too, not only the final state
    assert len(set(updates)) == len(updates)  # never the same text twice
    assert "10/10" in final["text"] and not buttons(final)  # finished: no Cancel any more


async def test_seed_prompt_via_mention_continues_in_its_thread_without_mentions(harness: SlackHarness) -> None:
    slack = harness.slack
    mention_ts = "1699999999.000300"
    status, _, elapsed = await harness.mention(SEED_PROMPT, ts=mention_ts)
    assert status == 200 and elapsed < 1.0
    summary = await slack.wait_message(has_action("preview", channel=CHANNEL, thread_ts=mention_ts), what="summary")
    number = 1 + [b["action_id"].split(":")[1] for b in buttons(summary)].index("preview")

    await harness.reply(CHANNEL, mention_ts, str(number))  # the typed equivalent of the button, no mention
    preview = await slack.wait_message(has_action("up", thread_ts=mention_ts), what="preview")
    await harness.press(preview, button_for(preview, "generate"))
    await slack.wait_for("files.completeUploadExternal", count=2, timeout=20)
    dataset = slack.uploads[0]
    assert dataset["thread_ts"] == mention_ts
    assert label_counts(dataset["files"][0]["data"]) == {"negative": 2, "positive": 8}
    # Slack keeps "/new" for slash commands: the closing line names the word users can type.
    done = await slack.wait_message(lambda m: m.get("thread_ts") == mention_ts and m["text"].startswith("Done!"),
                                    what="the closing line")
    assert "type new for a new order" in done["text"] and "/new" not in done["text"]
    # A reply in a thread the bot is not part of is not for the bot.
    await harness.bot.wait_idle()
    calls = len(slack.calls)
    await harness.reply(CHANNEL, "1600000000.000001", "10 reviews please")
    await harness.bot.wait_idle()
    assert len(slack.calls) == calls


async def test_acks_stay_fast_while_the_llm_is_slow(harness: SlackHarness) -> None:
    slack, llm = harness.slack, harness.llm
    await harness.command(SEED_PROMPT)
    summary = await slack.wait_message(has_action("preview", channel=CHANNEL), what="summary")
    llm.latency = 2.0
    status, _, press_ack = await harness.press(summary, button_for(summary, "preview"))  # starts slow LLM work
    assert status == 200 and press_ack < 1.0
    deadline = time.monotonic() + 5
    while llm.in_flight == 0:  # the preview request is now waiting on the slow LLM
        assert time.monotonic() < deadline, "the preview never reached the LLM"
        await asyncio.sleep(0.01)
    acks = [
        (await harness.reply(CHANNEL, summary["thread_ts"], "status"))[2],
        (await harness.command("50 chatbot messages, intents greeting and goodbye"))[2],
        (await harness.mention("help", ts="1699999999.000400"))[2],
        (await harness.press(summary, button_for(summary, "change")))[2],
    ]
    assert llm.in_flight >= 1  # still busy: every ack above came while the LLM was working
    assert max(acks) < 1.0, acks
    preview = await slack.wait_message(has_action("up", thread_ts=summary["thread_ts"]), timeout=20, what="preview")
    assert preview["thread_ts"] == summary["thread_ts"]
    llm.latency = 0


async def test_a_429_from_slack_is_retried_and_the_message_arrives(harness: SlackHarness) -> None:
    slack = harness.slack
    slack.fail_next("chat.postMessage", times=1, retry_after=1)
    status, _, elapsed = await harness.command(SEED_PROMPT)
    assert status == 200 and elapsed < 1.0
    summary = await slack.wait_message(has_action("preview", channel=CHANNEL), timeout=15, what="summary")
    attempts = [c for c in slack.calls if c.method == "chat.postMessage"]
    assert not attempts[0].ok and attempts[1].ok
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After was honoured
    assert attempts[0].args["text"] == attempts[1].args["text"]  # the same (root) message, not lost
    roots = [m for m in slack.messages.values() if m["thread_ts"] is None]
    assert len(roots) == 1 and summary["thread_ts"] == roots[0]["ts"]  # posted once, not duplicated


UNBALANCED_CSV = "text,label\n" + "\n".join(
    [f"Great product number {i}, works perfectly,positive" for i in range(6)]
    + ["Broke after a day,negative", "Terrible support,negative"]
)


async def test_a_csv_shared_in_a_dm_reaches_the_dialog(harness: SlackHarness) -> None:
    slack = harness.slack
    file = slack.add_file("reviews.csv", UNBALANCED_CSV.encode())
    status, _, elapsed = await harness.reply("D0ALICE", None, "", files=[file])
    assert status == 200 and elapsed < 1.0
    offer = await slack.wait_message(has_action("balance", channel="D0ALICE"), what="balance offer")
    assert offer["thread_ts"] is None  # a DM is one conversation, no threads
    assert slack.downloads == [file["id"]]
    # The counts come from the downloaded bytes: 6 positive, 2 negative -> 4 negative to add.
    assert "4 negative" in offer["text"]


async def test_progress_is_throttled_and_ends_in_the_final_state(slack: FakeSlack) -> None:
    output = SlackOutput(AsyncWebClient(token=slack.token, base_url=slack.base_url), progress_min_interval=0.3)
    chat = ChatRef(f"{CHANNEL}:1699999999.000500", USER)
    cancel = (Choice("Cancel", "canceljob", "7"),)
    for done in range(0, 51):  # a burst much faster than Slack allows edits
        await output.send(chat, Progress(7, f"Job #7: {done}/100", done, 100, False, cancel))
    await asyncio.sleep(0.45)  # the newest pending state is flushed after the interval
    await output.send(chat, Progress(7, "Job #7: 50/100", 50, 100, False, cancel))  # unchanged: skipped
    await output.send(chat, Progress(7, "Job #7: done, 100/100", 100, 100, True))
    await output.aclose()

    posts, updates = slack.calls_of("chat.postMessage"), slack.calls_of("chat.update")
    assert len(posts) == 1 and posts[0]["thread_ts"] == "1699999999.000500"
    assert [u["text"] for u in updates] == ["Job #7: 50/100", "Job #7: done, 100/100"]
    final = slack.messages[updates[0]["ts"]]
    assert final["text"] == "Job #7: done, 100/100" and not buttons(final)


# --- Socket Mode and the `datagen slack` command ---------------------------------------------


async def test_socket_mode_takes_commands_and_button_presses(settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI) -> None:
    bot = build_app(settings.model_copy(update={
        "slack_bot_token": slack.token, "slack_app_token": slack.app_token, "slack_api_url": slack.base_url,
    }), progress_min_interval=0.05)
    await bot.start()
    handler = await bot.connect_socket_mode(slack.app_token)
    try:
        deadline = time.monotonic() + 5
        while not slack.socket_connected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        envelope = await slack.socket_send("slash_commands", {
            "command": "/dataset", "text": slack_encoded(SEED_PROMPT), "user_id": USER, "channel_id": CHANNEL,
            "team_id": TEAM, "api_app_id": "A0APP", "response_url": f"{slack.root_url}/response", "trigger_id": "1.2",
        })
        await slack.socket_ack(envelope)
        assert time.monotonic() - started < 1.0
        summary = await slack.wait_message(has_action("preview", channel=CHANNEL), what="summary")
        button = button_for(summary, "preview")
        envelope = await slack.socket_send("interactive", {
            "type": "block_actions", "user": {"id": USER}, "team": {"id": TEAM}, "api_app_id": "A0APP",
            "channel": {"id": CHANNEL}, "container": {"type": "message", "channel_id": CHANNEL},
            "message": {"ts": summary["ts"], "thread_ts": summary["thread_ts"], "text": summary["text"]},
            "actions": [{"type": "button", "action_id": button["action_id"], "value": button.get("value"),
                         "block_id": "b", "text": button["text"]}],
            "response_url": f"{slack.root_url}/response", "trigger_id": "1.3",
        })
        await slack.socket_ack(envelope)
        preview = await slack.wait_message(has_action("up", thread_ts=summary["thread_ts"]), what="preview")
        assert preview["channel"] == CHANNEL
    finally:
        await handler.close_async()
        await bot.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_datagen_slack_serves_http_mode_and_stops_cleanly(slack: FakeSlack, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATAGEN_", "DATABASE_", "SLACK_"))}
    env.update({
        "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
        "PORT": str(port), "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": fake_llm.base_url, "DATAGEN_LLM": "openai",
        "DATAGEN_MODEL": "fake-model", "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", "DATAGEN_PROGRESS_INTERVAL": "0",
        "PYTHONPATH": str(ROOT),
    })
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "slack", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as session:
            h = SlackHarness(None, slack, fake_llm, f"http://127.0.0.1:{port}/slack/events", session)  # type: ignore[arg-type]
            deadline = time.monotonic() + 30
            while True:  # until the server listens
                try:
                    status, _, _ = await h.post("", "application/json", signature="")
                    break
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None and time.monotonic() < deadline, "datagen slack did not start"
                    await asyncio.sleep(0.1)
            assert status == 401  # unsigned
            status, _, elapsed = await h.command(SEED_PROMPT)
            assert status == 200 and elapsed < 1.0
            await slack.wait_message(has_action("preview", channel=CHANNEL), timeout=15, what="summary")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, output.decode(errors="replace")[-2000:]


def test_datagen_slack_explains_missing_or_refused_credentials(
    slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = Settings(database_url=f"sqlite:///{tmp_path}/t.db", openai_api_key="k", _env_file=None)  # type: ignore[call-arg]
    assert run_slack(base) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    assert run_slack(base.model_copy(update={"slack_bot_token": "xoxb-1"})) == 2
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
    refused = base.model_copy(update={"slack_bot_token": "xoxb-wrong", "slack_signing_secret": SECRET,
                                      "slack_api_url": slack.base_url})
    assert run_slack(refused) == 1
    assert "invalid_auth" in capsys.readouterr().err


async def test_dataset_in_a_channel_without_the_bot_says_how_to_invite_it(harness: SlackHarness) -> None:
    harness.slack.not_member_of.add("C0ELSEWHERE")
    status, _, _ = await harness.command(SEED_PROMPT, channel="C0ELSEWHERE")
    assert status == 200
    await harness.bot.wait_idle()
    assert [r["response_type"] for r in harness.slack.responses] == ["ephemeral"]
    assert "/invite @datagen" in harness.slack.responses[0]["text"]
    assert harness.llm.requests == [] and harness.slack.messages == {}


async def test_thread_replies_under_our_root_are_followed_after_a_restart(
    settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI
) -> None:
    async with running_bot(settings, slack, fake_llm) as h:
        await h.command(SEED_PROMPT)
        summary = await slack.wait_message(has_action("preview", channel=CHANNEL), what="summary")
        await h.bot.wait_idle()
    thread = summary["thread_ts"]
    async with running_bot(settings, slack, fake_llm) as h:  # same database, fresh process state
        event = {"type": "message", "user": USER, "channel": CHANNEL, "ts": f"{time.time():.6f}", "thread_ts": thread,
                 "parent_user_id": slack.bot_user_id, "text": "1", "channel_type": "channel"}
        assert (await h.event(event))[0] == 200
        preview = await slack.wait_message(has_action("up", thread_ts=thread), what="preview after restart")
        assert preview["channel"] == CHANNEL


async def test_help_names_the_commands_as_slack_users_type_them(harness: SlackHarness) -> None:
    await harness.reply("D0ALICE", None, "help")
    answer = await harness.slack.wait_message(lambda m: "Commands:" in m["text"], what="the help text")
    assert "new – start over" in answer["text"] and "status – where are we" in answer["text"]
    assert "/new" not in answer["text"] and "/status" not in answer["text"]
    await harness.reply("D0ALICE", None, "status")  # and the bare word works as the command
    status = await harness.slack.wait_message(lambda m: "No order yet" in m["text"], what="the status answer")
    assert "type help for examples" in status["text"]


async def test_a_thread_started_by_a_mention_is_followed_after_a_restart(
    settings: Settings, slack: FakeSlack, fake_llm: FakeOpenAI
) -> None:
    mention_ts = "1699999999.000700"
    async with running_bot(settings, slack, fake_llm) as h:
        await h.mention(SEED_PROMPT, ts=mention_ts)
        summary = await slack.wait_message(has_action("preview", thread_ts=mention_ts), what="summary")
        await h.bot.wait_idle()
    number = 1 + [b["action_id"].split(":")[1] for b in buttons(summary)].index("preview")
    async with running_bot(settings, slack, fake_llm) as h:  # same database, fresh process state
        conversations = conversations_in(h)
        # The thread's root is the user's mention (parent_user_id is theirs, not the bot's): only
        # the database knows the bot talks here.
        event = {"type": "message", "user": USER, "channel": CHANNEL, "ts": f"{time.time():.6f}",
                 "thread_ts": mention_ts, "parent_user_id": USER, "text": str(number), "channel_type": "channel"}
        status, _, elapsed = await h.event(event)
        assert status == 200 and elapsed < 1.0
        preview = await slack.wait_message(has_action("up", thread_ts=mention_ts), what="preview after restart")
        assert preview["channel"] == CHANNEL
        # A thread the bot never talked in stays someone else's, and the lookup created nothing.
        await h.bot.wait_idle()
        calls = len(slack.calls)
        await h.reply(CHANNEL, "1600000000.000009", "10 reviews please")
        await h.bot.wait_idle()
        assert len(slack.calls) == calls and conversations_in(h) == conversations


async def test_unusable_files_get_a_clear_answer_and_the_token_stays_home(harness: SlackHarness) -> None:
    slack = harness.slack
    foreign = {"id": "F9", "name": "leak.csv", "size": 10, "url_private": "http://203.0.113.9/files/leak.csv"}
    huge = {**slack.add_file("huge.csv", b"text,label\n"), "size": harness.bot.settings.max_upload_bytes + 1}
    await harness.reply("D0ALICE", None, "", files=[foreign])
    await harness.reply("D0ALICE", None, "", files=[huge])
    await harness.bot.wait_idle()
    said = [c["text"] for c in slack.calls_of("chat.postMessage")]
    assert any("couldn't download leak.csv" in t for t in said), said
    assert any("huge.csv is" in t and "DATAGEN_MAX_UPLOAD_BYTES" in t for t in said), said
    assert slack.downloads == []  # neither file was fetched with the bot token
    assert len(said) == 2  # and no confusing "empty message" answer on top


# --- shared threads: the order belongs to whoever placed it; user text never pings ------------


async def test_in_a_shared_thread_only_the_orderer_changes_the_order_and_nobody_gets_pinged(
    harness: SlackHarness,
) -> None:
    slack, bob = harness.slack, "U0BOB"
    thread = "1699999999.000400"
    await harness.mention(SEED_PROMPT, ts=thread)
    summary = await slack.wait_message(has_action("preview", channel=CHANNEL, thread_ts=thread), what="summary")

    # Bob, in Alice's thread: may look, may not change, preview or cancel.
    for attempt in ("make it 500", "cancel"):
        before = len(slack.calls_of("chat.postMessage"))
        await harness.reply(CHANNEL, thread, attempt, user=bob)
        answer = (await slack.wait_for("chat.postMessage", count=before + 1))[-1]
        assert "belongs to the person who placed it" in answer["text"], answer["text"]
    before = len(slack.calls_of("chat.postMessage"))
    await harness.press(summary, button_for(summary, "cancel"), user=bob)
    answer = (await slack.wait_for("chat.postMessage", count=before + 1))[-1]
    assert "belongs to the person who placed it" in answer["text"]
    before = len(slack.calls_of("chat.postMessage"))
    await harness.reply(CHANNEL, thread, "status", user=bob)
    status = (await slack.wait_for("chat.postMessage", count=before + 1))[-1]
    assert "10" in status["text"] and "belongs to" not in status["text"]
    await harness.bot.wait_idle()
    assert not [c for c in slack.calls_of("chat.postMessage") if "Order cancelled" in c["text"]]

    # Alice's order is intact: her preview, her feedback (with a channel-wide mention in it), her file.
    await harness.press(summary, button_for(summary, "preview"))
    preview = await slack.wait_message(has_action("up", thread_ts=thread), what="preview")
    before = len(slack.calls_of("chat.postMessage"))
    await harness.reply(CHANNEL, thread, "<!channel> <!here> make them shorter")
    noted = (await slack.wait_for("chat.postMessage", count=before + 1))[-1]
    assert "make them shorter" in noted["text"]
    await harness.press(preview, button_for(preview, "generate"))
    await slack.wait_for("files.completeUploadExternal", count=2, timeout=20)
    await harness.bot.wait_idle()
    assert label_counts(slack.uploads[0]["files"][0]["data"]) == {"negative": 2, "positive": 8}
    for call in slack.calls_of("chat.postMessage") + slack.calls_of("chat.update"):
        assert "<!channel>" not in call["text"] and "<!here>" not in call["text"], call["text"]
        assert "<!channel>" not in json.dumps(call.get("blocks") or [])
