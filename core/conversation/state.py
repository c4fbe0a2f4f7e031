"""The conversation's state: one typed record per chat (in the spirit of Rasa's DialogueStateTracker).

Stored as before (Conversation.state = the phase, Conversation.data_json = the rest), so a new
process continues every chat, including chats written by the untyped version before this one:
its keys have the same names and shapes; unknown keys (such as the old "delivered") are ignored.
"""

from __future__ import annotations

import json
import logging
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from core.events import Choice
from core.intake import SpecDraft

log = logging.getLogger(__name__)


class Phase(str, Enum):
    """Where the conversation is; the values are the strings stored by earlier versions."""

    start = "start"  # no order yet (or the last one was cancelled)
    collecting = "collecting"  # asking one missing thing at a time
    confirm = "confirm"  # the summary with Generate preview / Change / Cancel
    previewing = "previewing"  # a preview job runs
    rating = "rating"  # preview shown: 👍/👎, feedback, Generate all
    generating = "generating"  # the dataset job runs
    done = "done"  # the file was delivered
    upload_columns = "upload_columns"  # an upload whose text/label columns we must ask for
    upload_offer = "upload_offer"  # an upload read: offer to balance it
    annotate_labels = "annotate_labels"  # unlabeled rows uploaded: which labels?
    annotate_preview = "annotate_preview"  # ~10 rows labeled: 👍/👎, corrections, Label all
    annotating = "annotating"  # the annotation job runs
    annotate_previewing = "annotate_previewing"  # the first rows are being labeled for the preview


class Rating(BaseModel):
    kind: Literal["up", "down"]
    fields: dict[str, Any]  # a row: text, but also entity lists, numbers, booleans (core.rows)


class Upload(BaseModel):
    """A user's labeled rows (columns resolved); the rows themselves are stored apart (`upload_id`)."""

    filename: str
    counts: dict[str, int] = Field(default_factory=dict)
    size: int = 0  # rows
    upload_id: int | None = None
    rows: list[dict[str, str]] | None = None  # only in rows written by the previous version (moved out at load)


class PendingUpload(BaseModel):
    """An upload waiting for the user to name its text and label columns (records stored apart)."""

    filename: str = "file"
    columns: list[str] = Field(default_factory=list)
    upload_id: int | None = None
    records: list[dict[str, str]] | None = None  # only in rows written by the previous version


class Annotation(BaseModel):
    """The user's unlabeled rows to label (stored apart, `upload_id`) and what was agreed so far."""

    filename: str
    upload_id: int
    rows: int
    text_column: str
    labels: list[str] = Field(default_factory=list)
    descriptions: dict[str, str] = Field(default_factory=dict)  # label -> one line, as the user described it
    preview: dict[int, tuple[str, str]] = Field(default_factory=dict)  # number shown -> (text, label)
    examples: list[tuple[str, str]] = Field(default_factory=list)  # corrected or 👍 rows: few-shot for the model


class DocumentFile(BaseModel):
    """One document of a documents order; its passages are stored apart (`upload_id`)."""

    name: str
    upload_id: int
    places: int  # pages (PDF) or sections with text
    passages: int
    chars: int
    paged: bool = False  # places are pages


class ReadAsChange(BaseModel):
    """Text after a preview that was read as a change of the order: the order before it, the
    order it made, so the user can say "it was feedback" while nothing else changed since."""

    text: str
    before: SpecDraft | None = None
    after: SpecDraft


class ConversationState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phase: Phase = Phase.start
    greeted: bool = False  # the model was introduced (first contact)
    local_warned: bool = False  # the embedded model's warning was given (once per conversation)
    owner: str | None = None  # the user who placed the current order (shared Slack threads)
    draft: SpecDraft | None = None  # the order being collected; None = no order yet
    asking: str | None = None  # the field the last question asked for ("language_other": free text)
    tone_asked: bool = False
    offered: list[Choice] = Field(default_factory=list)  # the buttons of the last question (typed: "1")
    preview_job: int | None = None
    preview_items: dict[int, int] = Field(default_factory=dict)  # number shown -> example id (the last preview)
    preview_rows: dict[int, dict[str, Any]] = Field(default_factory=dict)  # example id -> fields (all previews)
    ratings: dict[int, Rating] = Field(default_factory=dict)  # example id -> 👍/👎: the one place ratings live
    feedback: list[str] = Field(default_factory=list)
    read_as_change: ReadAsChange | None = None
    job: int | None = None  # the dataset job of this order
    upload: Upload | None = None
    pending_upload: PendingUpload | None = None
    upload_plan: dict[str, int] | None = None  # rows each label lacks, offered to generate
    annotation: Annotation | None = None  # "label my rows": the rows and the labels agreed
    wants_annotation: bool = False  # the user said "label my rows": the next upload is rows to label
    documents: list[DocumentFile] = Field(default_factory=list)  # a documents order's files

    @field_validator("offered", mode="before")
    @classmethod
    def _choices(cls, value: Any) -> Any:
        # Stored as [label, action, value] triples (as the untyped version wrote them).
        if isinstance(value, list):
            return [Choice(*item) if isinstance(item, (list, tuple)) else item for item in value]
        return value

    @field_serializer("offered")
    def _dump_choices(self, offered: list[Choice]) -> list[list[str]]:
        return [[c.label, c.action, c.value] for c in offered]

    # --- persistence ---------------------------------------------------------------------------

    @classmethod
    def load(cls, phase: str, data_json: str | None) -> "ConversationState":
        """The stored record; a row this version cannot read starts over rather than failing every event."""
        try:
            data = json.loads(data_json or "{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            data["phase"] = phase if phase in Phase._value2member_map_ else Phase.start
            if not data.get("draft"):
                data["draft"] = None  # the old version wrote {} for "no order yet"
            return cls.model_validate(data)
        except (ValueError, ValidationError):
            log.exception("unreadable conversation state; starting over")
            return cls(phase=Phase.start, greeted=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"phase"}, exclude_none=True)

    # --- questions the handlers ask -------------------------------------------------------------

    @property
    def has_order(self) -> bool:
        return self.draft is not None or self.upload is not None or self.annotation is not None

    def draft_or_empty(self) -> SpecDraft:
        return self.draft if self.draft is not None else SpecDraft()

    def fresh(self) -> "ConversationState":
        """A new order: nothing of the old one survives (but the model was introduced already)."""
        return ConversationState(greeted=self.greeted, local_warned=self.local_warned)
