"""`export_job`'s file writer, streaming: rows go from the database to the file a chunk at a time,
so a 1,000,000-row job exports in bounded memory (the in-memory `render_dataset` builds every
row's dict, then the whole file: several times the file's size). The bytes are the same as
`render_dataset`'s (tests/test_export.py checks it); the card gets, per row, only what it counts.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from core.export_cap import within_quotas
from core.export_layout import UNICODE_LINE_BREAKS, chat_example, source_column, system_prompt
from core.quality import neutralise_cell
from core.rows.presets import row_model
from core.rows.rules import is_legacy
from core.spec import DatasetSpec, OutputFormat, TaskType
from core.store_port import JobStore, StoredRow
from core.variety import spec_pairs

#: Rows read from the database per query.
CHUNK = 5000


@dataclass(slots=True)
class CountedRow:
    """What the dataset card reads of a row (label, source, a quiz's answer): ~60 bytes, not ~1 KB."""

    label: str
    source: str
    fields: dict[str, Any] = field(default_factory=dict)


def _rows(store: JobStore, job_id: int) -> Iterator[StoredRow]:
    """Accepted rows in id order, CHUNK at a time (keyset pagination: no server-side cursor)."""
    after = 0
    while True:
        chunk = store.accepted_rows_after(job_id, after, CHUNK)
        if not chunk:
            return
        yield from chunk
        after = chunk[-1].id


def synthetic_pairs(store: JobStore, job_id: int, spec: DatasetSpec) -> list[tuple[str, str]]:
    """(label, main text) of the rows the model wrote, read a chunk at a time (variety, chart)."""
    return spec_pairs(spec, (row for row in _rows(store, job_id) if row.source != "uploaded"))


def write_rows(store: JobStore, job_id: int, spec: DatasetSpec, fmt: OutputFormat, path: Path) -> list[CountedRow]:
    """Write the job's rows to `path` atomically; returns what the card needs of each written row."""
    with_source = store.has_rows(job_id, source="uploaded")
    provenance = source_column(spec)
    columns = [*spec.columns, *([provenance] if with_source else [])]
    # The row model's tasks: spans as offsets, numbers/booleans as JSON values, typed CSV cells.
    model = None if is_legacy(spec) else row_model(spec)
    answers: dict[str, dict[str, str]] = {}  # one shared {"answer": x} per letter
    counted: list[CountedRow] = []
    system = system_prompt(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = _Writer(handle, fmt, columns)
            for row in within_quotas(_rows(store, job_id), spec):
                if model is None:
                    record = {column: str(row.fields.get(column, "")) for column in spec.columns}
                else:
                    record = model.record(row.fields)
                if with_source:
                    record[provenance] = "uploaded" if row.source == "uploaded" else "synthetic"
                if fmt == OutputFormat.csv and model is not None:
                    cells = [model.cell(column, row.fields) for column in model.columns]
                    writer.cells(cells + ([record[provenance]] if with_source else []))
                elif fmt == OutputFormat.openai_jsonl:
                    line = json.dumps(chat_example(spec, system, record), ensure_ascii=False)
                    writer.line(line.translate(UNICODE_LINE_BREAKS))
                elif fmt == OutputFormat.jsonl:
                    writer.line(json.dumps(record, ensure_ascii=False).translate(UNICODE_LINE_BREAKS))
                else:
                    writer.record(record)
                answer = row.fields.get("answer", "") if spec.task == TaskType.multiple_choice else None
                if model is not None:  # the card's per-column figures read every column
                    counted.append(CountedRow(row.label, row.source, row.fields))
                    continue
                counted.append(CountedRow(row.label, row.source,
                                          answers.setdefault(answer, {"answer": answer}) if answer is not None else {}))
            writer.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counted


class _Writer:
    """CSV rows, JSON array items or JSONL lines, as `core.export` lays them out in memory."""

    def __init__(self, handle: IO[str], fmt: OutputFormat, columns: list[str]) -> None:
        self.handle, self.fmt, self.columns = handle, fmt, columns
        self.count = 0
        if fmt == OutputFormat.csv:
            self.csv = csv.writer(handle)  # RFC 4180, \r\n line ends as csv.writer in memory
            self.csv.writerow(columns)

    def record(self, record: dict[str, str]) -> None:
        if self.fmt == OutputFormat.csv:
            self.csv.writerow([neutralise_cell(record[column]) for column in self.columns])
        else:  # one item of `json.dumps(records, indent=2)`
            item = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            self.handle.write(("[\n  " if self.count == 0 else ",\n  ") + item)
        self.count += 1

    def cells(self, cells: list[str]) -> None:
        """A CSV row of cells already laid out (the row model's typed cells)."""
        self.csv.writerow([neutralise_cell(cell) for cell in cells])
        self.count += 1

    def line(self, text: str) -> None:
        self.handle.write(text + "\n")
        self.count += 1

    def close(self) -> None:
        if self.fmt == OutputFormat.json:
            self.handle.write("[]\n" if self.count == 0 else "\n]\n")
