"""What a handler gets: one chat's state for one event, a place to put replies, and the dialog's services.

Also the internal events: background jobs report back through the same table as the user does,
so a job that finishes after the user moved on meets a phase that does not accept it (and
changes nothing) instead of overwriting newer state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import messages as m
from core import stop_reasons
from core.conversation.state import ConversationState
from core.events import ChatRef, Choice, Reply, Say

if TYPE_CHECKING:
    from core.conversation.machine import Dialog


@dataclass
class Turn:
    """One conversation loaded for one event: handlers read and change `state`, add `replies`,
    and return the next phase (the machine assigns it; nobody else does)."""

    dialog: "Dialog"
    chat: ChatRef
    conversation_id: int
    state: ConversationState
    lang: str
    replies: list[Reply] = field(default_factory=list)

    def say(self, key: str, choices: tuple[Choice, ...] = (), **values: object) -> None:
        self.replies.append(Say(self.t(key, **values), choices))

    def say_llm_unavailable(self) -> None:
        """The model could not be started or reached: why, in the chat's language (the log has the rest)."""
        error = self.dialog.llm_error or stop_reasons.stop("internal", "no LLM backend")
        self.say("llm_unavailable", error=stop_reasons.describe(error, self.lang, self.t))

    def t(self, key: str, **values: object) -> str:
        return m.text(self.lang, key, command_prefix=self.dialog.command_prefix, **values)

    def offer(self, choices: tuple[Choice, ...]) -> tuple[Choice, ...]:
        """Remember the buttons just shown, so typing their number or label selects them."""
        self.state.offered = list(choices)
        return choices

    def ask(self, text: str, choices: tuple[Choice, ...]) -> None:
        self.replies.append(Say(text, self.offer(choices)))


# --- internal events (from background jobs) --------------------------------------------------


@dataclass(frozen=True)
class PreviewFinished:
    job_id: int
    rows: tuple[Any, ...]  # the accepted synthetic rows (storage Example records)
    error: str = ""  # why there are none, when there are none


@dataclass(frozen=True)
class DatasetDelivered:
    job_id: int


@dataclass(frozen=True)
class DatasetFailed:
    job_id: int
    error: str


@dataclass(frozen=True)
class AnnotationPreviewFinished:
    """The first rows labeled for the annotation preview (in a background task, not under the chat's lock)."""

    token: int  # the preview's id in `state.preview_job` (negative: not a stored job)
    texts: tuple[str, ...]
    labels: tuple[str | None, ...]  # per text; None: the model gave no usable label
    error: str = ""


@dataclass(frozen=True)
class JobLost:
    """The phase says a job runs, but no task of this process runs it (stopped while we were down)."""

    job_id: int | None


InternalEvent = PreviewFinished | DatasetDelivered | DatasetFailed | JobLost | AnnotationPreviewFinished
