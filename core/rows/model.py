"""A row model: the JSON schema sent to the model, row validation, the dedupe text and the
export layout, all derived from a list of columns (core.rows.columns)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.quality import normalise_text
from core.rows.columns import Column, ColumnType, stratified_column
from core.rows.spans import SpanError, resolve_spans

Row = dict[str, Any]
_TRUE = {"true", "yes", "y", "1", "tak"}
_FALSE = {"false", "no", "n", "0", "nie"}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    # Strict structured output wants every property required and no extra ones.
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    return normalise_text(str(value))


def canonical_value(value: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed spelling of a category value: case and a trailing full stop are spelling,
    a different word is never guessed."""
    wanted = normalise_text(value).rstrip(".!").strip().casefold()
    return next((item for item in allowed if item.casefold() == wanted), None)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = value
    else:
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            return None
    if not math.isfinite(number):
        return None
    return int(number) if float(number).is_integer() and abs(number) < 2**53 else float(number)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


@dataclass(frozen=True)
class RowModel:
    """`name` titles the schema; `key` names the text columns two rows must share to be
    duplicates (joined); spans point into the first text column."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", tuple(c.name for c in self.columns if c.type == ColumnType.text))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def asked(self) -> tuple[str, ...]:
        """The columns the model writes (not the given ones)."""
        return tuple(column.name for column in self.columns if not column.given)

    @property
    def stratified(self) -> Column | None:
        return stratified_column(self.columns)

    @property
    def spans_source(self) -> str:
        return next(column.name for column in self.columns if column.type == ColumnType.text)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    # --- the schema -------------------------------------------------------------------------

    @staticmethod
    def column_schema(column: Column, pinned: str | None = None) -> dict[str, Any]:
        if column.type == ColumnType.category:
            node: dict[str, Any] = {"type": "string", "enum": [pinned] if pinned else list(column.values)}
        elif column.type == ColumnType.spans:
            item = _object({"text": {"type": "string"}, "type": {"type": "string", "enum": list(column.values)}})
            node = {"type": "array", "items": item}
        elif column.type == ColumnType.number:
            node = {"type": "number"}
        elif column.type == ColumnType.boolean:
            node = {"type": "boolean"}
        else:
            node = {"type": "string"}
        if column.description:
            node["description"] = column.description
        return node

    def json_schema(self, pins: Mapping[str, str] | None = None, *, rows: int | None = None) -> dict[str, Any]:
        """{"examples": [row, ...]}; `pins` fixes a category column to one value (a small local
        model keeps to a request's label only when the schema says so), `rows` the row count."""
        pins = pins or {}
        row = _object({column.name: self.column_schema(column, pins.get(column.name))
                       for column in self.columns if not column.given})
        examples: dict[str, Any] = {"type": "array", "items": row}
        if rows:
            examples.update(minItems=1, maxItems=rows)
        schema = _object({"examples": examples})
        schema["title"] = f"{self.name}_examples"
        return schema

    # --- validation -------------------------------------------------------------------------

    def validate(self, raw: Any, *, min_chars: int = 3, max_chars: int = 2000) -> tuple[Row | None, str | None]:
        """A clean row with exactly these columns, or the reason it is rejected."""
        if not isinstance(raw, Mapping):
            return None, "missing field"
        fields = {str(key).strip().lower(): value for key, value in raw.items()}
        clean, reason = validate_columns(self.columns, fields, max_chars=max_chars)
        if clean is None:
            return None, reason
        for column in self.columns:  # spans last: they point into the clean text
            if column.type == ColumnType.spans:
                try:
                    clean[column.name] = resolve_spans(clean[self.spans_source], fields.get(column.name), column.values)
                except SpanError as exc:
                    return None, str(exc)
        if len(self.text_of(clean)) < min_chars:
            return None, "too short"
        stratified = self.stratified
        if stratified is not None and any(canonical_value(clean[name], stratified.values) for name in self.key):
            return None, "label as text"  # small models answer "positive" as the text itself
        return {column.name: clean[column.name] for column in self.columns}, None

    def text_of(self, fields: Mapping[str, Any]) -> str:
        """What duplicates are judged on: the key columns' texts, one per line."""
        return "\n".join(str(fields.get(name, "")) for name in self.key)

    def label_of(self, fields: Mapping[str, Any]) -> str:
        """The stratified column's value ('' without one): the quota bucket and the stored label."""
        stratified = self.stratified
        return str(fields.get(stratified.name, "")) if stratified is not None else ""

    # --- export layout ----------------------------------------------------------------------

    def record(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """A row for JSON/JSONL: spans as spaCy-style {start, end, label}, numbers and booleans
        as JSON numbers and booleans, everything else text."""
        record: dict[str, Any] = {}
        for column in self.columns:
            value = fields.get(column.name)
            if column.type == ColumnType.spans:
                record[column.name] = [{"start": s["start"], "end": s["end"], "label": s["label"]} for s in value or []]
            elif column.type in (ColumnType.number, ColumnType.boolean):
                record[column.name] = value
            else:
                record[column.name] = "" if value is None else str(value)
        return record

    def cell(self, column: Column, fields: Mapping[str, Any]) -> str:
        """A CSV cell: spans as JSON (with their text, readable in a spreadsheet), booleans as
        true/false, numbers as written."""
        value = fields.get(column.name)
        if column.type == ColumnType.spans:
            return json.dumps(value or [], ensure_ascii=False)
        if column.type == ColumnType.boolean:
            return "" if value is None else ("true" if value else "false")
        return "" if value is None else str(value)


def validate_columns(columns: tuple[Column, ...], fields: Mapping[str, Any], *,
                     max_chars: int = 2000) -> tuple[Row | None, str | None]:
    """Each column's value checked and cleaned by its type (spans are left to the row model:
    they need the clean text). `fields` has lower-cased keys."""
    clean: Row = {}
    for column in columns:
        if column.type == ColumnType.spans:
            continue
        if column.name not in fields:
            return None, "missing field"
        value = fields[column.name]
        if column.type == ColumnType.text:
            text = _as_text(value)
            if text is None:
                return None, "missing field"
            if not text:
                return None, "empty"
            if len(text) > max_chars:
                return None, "too long"
            clean[column.name] = text
        elif column.type == ColumnType.category:
            text = _as_text(value)
            if text is None:
                return None, "missing field"
            canonical = canonical_value(text, column.values)
            if canonical is None:
                return None, "bad label" if column.stratified else f"bad {column.name}"
            clean[column.name] = canonical
        elif column.type == ColumnType.number:
            number = _number(value)
            if number is None:
                return None, f"bad {column.name}"
            clean[column.name] = number
        else:
            flag = _boolean(value)
            if flag is None:
                return None, f"bad {column.name}"
            clean[column.name] = flag
    return clean, None
