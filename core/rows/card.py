"""The dataset card's per-column figures, derived from the columns: rows per value of each
category column (ordered vs. made for the stratified one), entities per type, number ranges,
true/false counts and text lengths; in the card's language (`lang`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from statistics import mean
from typing import Any

from core import messages
from core.rows.columns import Column, ColumnType
from core.rows.model import RowModel


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _category(column: Column, rows: Sequence[Mapping[str, Any]], ordered: Mapping[str, int], lang: str) -> list[str]:
    counts = Counter(str(row.get(column.name, "")) for row in rows)
    values = [*column.values, *sorted(set(counts) - set(column.values))]
    title = "## " + messages.text(lang, "card_rows_per_column", column=column.name)
    if column.stratified:
        lines = [title, "", messages.text(lang, "card_column_ordered_header", column=column.name), "|---|---:|---:|"]
        lines += [f"| {_cell(value)} | {ordered.get(value, 0)} | {counts.get(value, 0)} |" for value in values]
    else:
        lines = [title, "", messages.text(lang, "card_column_rows_header", column=column.name), "|---|---:|"]
        lines += [f"| {_cell(value)} | {counts.get(value, 0)} |" for value in values]
    return [*lines, ""]


def _spans(column: Column, rows: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    spans = Counter()
    rows_with = Counter()
    empty = 0
    for row in rows:
        items = row.get(column.name) or []
        empty += not items
        spans.update(str(item.get("label", "")) for item in items)
        rows_with.update({str(item.get("label", "")) for item in items})
    title = messages.text(lang, "card_spans_per_type", column=column.name)
    lines = [f"## {title[:1].upper()}{title[1:]}", "", messages.text(lang, "card_spans_header"), "|---|---:|---:|"]
    lines += [f"| {_cell(kind)} | {spans.get(kind, 0)} | {rows_with.get(kind, 0)} |"
              for kind in [*column.values, *sorted(set(spans) - set(column.values))]]
    lines += ["", messages.text(lang, "card_spans_none", column=column.name, empty=empty, total=len(rows)), ""]
    return lines


def column_figures(model: RowModel, rows: Sequence[Mapping[str, Any]], ordered: Mapping[str, int],
                   lang: str = "en") -> list[str]:
    """Markdown lines: one section per category/spans column, then a table for the others."""
    def t(key: str, **values: object) -> str:
        return messages.text(lang, key, **values)

    lines: list[str] = []
    others = [f"## {t('card_columns')}", "", t("card_columns_header"), "|---|---|---|"]
    for column in model.columns:
        if column.type == ColumnType.category:
            lines += _category(column, rows, ordered, lang)
            continue
        if column.type == ColumnType.spans:
            lines += _spans(column, rows, lang)
            continue
        values = [row.get(column.name) for row in rows if row.get(column.name) is not None]
        if column.type == ColumnType.number:
            numbers = [v for v in values if isinstance(v, (int, float))]
            figures = (t("card_numbers", low=f"{min(numbers):g}", mean=f"{mean(numbers):.4g}", high=f"{max(numbers):g}")
                       if numbers else "-")
        elif column.type == ColumnType.boolean:
            figures = t("card_booleans", yes=sum(v is True for v in values), no=sum(v is False for v in values))
        else:
            lengths = [len(str(v)) for v in values]
            figures = t("card_text_lengths", low=min(lengths), high=max(lengths), mean=f"{mean(lengths):.0f}") if lengths else "-"
        others.append(f"| {_cell(column.name)} | {column.type.value} | {figures} |")
    return [*lines, *others, ""]
