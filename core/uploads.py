"""Reading a user's own labeled examples (CSV or JSON) for few-shot use and class balancing.

Every way a file can be wrong maps to an `UploadError` with a message key from
`core.messages`, so the dialog can answer in the user's language instead of crashing.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


class UploadError(Exception):
    """A file we can't use; `key` names the message in core.messages, `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class ParsedTable:
    """The file's records as strings, before we know which column is the text and which the label."""

    filename: str
    columns: list[str]
    records: list[dict[str, str]]

    def guess_columns(self) -> tuple[str, str] | None:
        """`text`/`label` (any case) when the file has them; otherwise the dialog asks."""
        by_lower = {c.strip().lower(): c for c in self.columns}
        if "text" in by_lower and "label" in by_lower:
            return by_lower["text"], by_lower["label"]
        return None

    def resolve_column(self, name: str) -> str | None:
        wanted = name.strip().strip("\"'“”„").lower()
        for column in self.columns:
            if column.strip().lower() == wanted:
                return column
        return None


@dataclass
class LabeledRows:
    filename: str
    rows: list[dict[str, str]]  # {"text": ..., "label": ...}
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # in order of first appearance

    @classmethod
    def from_table(cls, table: ParsedTable, text_column: str, label_column: str) -> "LabeledRows":
        rows: list[dict[str, str]] = []
        skipped = 0
        for record in table.records:
            text = (record.get(text_column) or "").strip()
            label = (record.get(label_column) or "").strip()
            if not text or not label:
                skipped += 1
                continue
            rows.append({"text": text, "label": label})
        if not rows:
            raise UploadError("upload_empty", filename=table.filename)
        return cls(table.filename, rows, skipped, dict(Counter(r["label"] for r in rows)))

    def lacking_to_balance(self) -> dict[str, int]:
        """Rows each label needs to match the largest class."""
        top = max(self.counts.values())
        return {label: top - n for label, n in self.counts.items()}

    def lacking_to_reach(self, targets: dict[str, int]) -> dict[str, int]:
        return {label: max(0, targets.get(label, 0) - n) for label, n in self.counts.items()}


def parse_upload(filename: str, data: bytes, max_bytes: int) -> ParsedTable:
    if len(data) > max_bytes:
        raise UploadError("upload_too_big", filename=filename, size=len(data), limit=max_bytes)
    lower = filename.lower()
    if not lower.endswith(CSV_SUFFIXES + JSON_SUFFIXES):
        raise UploadError("upload_bad_type", filename=filename)
    try:
        content = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError:
        raise UploadError("upload_not_utf8", filename=filename) from None
    if not content.strip():
        raise UploadError("upload_empty", filename=filename)
    if lower.endswith(JSON_SUFFIXES):
        records = _json_records(filename, content)
    else:
        records = _csv_records(filename, content)
    if not records:
        raise UploadError("upload_empty", filename=filename)
    columns: list[str] = []
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    return ParsedTable(filename, columns, records)


def _csv_records(filename: str, content: str) -> list[dict[str, str]]:
    try:
        # Spreadsheets in many locales save with ';' or tabs; the sniffer tells which.
        dialect: Any = csv.Sniffer().sniff(content[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.DictReader(io.StringIO(content), dialect=dialect)
        if not reader.fieldnames or len(reader.fieldnames) < 2:
            raise UploadError("upload_unreadable", filename=filename, error="it needs a header row with at least two columns")
        return [
            {str(k): (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
            for row in reader
        ]
    except csv.Error as exc:
        raise UploadError("upload_unreadable", filename=filename, error=str(exc)) from None


def _json_records(filename: str, content: str) -> list[dict[str, str]]:
    try:
        if filename.lower().endswith((".jsonl", ".ndjson")):
            items = [json.loads(line) for line in content.splitlines() if line.strip()]
        else:
            parsed = json.loads(content)
            # {"examples": [...]} or {"data": [...]} are common wrappers around the array.
            if isinstance(parsed, dict):
                lists = [v for v in parsed.values() if isinstance(v, list)]
                parsed = lists[0] if len(lists) == 1 else [parsed]
            items = parsed if isinstance(parsed, list) else []
    except json.JSONDecodeError as exc:
        raise UploadError("upload_unreadable", filename=filename, error=f"not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if any(not isinstance(item, dict) for item in items):
        raise UploadError("upload_unreadable", filename=filename, error="expected a list of objects like {\"text\": ..., \"label\": ...}")
    return [{str(k): "" if v is None else str(v) for k, v in item.items()} for item in items]
