"""The one progress throttle: every channel shows a job's progress at most once per
`settings.progress_interval` seconds, and only when it changed (chat APIs rate-limit edits).

The dialog throttles what it sends; the chat adapters' edit-in-place messages (bot/progress.py)
use the same class with the same setting for their edits, and so do the engine's progress callback
(core/generation/progress.py) and `datagen generate`'s plain progress lines (bot/headless.py).
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from core.settings import Settings

# For outputs built without settings (tests, tools): the setting's own default, not another number.
DEFAULT_INTERVAL: float = Settings.model_fields["progress_interval"].default


class ProgressThrottle:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last: Hashable | None = None
        self.last_time = float("-inf")

    def wait(self) -> float:
        """Seconds until the next update may be shown (0 when it may be shown now)."""
        return max(0.0, self.last_time + self.interval - time.monotonic())

    def shown(self, content: Hashable) -> None:
        self.last, self.last_time = content, time.monotonic()

    def should_send(self, content: Hashable, *, final: bool = False) -> bool:
        """Whether to show `content` now (a final state always, unless it is what is shown); records it if so."""
        if content == self.last:
            return False
        if not final and self.wait() > 0:
            return False
        self.shown(content)
        return True
