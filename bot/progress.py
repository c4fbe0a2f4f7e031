"""One progress message per job, edited in place: shared by the chat adapters.

Each platform only says how to post a message and how to edit it; the rules are the same
everywhere: the first `Progress` of a job posts a message, later ones edit it only when the text
or buttons changed and at most once per `min_interval` (the newest state is shown when the
interval is over), and the final one is shown at once. The timing is core.progress's
ProgressThrottle with the same interval setting the dialog uses (DATAGEN_PROGRESS_INTERVAL).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Generic, TypeVar

from core.events import ChatRef, Choice, Progress
from core.progress import ProgressThrottle

log = logging.getLogger(__name__)

Handle = TypeVar("Handle")  # what the platform needs to edit the message: a message id, (channel, ts)
MAX_REMEMBERED = 1000  # jobs whose message is remembered; bounded so a long-running bot stays small


@dataclass
class _Shown(Generic[Handle]):
    handle: Handle
    content: tuple[str, tuple[Choice, ...]]
    throttle: ProgressThrottle
    pending: Progress | None = None
    flush: asyncio.Task[None] | None = None


def _content(progress: Progress) -> tuple[str, tuple[Choice, ...]]:
    return progress.text, progress.choices


@dataclass
class ProgressMessages(Generic[Handle]):
    """`post(chat, progress)` sends a new message and returns its handle; `edit(chat, handle,
    progress)` updates it and returns the handle to use from then on (a platform may have to
    post anew when the old message can no longer be edited)."""

    post: Callable[[ChatRef, Progress], Awaitable[Handle]]
    edit: Callable[[ChatRef, Handle, Progress], Awaitable[Handle]]
    min_interval: float
    _shown: OrderedDict[tuple[str, int], _Shown[Handle]] = field(default_factory=OrderedDict)
    _locks: dict[tuple[str, int], asyncio.Lock] = field(default_factory=dict)

    async def show(self, chat: ChatRef, progress: Progress) -> None:
        key = (chat.conversation, progress.job_id)
        async with self._locks.setdefault(key, asyncio.Lock()):
            shown = self._shown.get(key)
            if shown is None:
                handle = await self.post(chat, progress)
                throttle = ProgressThrottle(self.min_interval)
                throttle.shown(_content(progress))
                self._remember(key, _Shown(handle, _content(progress), throttle))
            elif _content(progress) == shown.content:
                shown.pending = None
            else:
                wait = shown.throttle.wait()
                if progress.finished or wait <= 0:
                    await self._edit(chat, shown, progress)
                else:
                    shown.pending = progress  # the newest wins; shown when the interval is over
                    if shown.flush is None:
                        shown.flush = asyncio.create_task(self._flush_later(chat, key, wait))
            if progress.finished:  # a job reports "finished" once; nothing to remember after it
                self._forget(key)

    async def _edit(self, chat: ChatRef, shown: _Shown[Handle], progress: Progress) -> None:
        if shown.flush is not None and shown.flush is not asyncio.current_task():
            shown.flush.cancel()
        shown.flush, shown.pending = None, None
        shown.handle = await self.edit(chat, shown.handle, progress)
        shown.content = _content(progress)
        shown.throttle.shown(shown.content)

    async def _flush_later(self, chat: ChatRef, key: tuple[str, int], delay: float) -> None:
        await asyncio.sleep(delay)
        lock = self._locks.get(key)
        if lock is None:
            return
        async with lock:
            shown = self._shown.get(key)
            if shown is None or shown.pending is None:
                return
            if _content(shown.pending) == shown.content:
                shown.flush, shown.pending = None, None
                return
            try:
                await self._edit(chat, shown, shown.pending)
            except Exception as exc:  # a late edit the platform refuses must not surface anywhere
                log.warning("progress update for %s failed: %s", chat.conversation, exc)

    def _remember(self, key: tuple[str, int], shown: _Shown[Handle]) -> None:
        self._shown[key] = shown
        while len(self._shown) > MAX_REMEMBERED:
            self._forget(next(iter(self._shown)))

    def _forget(self, key: tuple[str, int]) -> None:
        shown = self._shown.pop(key, None)
        self._locks.pop(key, None)
        if shown is not None and shown.flush is not None and shown.flush is not asyncio.current_task():
            shown.flush.cancel()

    def close(self) -> None:
        for key in list(self._shown):
            self._forget(key)
