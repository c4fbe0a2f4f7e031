"""Reading a user's own labeled examples (CSV or JSON) for few-shot use and class balancing.

Every way a file can be wrong maps to an `UploadError` with a message key from
`core.messages`, so the dialog can answer in the user's language instead of crashing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")

# Limits that keep one upload from holding the bot: a file of labeled examples needs two
# columns, so 100 is generous; 500,000 cells is 250,000 text/label rows; nesting is only
# ever a value someone exported as an object.
MAX_COLUMNS = 100
MAX_CELLS = 500_000
MAX_DEPTH = 20

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


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


def parse_upload(
    filename: str,
    data: bytes,
    max_bytes: int,
    *,
    max_columns: int = MAX_COLUMNS,
    max_cells: int = MAX_CELLS,
    max_depth: int = MAX_DEPTH,
) -> ParsedTable:
    """The file's records, or an `UploadError` naming what is wrong with it.

    Pure and linear in the size of the file (no I/O, no shared state): the caller may run it in a
    worker thread (`asyncio.to_thread`) so a big upload never blocks the event loop.
    """
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
    limits = _Limits(filename, max_columns, max_cells, max_depth)
    if lower.endswith(JSON_SUFFIXES):
        columns, records = _json_records(content, limits)
    else:
        columns, records = _csv_records(content, limits)
    if not records:
        raise UploadError("upload_empty", filename=filename)
    return ParsedTable(filename, columns, records)


@dataclass(frozen=True)
class _Limits:
    filename: str
    max_columns: int
    max_cells: int
    max_depth: int

    def check_columns(self, n: int) -> None:
        if n > self.max_columns:
            raise UploadError("upload_too_wide", filename=self.filename, columns=n, limit=self.max_columns)

    def check_cells(self, n: int) -> None:
        if n > self.max_cells:
            raise UploadError("upload_too_many_cells", filename=self.filename, limit=self.max_cells)

    def too_deep(self) -> UploadError:
        return UploadError("upload_too_deep", filename=self.filename, limit=self.max_depth)


def _csv_records(content: str, limits: _Limits) -> tuple[list[str], list[dict[str, str]]]:
    try:
        # Spreadsheets in many locales save with ';' or tabs; the sniffer tells which. It reads
        # a bounded sample, so its cost does not grow with the file.
        dialect: Any = csv.Sniffer().sniff(content[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        reader = csv.reader(io.StringIO(content), dialect=dialect)
        header = next(reader, None)
        if not header or len(header) < 2:
            raise UploadError(
                "upload_unreadable", filename=limits.filename, error="it needs a header row with at least two columns"
            )
        limits.check_columns(len(header))
        width = len(header)
        columns = list(dict.fromkeys(header))  # a repeated header name is one column, as in csv.DictReader
        records: list[dict[str, str]] = []
        cells = 0
        for row in reader:
            if not row:
                continue  # a blank line is not a record (csv.DictReader skips them too)
            cells += width
            limits.check_cells(cells)
            if len(row) < width:
                row = row + [""] * (width - len(row))
            # zip() drops cells beyond the header, as csv.DictReader files them under no name.
            records.append(dict(zip(header, row)))
        return columns, records
    except csv.Error as exc:
        raise UploadError("upload_unreadable", filename=limits.filename, error=str(exc)) from None


def _json_records(content: str, limits: _Limits) -> tuple[list[str], list[dict[str, str]]]:
    try:
        if limits.filename.lower().endswith((".jsonl", ".ndjson")):
            items = [json.loads(line) for line in content.splitlines() if line.strip()]
        else:
            parsed = json.loads(content)
            # {"examples": [...]} or {"data": [...]} are common wrappers around the array.
            if isinstance(parsed, dict):
                lists = [v for v in parsed.values() if isinstance(v, list)]
                parsed = lists[0] if len(lists) == 1 else [parsed]
            items = parsed if isinstance(parsed, list) else []
    except json.JSONDecodeError as exc:
        raise UploadError(
            "upload_unreadable", filename=limits.filename, error=f"not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    except RecursionError:
        # json's C decoder guards its recursion; a file nested thousands deep ends here, not in a crash.
        raise limits.too_deep() from None
    if any(not isinstance(item, dict) for item in items):
        raise UploadError(
            "upload_unreadable",
            filename=limits.filename,
            error='expected a list of objects like {"text": ..., "label": ...}',
        )
    # A "\ud83d" escape without its pair decodes to a lone surrogate, which no later step can encode.
    clean = _LONE_SURROGATE.sub if _SURROGATE_ESCAPE.search(content) else None
    columns: dict[str, None] = {}  # insertion-ordered set: linear, where a list's `in` was quadratic
    records: list[dict[str, str]] = []
    cells = 0
    for item in items:
        cells += len(item)
        limits.check_cells(cells)
        record = {str(k): _cell(v, limits) for k, v in item.items()}
        if clean is not None:
            record = {clean("\ufffd", k): clean("\ufffd", v) for k, v in record.items()}
        columns.update(dict.fromkeys(record))
        limits.check_columns(len(columns))
        records.append(record)
    return list(columns), records


def _cell(value: object, limits: _Limits) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        if _depth(value) > limits.max_depth:
            raise limits.too_deep()
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _depth(value: object) -> int:
    """Nesting depth of a parsed JSON value, with an explicit stack (no recursion to overflow)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return deepest
