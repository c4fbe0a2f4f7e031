"""Reporting a job's progress to its caller's callback, throttled."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time

from core.vocabulary import JobProgress, ProgressCallback

log = logging.getLogger("core.generator")  # the engine's log, as before the split


class ProgressReporter:
    """Calls the progress callback at most every `interval` seconds (always when forced); a
    failing callback (a chat channel hiccup) is logged, it never stops the job."""

    def __init__(self, callback: ProgressCallback | None, interval: float) -> None:
        self.callback = callback
        self.interval = interval
        self._last = float("-inf")

    async def report(self, progress: JobProgress, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        try:
            result = self.callback(progress)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress callback failed")
