"""Reporting a job's progress to its caller's callback, throttled."""

from __future__ import annotations

import asyncio
import inspect
import logging

from core.progress import ProgressThrottle
from core.vocabulary import JobProgress, ProgressCallback

log = logging.getLogger("core.generator")  # the engine's log, as before the split


class ProgressReporter:
    """Calls the progress callback at most every `interval` seconds (always when forced); a
    failing callback (a chat channel hiccup) is logged, it never stops the job."""

    def __init__(self, callback: ProgressCallback | None, interval: float) -> None:
        self.callback = callback
        self.throttle = ProgressThrottle(interval)  # the one progress throttle (core/progress.py)

    async def report(self, progress: JobProgress, *, force: bool = False) -> None:
        if self.callback is None:
            return
        if not force and self.throttle.wait() > 0:
            return
        self.throttle.shown(progress.done)
        try:
            result = self.callback(progress)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress callback failed")
