"""Reading a user's rows one at a time (CSV, TSV, XLSX, JSON, JSONL, plain text one row per line),
so a 100,000-row file goes into storage without being held in memory.

core/uploads.py parses a chat upload (bytes already in memory, a few MB at most) in one go; this
module streams a file from disk and reuses its error vocabulary (`UploadError` + message keys),
so the chat and the command line explain a bad file the same way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.uploads import UploadError

ROW_SUFFIXES = (".csv", ".tsv", ".xlsx", ".json", ".jsonl", ".ndjson", ".txt")
#: Column names taken as "the text" when the user does not name one (first match, any case).
TEXT_COLUMN_NAMES = ("text", "message", "ticket", "content", "body", "sentence", "review", "comment",
                     "description", "question", "tekst", "treść", "wiadomość")
_CHUNK = 1 << 16


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The file's rows as dicts, in order. A plain-text file gives {"text": line} per non-empty line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ROW_SUFFIXES:
        raise UploadError("upload_bad_type", filename=path.name)
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(path)
    if suffix == ".json":
        return _json_array_rows(path)
    if suffix == ".txt":
        return _text_rows(path)
    return _csv_rows(path)


def guess_text_column(columns: list[str]) -> str | None:
    by_lower = {column.strip().lower(): column for column in columns}
    for name in TEXT_COLUMN_NAMES:
        if name in by_lower:
            return by_lower[name]
    return columns[0] if len(columns) == 1 else None


def _open_text(path: Path):  # type: ignore[no-untyped-def]
    return path.open("r", encoding="utf-8-sig", newline="")  # Excel's "CSV UTF-8" starts with a BOM


def _checked(path: Path, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    try:
        yield from rows
    except UnicodeDecodeError:
        raise UploadError("upload_not_utf8", filename=path.name) from None


def _text_rows(path: Path) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        with _open_text(path) as handle:
            for line in handle:
                if line.strip():
                    yield {"text": line.rstrip("\r\n")}
    return _checked(path, rows())


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        with _open_text(path) as handle:
            sample = handle.read(8192)
            handle.seek(0)
            if path.suffix.lower() == ".tsv":
                dialect: Any = csv.excel_tab
            else:
                try:  # spreadsheets in many locales save with ';' or tabs; the sniffer tells which
                    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
                except csv.Error:
                    dialect = csv.excel
            reader = csv.reader(handle, dialect)
            try:
                header = next(reader, None)
                if not header:
                    raise UploadError("upload_empty", filename=path.name)
                header = [name.strip() or f"column_{i + 1}" for i, name in enumerate(header)]
                for record in reader:
                    if not any(cell.strip() for cell in record):
                        continue
                    record += [""] * (len(header) - len(record))
                    yield dict(zip(header, record))
            except csv.Error as exc:
                raise UploadError("upload_unreadable", filename=path.name, error=str(exc)) from None
    return _checked(path, rows())


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UploadError("upload_unreadable", filename=path.name,
                                      error=f"line {number} is not JSON ({exc.msg})") from None
                yield _object(path, item)
    return _checked(path, rows())


def _json_array_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Objects of a top-level array (or of {"data": [...]}) decoded one at a time: the standard
    library has no streaming JSON parser and a 100,000-row array should not be loaded whole."""
    def rows() -> Iterator[dict[str, Any]]:
        decoder = json.JSONDecoder()
        with _open_text(path) as handle:
            buffer, eof = handle.read(_CHUNK), False
            start = buffer.find("[")
            if start < 0:
                raise UploadError("upload_unreadable", filename=path.name, error="expected a JSON array of objects")
            position = start + 1
            while True:
                while position < len(buffer) and buffer[position] in " \t\r\n,":
                    position += 1
                if position < len(buffer) and buffer[position] == "]":
                    return
                try:
                    item, end = decoder.raw_decode(buffer, position)
                except json.JSONDecodeError as exc:
                    if eof:
                        raise UploadError("upload_unreadable", filename=path.name,
                                          error=f"not valid JSON ({exc.msg})") from None
                    more = handle.read(_CHUNK)
                    eof = not more
                    buffer, position = buffer[position:] + more, 0
                    continue
                yield _object(path, item)
                position = end
                if position > _CHUNK:  # drop what is decoded: the buffer stays about one chunk
                    buffer, position = buffer[position:], 0
    return _checked(path, rows())


def _xlsx_rows(path: Path) -> Iterator[dict[str, Any]]:
    def rows() -> Iterator[dict[str, Any]]:
        from openpyxl import load_workbook  # lazy: only XLSX needs it

        try:
            book = load_workbook(path, read_only=True, data_only=True)  # read-only mode streams the sheet
        except Exception as exc:  # not a zip, not a workbook: openpyxl raises several kinds
            raise UploadError("upload_unreadable", filename=path.name, error=str(exc).splitlines()[0]) from None
        try:
            sheet = book.worksheets[0]
            values = sheet.iter_rows(values_only=True)
            header = next(values, None)
            if not header:
                raise UploadError("upload_empty", filename=path.name)
            names = [str(name).strip() if name is not None and str(name).strip() else f"column_{i + 1}"
                     for i, name in enumerate(header)]
            for record in values:
                if not any(cell not in (None, "") for cell in record):
                    continue
                yield {name: "" if cell is None else str(cell) for name, cell in zip(names, record)}
        finally:
            book.close()
    return rows()


def _object(path: Path, item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, str):
        return {"text": item}
    raise UploadError("upload_unreadable", filename=path.name, error='expected objects like {"text": ...}')
