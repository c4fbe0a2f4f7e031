"""Spans (entities, slots) found in a row's text: offsets computed by us, never trusted from the model.

The model answers `[{"text": "Anna Nowak", "type": "PERSON"}, ...]`. A span is kept only when
its text occurs verbatim in the row's text on word boundaries; every such occurrence is
annotated (a NER dataset that marks "Acme" once and leaves its second mention unmarked teaches
the model that the second one is not an entity). Types must come from the ordered set; spans
must not overlap. Stored as `{"start", "end", "label", "text"}` with Python string offsets
(Unicode code points, what spaCy's `char_span` takes).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

Span = dict[str, Any]


class SpanError(ValueError):
    """Why a row's spans are rejected; the message is the rejection reason."""


def _canonical_type(value: Any, types: Sequence[str]) -> str | None:
    wanted = str(value).strip().casefold()
    for allowed in types:
        if allowed.casefold() == wanted:
            return allowed
    return None


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    # Word boundaries: "Ann" is not an entity inside "Anna"; `\w` covers letters of every script.
    pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
    return [(match.start(), match.end()) for match in pattern.finditer(text)]


def resolve_spans(text: str, raw: Any, types: Sequence[str]) -> list[Span]:
    """The spans of `raw` (the model's list) in `text`, sorted by position; raises SpanError."""
    if raw is None:
        return []
    if isinstance(raw, dict):  # {"PERSON": ["Anna"], ...}: a shape models sometimes choose
        raw = [{"text": item, "type": key} for key, items in raw.items()
               for item in (items if isinstance(items, list) else [items])]
    if not isinstance(raw, list):
        raise SpanError("bad spans")
    found: dict[tuple[int, int], str] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise SpanError("bad spans")
        fields = {str(key).strip().lower(): value for key, value in item.items()}
        span_text = fields.get("text", fields.get("value"))
        span_type = fields.get("type", fields.get("label"))
        if not isinstance(span_text, str) or span_type is None:
            raise SpanError("bad spans")
        span_text = unicodedata.normalize("NFC", " ".join(span_text.split()))
        if not span_text:
            raise SpanError("empty span")
        label = _canonical_type(span_type, types)
        if label is None:
            raise SpanError("bad span type")
        places = _occurrences(text, span_text)
        if not places:
            raise SpanError("span not in text")
        for place in places:
            if found.setdefault(place, label) != label:
                raise SpanError("overlapping spans")  # the same words with two types
    spans = [{"start": start, "end": end, "label": label, "text": text[start:end]}
             for (start, end), label in sorted(found.items())]
    for before, after in zip(spans, spans[1:]):
        if after["start"] < before["end"]:
            raise SpanError("overlapping spans")
    return spans


def offsets_only(spans: Sequence[Span]) -> list[dict[str, Any]]:
    """spaCy-style `{"start", "end", "label"}` (the JSONL export)."""
    return [{"start": span["start"], "end": span["end"], "label": span["label"]} for span in spans]


def spans_for_prompt(spans: Sequence[Span]) -> str:
    """`PERSON: Anna Nowak; ORG: Acme` (few-shot rows inside a prompt, the line template)."""
    return "; ".join(f"{span['label']}: {span['text']}" for span in spans) or "none"


def parse_spans_line(value: str) -> list[dict[str, str]]:
    """The line-template form back to the model's list: `PERSON: Anna; ORG: Acme` (or `none`)."""
    value = value.strip()
    if not value or value.casefold() in ("none", "-", "brak", "[]"):
        return []
    items = []
    for part in value.split(";"):
        kind, sep, span_text = part.partition(":")
        if not sep:
            raise SpanError("bad spans")
        items.append({"type": kind.strip(), "text": span_text.strip()})
    return items
