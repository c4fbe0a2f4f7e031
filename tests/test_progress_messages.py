"""The shared progress-message rules every chat adapter uses (bot/progress.py)."""

from __future__ import annotations

import asyncio

from bot.progress import ProgressMessages
from core.events import ChatRef, Choice, Progress

CHAT = ChatRef(conversation="c1", user="u1")
CANCEL = (Choice("Cancel", "cancel", "1"),)


def progress(done: int, *, finished: bool = False) -> Progress:
    return Progress(job_id=1, text=f"{done}/10", done=done, total=10, finished=finished, choices=() if finished else CANCEL)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def post(self, chat: ChatRef, p: Progress) -> int:
        self.calls.append(("post", p.text))
        return len(self.calls)

    async def edit(self, chat: ChatRef, handle: int, p: Progress) -> int:
        self.calls.append(("edit", p.text))
        return handle


async def test_one_message_identical_text_skipped_bursts_throttled_final_shown_at_once() -> None:
    rec = Recorder()
    messages = ProgressMessages(rec.post, rec.edit, min_interval=0.2)
    await messages.show(CHAT, progress(0))
    await messages.show(CHAT, progress(0))  # same text and buttons: no call
    for done in (1, 2, 3):  # within the interval: only the newest is shown, later
        await messages.show(CHAT, progress(done))
    assert rec.calls == [("post", "0/10")]
    await asyncio.sleep(0.3)
    assert rec.calls == [("post", "0/10"), ("edit", "3/10")]
    await messages.show(CHAT, progress(4))
    await messages.show(CHAT, progress(10, finished=True))  # final: at once, despite the interval
    assert rec.calls[-1] == ("edit", "10/10")
    await asyncio.sleep(0.3)
    assert ("edit", "4/10") not in rec.calls  # superseded by the final state, never shown late
