"""Prompts for the row-model presets (entities, translation, red team, simulated users, any
columns) and the line template for servers without structured output.

One request asks for `count` rows with some columns pinned (`pins`): the stratified column's
value, the noise kind. The wordings 'Produce exactly N ...' and 'the <column> "<value>"' are read
by the fake server in tests/fakes/openai_server.py; keep them in sync.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.prompts import (
    ASPECTS,
    LENGTHS,
    MAX_AVOID,
    MAX_FEW_SHOT,
    STYLES,
    SYSTEM_PROMPT,
    ParseError,
    example_lines,
    order_lines,
    parse_template,
    shorten,
)
from core.rows.columns import ColumnType
from core.rows.model import RowModel
from core.rows.noise import NOISE_COLUMN, noise_line
from core.rows.presets import noisy_column, preset, row_model
from core.rows.spans import SpanError, parse_spans_line, spans_for_prompt
from core.spec import COLUMNS, DatasetSpec


class _Guidance(Protocol):  # core's Guidance (few_shot, avoid, feedback); a protocol keeps this module leaf-ward
    few_shot: list[dict[str, Any]]
    avoid: list[dict[str, Any]]
    feedback: list[str]


def format_row(model: RowModel, row: Mapping[str, Any]) -> str:
    """A row as `column: value` lines (few-shot and avoid lists, the line template)."""
    lines = []
    for column in model.columns:
        value = row.get(column.name, "")
        if column.type == ColumnType.spans:
            shown = spans_for_prompt(value if isinstance(value, list) else [])
        elif column.type == ColumnType.boolean:
            shown = "true" if value is True else "false" if value is False else str(value)
        else:
            shown = shorten(value)
        lines.append(f"{column.name}: {shown}")
    return "\n".join(lines)


def describe_columns(model: RowModel, pins: Mapping[str, str]) -> list[str]:
    lines = ["Columns of every example:"]
    for column in model.columns:
        if column.given:
            continue
        what = column.description
        if column.type == ColumnType.category:
            allowed = ", ".join(f'"{value}"' for value in column.values)
            what = (f"{what}; " if what else "") + f"one of {allowed}"
        elif column.type == ColumnType.spans:
            what = (f"{what}; " if what else "") + "a list of {text, type}, type one of " + \
                ", ".join(column.values)
        elif column.type == ColumnType.number:
            what = (f"{what}; " if what else "") + "a number"
        elif column.type == ColumnType.boolean:
            what = (f"{what}; " if what else "") + "true or false"
        lines.append(f"- {column.name}: {what or 'text'}")
    return lines


def diversity_hint(spec: DatasetSpec, batch_index: int) -> str:
    """One line that differs per batch; the same topic and batch number give the same line."""
    rng = random.Random(f"{spec.topic}|{spec.task.value}|{batch_index}")  # str seeds are stable across runs
    return (f"For this batch: focus on {rng.choice(ASPECTS)}; length: {rng.choice(LENGTHS)}; "
            f"style: {rng.choice(STYLES)}.")


def _pin_lines(spec: DatasetSpec, model: RowModel, pins: Mapping[str, str]) -> list[str]:
    lines = []
    stratified = model.stratified
    if stratified is not None and stratified.name in pins:
        lines.append(f'Every example must have the {stratified.name} "{pins[stratified.name]}" '
                     f"and must clearly deserve it.")
    kind = pins.get(NOISE_COLUMN)
    if kind:
        lines.append(noise_line(kind, noisy_column(model)))
    return lines


def render_row_messages(
    spec: DatasetSpec,
    *,
    count: int,
    pins: Mapping[str, str],
    label: str = "",  # unused: the stratified value is in `pins` (the same call as core.prompts)
    batch_index: int = 0,
    guidance: _Guidance | None = None,
    recent: Sequence[str] = (),
    structured: bool = True,
    attributes: Any = None,
) -> list[dict[str, str]]:
    """The chat messages for one batch of `count` rows with `pins` fixed (`attributes`: as in core.prompts)."""
    model, chosen = row_model(spec), preset(spec)
    lines = [chosen.task_line(spec)]
    if spec.topic and spec.topic not in lines[0]:
        lines.append(f"Topic / domain: {spec.topic}.")
    lines += order_lines(spec, guidance.feedback if guidance is not None else ())
    lines.append("")
    lines += describe_columns(model, pins)
    lines.append("")
    lines.append(f"Produce exactly {count} {chosen.noun}.")
    lines += _pin_lines(spec, model, pins)
    lines += chosen.batch_lines(spec, pins, batch_index)
    lines.append(attributes.hint(spec, batch_index) if attributes is not None else diversity_hint(spec, batch_index))
    lines.append("Every example must differ from the others in wording, content and structure.")
    few_shot = list(guidance.few_shot) if guidance is not None else []
    # Only rows of the pinned value (label): a model shown another label's rows copies them under this one.
    few_shot = [row for row in few_shot
                if all(str(row.get(name, "")).casefold() == str(value).casefold() for name, value in pins.items())]
    lines += example_lines([format_row(model, row) for row in few_shot[:MAX_FEW_SHOT]],
                           [format_row(model, row) for row in guidance.avoid[:MAX_AVOID]] if guidance is not None else [],
                           recent)
    lines.append("")
    if structured:
        names = ", ".join(model.asked)
        lines.append(f'Answer with JSON only: {{"examples": [...]}}, each example an object with {names}.')
    else:
        lines.append("Use exactly this format for every example, with an empty line between examples, and nothing else:")
        lines.append(template(model))
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def template(model: RowModel) -> str:
    """One `column: <what>` line per column (the fake server in tests reads these placeholders)."""
    parts = []
    for column in model.columns:
        if column.given:
            continue
        if column.type == ColumnType.spans:
            what = f"TYPE: exact text; TYPE: exact text, or none; TYPE one of: {' | '.join(column.values)}"
        elif column.type == ColumnType.category:
            what = f"one of: {' | '.join(column.values)}"
        elif column.type == ColumnType.number:
            what = "a number"
        elif column.type == ColumnType.boolean:
            what = "true or false"
        else:
            what = column.name
        parts.append(f"{column.name}: <{what}>")
    return "\n".join(parts)


def parse_row_template(model: RowModel, text: str) -> list[dict[str, Any]]:
    """Rows from a `column: value` answer; a row starts at the first column's line. Incomplete
    rows are dropped; an answer with no row at all raises ParseError."""
    names = model.asked
    line_re = re.compile(r"^\s*(?:\*\*)?(" + "|".join(map(re.escape, names)) + r")(?:\*\*)?\s*[:：]\s*(.*)$", re.I)
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    last: str | None = None

    def close() -> None:
        if current is not None and all(name in current for name in names
                                       if model.column(name).type != ColumnType.spans):
            rows.append(current)

    for line in text.splitlines():
        match = line_re.match(line)
        if match:
            name, value = match.group(1).lower(), match.group(2).strip()
            if name == names[0]:
                close()
                current = {}
            if current is None:
                continue
            if model.column(name).type == ColumnType.spans:
                try:
                    current[name] = parse_spans_line(value)
                except SpanError:
                    current[name] = value  # validation rejects it with the reason
            else:
                current[name] = value
            last = name
        elif line.strip() and current is not None and last is not None and isinstance(current.get(last), str):
            current[last] += " " + line.strip()  # a continuation line
    close()
    if not rows:
        raise ParseError("the answer does not follow the column template")
    return rows


def parse_answer_template(spec: DatasetSpec, text: str) -> list[dict[str, Any]]:
    """Rows from a line-template answer: the old tasks' own templates, `column: value` for the rest."""
    if spec.task in COLUMNS:
        return parse_template(spec.task, text)
    return parse_row_template(row_model(spec), text)
