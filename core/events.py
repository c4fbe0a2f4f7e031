"""The vocabulary between the core and every channel: events in, replies out.

A channel adapter turns a platform update into one of the *events* below, calls
`Dialog.handle(chat, event)`, and renders every *reply* that the dialog sends to
its `OutputChannel`. Replies may arrive later (progress, the finished file), so
they are pushed to the output channel rather than returned.

Every button (`Choice`) has a typed equivalent: the dialog accepts the choice's
number ("1") or its label as plain text, so a channel without buttons can print
`[1] Generate all` and forward what the user types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Union, runtime_checkable


@dataclass(frozen=True)
class ChatRef:
    """Where an event came from and where replies go.

    `conversation` is unique within one channel: a Telegram chat id, a Slack
    "channel:thread_ts", "terminal". `user` is the platform's user id.
    """

    conversation: str
    user: str
    user_name: str = ""


# --- events in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Text the user typed (commands such as `/new` included)."""

    text: str


@dataclass(frozen=True)
class ButtonPress:
    """A press on a `Choice` the dialog offered earlier: its `action` and `value`."""

    action: str
    value: str = ""


@dataclass(frozen=True)
class FileUpload:
    """A file the user sent (seed examples or data to balance)."""

    filename: str
    data: bytes


Event = Union[Message, ButtonPress, FileUpload]


# --- replies out -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A button. `action` + `value` come back as a `ButtonPress`; both stay short
    (Telegram's callback_data is 64 bytes)."""

    label: str
    action: str
    value: str = ""


@dataclass(frozen=True)
class Say:
    """Text, optionally a question with buttons."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class PreviewItem:
    """One preview example; `choices` are its 👍/👎 buttons (value = example id)."""

    example_id: int
    number: int
    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Preview:
    """A few examples to rate, an intro text, and the buttons for what comes next."""

    text: str
    items: tuple[PreviewItem, ...]
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Progress:
    """Progress of a background job. Channels show ONE message per `job_id` and edit it
    in place (skipping identical text); the core already throttles how often it sends."""

    job_id: int
    text: str
    done: int
    total: int
    finished: bool = False
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Document:
    """A file to attach in the chat: the dataset or its card."""

    filename: str
    data: bytes
    caption: str = ""
    mime_type: str = "application/octet-stream"


Reply = Union[Say, Preview, Progress, Document]


@runtime_checkable
class OutputChannel(Protocol):
    """What a channel implements to receive replies (one method, like opsdroid's `send`)."""

    async def send(self, chat: ChatRef, reply: Reply) -> None: ...


@dataclass
class CollectingOutput:
    """An output channel that keeps every reply, for tests and headless use (Rasa's
    CollectingOutputChannel)."""

    replies: list[tuple[ChatRef, Reply]] = field(default_factory=list)

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        self.replies.append((chat, reply))

    def for_chat(self, chat: ChatRef) -> list[Reply]:
        return [r for c, r in self.replies if c.conversation == chat.conversation]

    def pop_all(self) -> list[Reply]:
        out = [r for _, r in self.replies]
        self.replies.clear()
        return out


def choices_as_text(choices: tuple[Choice, ...] | list[Choice], start: int = 1) -> str:
    """The text fallback for buttons: `[1] Generate all  [2] New preview`."""
    return "  ".join(f"[{i}] {c.label}" for i, c in enumerate(choices, start))


def reply_as_text(reply: Reply) -> str:
    """A plain-text rendering of any reply, for channels without rich UI and for logs."""
    if isinstance(reply, Say):
        return reply.text + (("\n" + choices_as_text(reply.choices)) if reply.choices else "")
    if isinstance(reply, Preview):
        lines = [reply.text]
        for item in reply.items:
            lines.append(f"#{item.number} {item.text}")
        lines.append("👍 +N   👎 -N")  # language-neutral: the dialog's intro text explains it in the user's language
        if reply.choices:
            lines.append(choices_as_text(reply.choices))
        return "\n".join(lines)
    if isinstance(reply, Progress):
        return reply.text + (("\n" + choices_as_text(reply.choices)) if reply.choices else "")
    if isinstance(reply, Document):
        return f"[file] {reply.filename}" + (f"\n{reply.caption}" if reply.caption else "")
    raise TypeError(f"not a reply: {reply!r}")
