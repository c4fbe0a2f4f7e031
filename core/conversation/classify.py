"""From what a user sent to a table key: "text", "ratings", "upload", "press:<action>", a command,
or an internal event's key, with what the handler gets."""

from __future__ import annotations

from typing import Any

from core import intake
from core import messages as m
from core.conversation import annotating, commands, documents, table
from core.conversation.collecting import Text
from core.conversation.preview import TypedRatings
from core.conversation.state import Phase
from core.conversation.turn import (AnnotationPreviewFinished, DatasetDelivered, DatasetFailed, JobLost,
                                   PreviewFinished, Turn)
from core.events import ButtonPress, Event, FileUpload, Message

INTERNAL_KEYS = {PreviewFinished: "preview_finished", DatasetDelivered: "dataset_delivered",
                 DatasetFailed: "dataset_failed", JobLost: "job_lost",
                 AnnotationPreviewFinished: "annotation_preview_finished"}


def is_internal(event: Any) -> bool:
    return type(event) in INTERNAL_KEYS


def classify(turn: Turn, event: Any) -> tuple[str, Any]:
    """The table key of an event, and what its handler gets."""
    if type(event) in INTERNAL_KEYS:
        return INTERNAL_KEYS[type(event)], event
    if isinstance(event, FileUpload):
        return "upload", event
    if isinstance(event, ButtonPress):
        return f"press:{event.action}", event
    if not isinstance(event, Message):
        return "empty", Message("")
    text = (event.text or "").strip()
    if not text:
        return "empty", event
    if text.startswith("/"):
        command = commands.Command.parse(text)
        if command.rest:
            note_language(turn, command.rest)
        return (command.name if command.name in commands.KNOWN else "command"), command
    chosen = typed_choice(turn, text)
    if chosen is not None:
        return f"press:{chosen.action}", chosen
    wants = annotating.wants_annotation(text) if "annotate" in table.TABLE[turn.state.phase] else None
    if wants:
        turn.lang = wants
        return "annotate", Message(text)  # "label my rows" / "oznacz moje dane"
    wants = documents.wants_documents(text) if "documents" in table.TABLE[turn.state.phase] else None
    if wants:
        turn.lang = wants
        return "documents", Message(text)  # "test questions from my manual" / "pytania z mojej instrukcji"
    previewed = turn.state.preview_items or turn.state.phase == Phase.annotate_preview
    if previewed and "ratings" in table.TABLE[turn.state.phase]:
        ratings = TypedRatings.parse(text)
        if ratings is not None:
            return "ratings", ratings
    interp = intake.interpret(text, turn.state.draft_or_empty(), asking=turn.state.asking)
    # Label names and "#3 is complaint" say nothing of the user's language (labels are often English).
    if interp.language_detected and turn.state.phase not in (Phase.annotate_labels, Phase.annotate_preview):
        turn.lang = m.normalise_language(interp.language)
    return "text", Text(text, interp)


def typed_choice(turn: Turn, text: str) -> ButtonPress | None:
    """A button typed as its label or its number."""
    offered = turn.state.offered
    folded = " ".join(text.casefold().split())
    for choice in offered:
        if " ".join(choice.label.casefold().split()) == folded:
            return ButtonPress(choice.action, choice.value)
    if text.isdecimal() and text.isascii() and len(text) < 6 and 1 <= int(text) <= len(offered):
        choice = offered[int(text) - 1]
        return ButtonPress(choice.action, choice.value)
    return None


def note_language(turn: Turn, text: str) -> None:
    interp = intake.interpret(text)
    if interp.language_detected:
        turn.lang = m.normalise_language(interp.language)


def clean(text: str) -> str:
    # Lone surrogates (a broken emoji from some clients) cannot be stored or sent as UTF-8: U+FFFD them.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def valid_unicode(event: Event) -> Event:
    if isinstance(event, Message):
        return Message(clean(event.text or ""))
    if isinstance(event, ButtonPress):
        return ButtonPress(clean(event.action), clean(event.value))
    if isinstance(event, FileUpload):
        return FileUpload(clean(event.filename), event.data)
    return event
