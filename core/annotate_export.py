"""Writing an annotation job: the labeled file, a file of just the low-confidence rows, and the card.

Rows are streamed from storage in file order (a page at a time) into the writers, so a
100,000-row job is never in memory. The output has the input's columns untouched plus `label`
and `confidence` (named `label_model` / `confidence_model` if the file already has such columns).
Formats: CSV (spreadsheet-safe cells), JSON (an array), JSONL, XLSX.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from core.annotate import AnnotationOrder
from core.quality import neutralise_cell
from core.store_port import AnnotationStore

FORMATS = ("csv", "json", "jsonl", "xlsx")


class AnnotationExportError(ValueError):
    """The output cannot be written as asked (unknown format); the message is for the user."""


@dataclass
class AnnotationExport:
    path: Path
    low_confidence_path: Path
    card_path: Path
    rows: int
    per_label: Counter[str] = field(default_factory=Counter)
    low_per_label: Counter[str] = field(default_factory=Counter)
    unlabeled: int = 0


def format_of(path: Path, explicit: str | None = None) -> str:
    fmt = (explicit or path.suffix.lstrip(".") or "csv").lower()
    fmt = "jsonl" if fmt == "ndjson" else fmt
    if fmt not in FORMATS:
        raise AnnotationExportError(f"cannot write {fmt!r}; use one of: {', '.join(FORMATS)} (or a file name "
                                    "ending in one of them)")
    return fmt


def side_path(path: Path, what: str) -> Path:
    """out.csv -> out.low-confidence.csv / out.card.md"""
    if what == "card":
        return path.with_name(f"{path.stem}.card.md")
    return path.with_name(f"{path.stem}.{what}{path.suffix}")


def output_columns(order: AnnotationOrder) -> tuple[list[str], str, str]:
    label_col = "label_model" if "label" in order.columns else "label"
    confidence_col = "confidence_model" if "confidence" in order.columns else "confidence"
    return [*order.columns, label_col, confidence_col], label_col, confidence_col


def export_annotations(store: AnnotationStore, job_id: int, order: AnnotationOrder, path: Path,
                       fmt: str | None = None) -> AnnotationExport:
    path = Path(path)
    chosen = format_of(path, fmt)
    columns, label_col, confidence_col = output_columns(order)
    result = AnnotationExport(path, side_path(path, "low-confidence"), side_path(path, "card"), 0)
    with _writer(path, chosen, columns) as write, _writer(result.low_confidence_path, chosen, columns) as write_low:
        for row in store.iter_annotation_rows(job_id):
            record = {**row.fields, label_col: row.label or "", confidence_col: row.confidence}
            write(record)
            result.rows += 1
            if row.label is None:
                result.unlabeled += 1
                continue
            result.per_label[row.label] += 1
            if row.confidence == "low":
                result.low_per_label[row.label] += 1
                write_low(record)
    _atomic_text(result.card_path, annotation_card(store, job_id, order, result))
    return result


def annotation_card(store: AnnotationStore, job_id: int, order: AnnotationOrder, result: AnnotationExport) -> str:
    job = store.get_job(job_id)
    lines = [f"# Annotation card: {order.source_name or 'rows'}", "",
             f"- File: `{result.path.name}` ({result.rows} rows, in the order of the input)",
             f"- Model: {job.model if job else 'unknown'}",
             f"- Text column: {order.text_column}",
             f"- Confidence: {'two answers per row; `low` where they differ' if order.samples >= 2 else 'one answer per row (not measured)'}",
             "", "## Rows per label", "", "| Label | Rows | Share | Low confidence |", "|---|---:|---:|---:|"]
    labeled = max(1, sum(result.per_label.values()))
    for label in [*order.labels, *sorted(set(result.per_label) - set(order.labels))]:
        n, low = result.per_label.get(label, 0), result.low_per_label.get(label, 0)
        lines.append(f"| {label} | {n} | {n / labeled:.0%} | {low} ({low / n:.0%}) |" if n else f"| {label} | 0 | 0% | 0 |")
    low_total = sum(result.low_per_label.values())
    lines += ["", f"- Low-confidence rows: {low_total} ({low_total / labeled:.1%}), in `{result.low_confidence_path.name}`"
              " for a human to check"]
    if result.unlabeled:
        lines.append(f"- Not labeled (the job did not finish): {result.unlabeled}")
    if job is not None:
        lines += ["", "## Cost", "", f"- Requests: {job.requests}",
                  f"- Tokens: {job.prompt_tokens + job.completion_tokens:,} (prompt {job.prompt_tokens:,}, "
                  f"completion {job.completion_tokens:,})", f"- Labeling time: {job.elapsed_seconds:.1f} s"]
    return "\n".join(lines) + "\n"


# --- writers --------------------------------------------------------------------------------------


@contextmanager
def _atomic(path: Path, mode: str) -> Iterator[Any]:
    # A crash mid-write must not leave a truncated file that looks complete.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if "b" not in mode else {})) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_text(path: Path, text: str) -> None:
    with _atomic(path, "w") as handle:
        handle.write(text)


@contextmanager
def _writer(path: Path, fmt: str, columns: list[str]) -> Iterator[Any]:
    if fmt == "xlsx":
        from openpyxl import Workbook  # lazy: only XLSX needs it

        book = Workbook(write_only=True)  # write-only mode streams rows to a temp file
        sheet = book.create_sheet()
        sheet.append(columns)
        yield lambda record: sheet.append([_cell(record.get(c)) for c in columns])
        with _atomic(path, "wb") as handle:
            book.save(handle)
        return
    with _atomic(path, "w") as handle:
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(columns)
            yield lambda record: writer.writerow([neutralise_cell(_cell(record.get(c))) for c in columns])
        elif fmt == "jsonl":
            yield lambda record: handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            array = _JsonArray(handle)
            yield array
            handle.write("\n]\n" if array.started else "[]\n")


class _JsonArray:
    """Writes objects into a JSON array one at a time ("[" before the first, "," between)."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.started = False

    def __call__(self, record: dict[str, Any]) -> None:
        self.handle.write((",\n" if self.started else "[\n") + json.dumps(record, ensure_ascii=False))
        self.started = True


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
