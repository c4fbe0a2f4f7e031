"""The dataset card's per-column figures, derived from the columns: rows per value of each
category column (ordered vs. made for the stratified one), entities per type, number ranges,
true/false counts and text lengths."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import mean
from typing import Any

from core.rows.columns import Column, ColumnType
from core.rows.model import RowModel


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _category(column: Column, rows: Sequence[Mapping[str, Any]], ordered: Mapping[str, int]) -> list[str]:
    counts = Counter(str(row.get(column.name, "")) for row in rows)
    values = [*column.values, *sorted(set(counts) - set(column.values))]
    if column.stratified:
        lines = [f"## Rows per {column.name}", "", f"| {column.name} | Ordered | Rows |", "|---|---:|---:|"]
        lines += [f"| {_cell(value)} | {ordered.get(value, 0)} | {counts.get(value, 0)} |" for value in values]
    else:
        lines = [f"## Rows per {column.name}", "", f"| {column.name} | Rows |", "|---|---:|"]
        lines += [f"| {_cell(value)} | {counts.get(value, 0)} |" for value in values]
    return [*lines, ""]


def _spans(column: Column, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    spans = Counter()
    rows_with = Counter()
    empty = 0
    for row in rows:
        items = row.get(column.name) or []
        empty += not items
        spans.update(str(item.get("label", "")) for item in items)
        rows_with.update({str(item.get("label", "")) for item in items})
    lines = [f"## {column.name.capitalize()} per type", "", "| Type | Spans | Rows with it |", "|---|---:|---:|"]
    lines += [f"| {_cell(kind)} | {spans.get(kind, 0)} | {rows_with.get(kind, 0)} |"
              for kind in [*column.values, *sorted(set(spans) - set(column.values))]]
    lines += ["", f"Rows without any {column.name}: {empty} of {len(rows)}", ""]
    return lines


def column_figures(model: RowModel, rows: Sequence[Mapping[str, Any]], ordered: Mapping[str, int]) -> list[str]:
    """Markdown lines: one section per category/spans column, then a table for the others."""
    lines: list[str] = []
    others = ["## Columns", "", "| Column | Type | Figures |", "|---|---|---|"]
    for column in model.columns:
        if column.type == ColumnType.category:
            lines += _category(column, rows, ordered)
            continue
        if column.type == ColumnType.spans:
            lines += _spans(column, rows)
            continue
        values = [row.get(column.name) for row in rows if row.get(column.name) is not None]
        if column.type == ColumnType.number:
            numbers = [v for v in values if isinstance(v, (int, float))]
            figures = (f"min {min(numbers):g}, mean {mean(numbers):.4g}, max {max(numbers):g}" if numbers else "-")
        elif column.type == ColumnType.boolean:
            figures = f"true {sum(v is True for v in values)}, false {sum(v is False for v in values)}"
        else:
            lengths = [len(str(v)) for v in values]
            figures = f"{min(lengths)}-{max(lengths)} characters, mean {mean(lengths):.0f}" if lengths else "-"
        others.append(f"| {_cell(column.name)} | {column.type.value} | {figures} |")
    return [*lines, *others, ""]
