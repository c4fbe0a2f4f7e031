"""Driving a real `Dialog` like a user does, for the dialog tests (no platform, a collecting output)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from core.dialog import Dialog
from core.events import (
    ButtonPress,
    ChatRef,
    Choice,
    CollectingOutput,
    Document,
    Event,
    FileUpload,
    Message,
    Preview,
    Progress,
    Reply,
    Say,
)
from core.settings import Settings
from storage.store import Store

SEED_PROMPT = """Produce 10 exemplars for sentiment analysis.
Examples are categorized as either positive or negative.
Produce 2 negative examples and 8 positive examples.
Use this format for the examples:
Q: <sentence>
A: <sentiment>"""


@dataclass
class User:
    """One chat with the bot: send events, read what came back, press the buttons it offered."""

    dialog: Dialog
    output: CollectingOutput
    chat: ChatRef = field(default_factory=lambda: ChatRef("chat-1", "user-1", "Ada"))
    seen: list[Reply] = field(default_factory=list)

    async def send(self, event: Event | str, *, settle: bool = True) -> list[Reply]:
        """Send an event; with `settle`, also wait for the background work it started."""
        if isinstance(event, str):
            event = Message(event)
        await self.dialog.handle(self.chat, event)
        if settle:
            await self.dialog.wait_idle()
        return self.take()

    def take(self) -> list[Reply]:
        mine = [r for c, r in self.output.replies if c.conversation == self.chat.conversation]
        self.output.replies[:] = [(c, r) for c, r in self.output.replies if c.conversation != self.chat.conversation]
        self.seen.extend(mine)
        return mine

    async def press(self, replies: list[Reply], action: str, *, settle: bool = True) -> list[Reply]:
        choice = find_choice(replies, action)
        return await self.send(ButtonPress(choice.action, choice.value), settle=settle)

    async def upload(self, filename: str, data: bytes) -> list[Reply]:
        return await self.send(FileUpload(filename, data))


def texts(replies: list[Reply]) -> str:
    out = []
    for reply in replies:
        if isinstance(reply, (Say, Progress)):
            out.append(reply.text)
        elif isinstance(reply, Preview):
            out.append(reply.text)
            out.extend(item.text for item in reply.items)
        elif isinstance(reply, Document):
            out.append(reply.caption)
    return "\n".join(out)


def all_choices(replies: list[Reply]) -> list[Choice]:
    found: list[Choice] = []
    for reply in replies:
        found.extend(getattr(reply, "choices", ()))
    return found


def last_choices(replies: list[Reply]) -> tuple[Choice, ...]:
    for reply in reversed(replies):
        if isinstance(reply, (Say, Preview)) and reply.choices:
            return reply.choices
    raise AssertionError(f"no choices offered in {replies!r}")


def find_choice(replies: list[Reply], action: str) -> Choice:
    for choice in reversed(all_choices(replies)):
        if choice.action == action:
            return choice
    raise AssertionError(f"no {action!r} choice in {[(c.label, c.action) for c in all_choices(replies)]}\n{texts(replies)}")


def previews(replies: list[Reply]) -> list[Preview]:
    return [r for r in replies if isinstance(r, Preview)]


def documents(replies: list[Reply]) -> list[Document]:
    return [r for r in replies if isinstance(r, Document)]


def progress(replies: list[Reply]) -> list[Progress]:
    return [r for r in replies if isinstance(r, Progress)]


def csv_rows(document: Document) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))


def json_rows(document: Document) -> list[dict[str, Any]]:
    return json.loads(document.data.decode("utf-8"))


def label_counts(rows: list[dict[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        key = row["label"].casefold()
        counts[key] = counts.get(key, 0) + 1
    return counts


def generation_prompts(requests: list[dict[str, Any]]) -> list[str]:
    """The prompts of generation requests (not the intake's extraction calls)."""
    prompts = []
    for body in requests:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if "Produce exactly" in prompt:
            prompts.append(prompt)
    return prompts


async def wait_for_rows(store: Store, job_id: int, minimum: int = 1, timeout: float = 10.0) -> int:
    """Wait until a running job has stored some rows (instead of a sleep that a slow CI can outrun)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        made = len(store.accepted_rows(job_id, sources=["synthetic"]))
        if made >= minimum or loop.time() > deadline:
            return made
        await asyncio.sleep(0.02)


async def new_user(settings: Settings, store: Store | None = None, chat: ChatRef | None = None) -> User:
    output = CollectingOutput()
    dialog = Dialog("test", output, settings, store=store, open_store=Store.from_url)
    await dialog.start()
    user = User(dialog, output)
    if chat is not None:
        user.chat = chat
    return user
