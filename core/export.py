"""Writers for a job's accepted rows: CSV, JSON, JSONL, OpenAI fine-tuning chat JSONL, and the dataset card.

Columns are DESIGN.md's contract (classification `text,label`; multiple choice
`question,option_a..option_d,answer`; qa `question,answer`). When the job holds uploaded rows,
a `source` column (uploaded | synthetic) says which rows the model wrote. Rows come in the
order they were stored (by id), so the same job always exports the same bytes.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from core import estimate, stop_reasons, variety
from core import messages as m
from core.card_spec import spec_yaml
from core.documents.card import document_lines
from core.export_cap import within_quotas
from core.export_layout import LETTERS, UNICODE_LINE_BREAKS, chat_example, source_column, system_prompt
from core.export_stream import write_rows
from core.intake.languages import language_in
from core.quality import neutralise_cell
from core.rows.card import column_figures
from core.rows.presets import row_model
from core.rows.rules import is_legacy
from core.settings import Settings
from core.spec import DatasetSpec, OutputFormat, TaskType, stored_spec
from core.store_port import JobStore, StoredJob, StoredRow
from core.verify import VERIFIED_BY, verification_lines

#: File suffix for each format (openai_jsonl is JSONL too).
SUFFIXES: dict[OutputFormat, str] = {
    OutputFormat.csv: ".csv",
    OutputFormat.json: ".json",
    OutputFormat.jsonl: ".jsonl",
    OutputFormat.openai_jsonl: ".jsonl",
    OutputFormat.xlsx: ".xlsx",
}
_FORMAT_BY_SUFFIX = {".csv": OutputFormat.csv, ".json": OutputFormat.json, ".jsonl": OutputFormat.jsonl,
                     ".xlsx": OutputFormat.xlsx}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    card_path: Path
    rows: int


class ExportError(ValueError):
    """The job cannot be exported (unknown id, unknown format); the message is for the user."""


# --- choosing a format ----------------------------------------------------------------------


def parse_format(value: str | OutputFormat) -> OutputFormat:
    try:
        return OutputFormat(str(getattr(value, "value", value)).strip().lower())
    except ValueError:
        known = ", ".join(f.value for f in OutputFormat)
        raise ExportError(f"unknown format {value!r}; use one of: {known}") from None


def format_for_path(path: Path, spec_format: OutputFormat, explicit: str | OutputFormat | None = None) -> OutputFormat:
    """--format wins; else the file's suffix (.csv/.json/.jsonl); else the spec's format.

    A spec asking for openai_jsonl written to `x.jsonl` stays openai_jsonl: the suffix fits it.
    """
    if explicit is not None:
        return parse_format(explicit)
    suffix = path.suffix.lower()
    if SUFFIXES[spec_format] == suffix:
        return spec_format
    return _FORMAT_BY_SUFFIX.get(suffix, spec_format)


def card_path_for(path: Path) -> Path:
    """`out.csv` -> `out.card.md`, beside the dataset."""
    return path.with_name(f"{path.stem if path.suffix else path.name}.card.md")


def chart_path_for(path: Path) -> Path:
    """`out.csv` -> `out.chart.png`, beside the dataset."""
    return path.with_name(f"{path.stem if path.suffix else path.name}.chart.png")


def render_job_chart(store: JobStore, job_id: int) -> bytes:
    """The PNG chart of a job's synthetic rows: rows and text length per label (core.chart)."""
    from core.chart import render_chart  # matplotlib is imported only when a chart is drawn
    from core.export_stream import synthetic_pairs

    _, spec, _ = _load(store, job_id)
    return render_chart(synthetic_pairs(store, job_id, spec), spec.topic or spec.task.value.replace("_", " "))


# --- loading --------------------------------------------------------------------------------


def _load(store: JobStore, job_id: int) -> tuple[StoredJob, DatasetSpec, list[StoredRow]]:
    job = store.get_job(job_id)
    if job is None:
        raise ExportError(f"job {job_id} does not exist")
    # Validated when the job was created; a later, lower max_count must not block its export.
    spec = stored_spec(job.spec_json)
    rows = list(within_quotas(sorted(store.accepted_rows(job_id), key=lambda row: row.id), spec))
    return job, spec, rows


def _has_uploaded(rows: list[StoredRow]) -> bool:
    return any(row.source == "uploaded" for row in rows)


def _source(row: StoredRow) -> str:
    # 👍-kept preview rows were written by the model too: for the user they are synthetic.
    return "uploaded" if row.source == "uploaded" else "synthetic"


def _records(spec: DatasetSpec, rows: list[StoredRow]) -> list[dict]:
    with_source = _has_uploaded(rows)
    legacy = is_legacy(spec)
    model = None if legacy else row_model(spec)
    provenance = source_column(spec)
    records = []
    for row in rows:
        if model is None:
            record = {column: str(row.fields.get(column, "")) for column in spec.columns}
        else:  # spans as spaCy-style offsets, numbers and booleans as JSON values
            record = model.record(row.fields)
        if with_source:
            record[provenance] = _source(row)
        records.append(record)
    return records


def _csv_any_columns(spec: DatasetSpec, rows: list[StoredRow]) -> bytes:
    """CSV of a row-model dataset: each cell as its column type says (spans as JSON with their text)."""
    model = row_model(spec)
    with_source = _has_uploaded(rows)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*model.names, *([source_column(spec)] if with_source else [])])
    for row in rows:
        cells = [model.cell(column, row.fields) for column in model.columns]
        writer.writerow([neutralise_cell(cell) for cell in cells] + ([_source(row)] if with_source else []))
    return buffer.getvalue().encode("utf-8")


# --- formats --------------------------------------------------------------------------------


def _csv(spec: DatasetSpec, records: list[dict[str, str]]) -> bytes:
    columns = list(records[0]) if records else list(spec.columns)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # RFC 4180: quotes fields with commas, quotes or newlines
    writer.writerow(columns)
    for record in records:
        writer.writerow([neutralise_cell(record[column]) for column in columns])
    return buffer.getvalue().encode("utf-8")


def _xlsx(spec: DatasetSpec, records: list[dict[str, str]]) -> bytes:
    """One sheet, a header row, every cell a string: openpyxl would store "=..." as a formula
    (the CSV neutralising prefix is not needed here, so the text stays exactly as generated)."""
    columns = list(records[0]) if records else list(spec.columns)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.freeze_panes = "A2"

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))  # control characters: not XML
        cell.data_type = "s"
        return cell

    sheet.append([text_cell(column) for column in columns])
    for record in records:
        sheet.append([text_cell(record[column]) for column in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _json(records: list[dict[str, str]]) -> bytes:
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _jsonl(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False).translate(UNICODE_LINE_BREAKS) + "\n"
                   for line in lines).encode("utf-8")


def _render(spec: DatasetSpec, rows: list[StoredRow], fmt: OutputFormat) -> bytes:
    if fmt == OutputFormat.csv and not is_legacy(spec):
        return _csv_any_columns(spec, rows)
    records = _records(spec, rows)
    if fmt == OutputFormat.csv:
        return _csv(spec, records)
    if fmt == OutputFormat.json:
        return _json(records)
    if fmt == OutputFormat.jsonl:
        return _jsonl(records)
    if fmt == OutputFormat.xlsx:
        return _xlsx(spec, records)
    # The fine-tuning format allows only `messages` per line, so no `source` here; the card
    # says how many rows were uploaded.
    system = system_prompt(spec)
    return _jsonl([chat_example(spec, system, record) for record in records])


def render_dataset(store: JobStore, job_id: int, fmt: OutputFormat | str) -> bytes:
    """The dataset file's bytes, in memory (chat channels attach them)."""
    _, spec, rows = _load(store, job_id)
    return _render(spec, rows, parse_format(fmt))


# --- the dataset card -----------------------------------------------------------------------


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


def _utc(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.replace(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# The embedded model's descriptions (core/llm_local.py): its data needs a warning on the card.
_LOCAL_MODEL_MARKS = ("(embedded, CPU)", "(local llama.cpp, CPU)")


def _card(store: JobStore, job: StoredJob, spec: DatasetSpec, rows: list[StoredRow], file_name: str | None,
          lang: str = "en", report: variety.VarietyReport | None = None, settings: Settings | None = None) -> str:
    """The card, in the conversation's language (`lang`: "en"/"pl"), in words the person who ordered understands."""
    assert job.id is not None

    def t(key: str, **values: object) -> str:
        return m.text(lang, key, **values)

    def reason(code: str) -> str:
        return t(f"reason_{code}") if f"reason_{code}" in m.TEXTS else code

    synthetic = [row for row in rows if row.source != "uploaded"]
    uploaded = len(rows) - len(synthetic)
    rejected = store.rejected_reasons(job.id)
    duplicates = sum(n for reason, n in rejected.items() if reason in ("duplicate", "near-duplicate"))
    task_name = t(f"card_task_{spec.task.value}") if f"card_task_{spec.task.value}" in m.TEXTS else spec.task.value.replace("_", " ")
    title = spec.topic or task_name
    lines = [f"# {t('card_title', title=title)}", ""]
    if any(mark in (job.model or "") for mark in _LOCAL_MODEL_MARKS):
        lines += [f"> {t('card_embedded_warning')}", ""]
    if file_name:
        lines += [t("card_file", name=file_name), ""]
    status = t(f"card_status_{job.status}") if f"card_status_{job.status}" in m.TEXTS else job.status
    lines += [
        f"- {t('card_task')}: {task_name}",
        f"- {t('card_language')}: {language_in(spec.language, lang)}",
        f"- {t('card_model')}: {_model_line(job.model, lang)}",
        f"- {t('card_status')}: {status}" + (f" ({stop_reasons.describe(job.error, lang, t)})" if job.error else ""),
        f"- {t('card_generated')}: {_utc(job.finished_at or job.started_at or job.created_at)}",
        f"- {t('card_exported')}: {_utc(datetime.now(timezone.utc).replace(tzinfo=None))}",
        f"- {t('card_rows')}: {len(rows)}"
        + (f" ({t('card_rows_split', synthetic=len(synthetic), uploaded=uploaded)})" if uploaded else ""),
        "",
    ]
    if not is_legacy(spec):
        lines += column_figures(row_model(spec), [row.fields for row in synthetic], spec.quotas(), lang)
    if spec.task == TaskType.documents:
        lines += document_lines(spec.passages or [], [row.fields for row in synthetic], spec.labels, rejected,
                                verified=VERIFIED_BY in (job.model or ""), lang=lang)
    elif spec.task == TaskType.classification:
        counts = Counter(row.label for row in synthetic)
        uploaded_counts = Counter(row.label for row in rows if row.source == "uploaded")
        ordered = spec.quotas()
        header = t("card_label_header") + (t("card_uploaded_header") if uploaded else "")
        lines += [f"## {t('card_per_label')}", "", header, "|---|---:|---:|" + ("---:|" if uploaded else "")]
        for label in [*ordered, *sorted(set(counts) - set(ordered))]:
            line = f"| {_cell(label)} | {ordered.get(label, 0)} | {counts.get(label, 0)} |"
            lines.append(line + (f" {uploaded_counts.get(label, 0)} |" if uploaded else ""))
        lines.append("")
    elif spec.task == TaskType.multiple_choice:
        answers = Counter(row.fields.get("answer", "") for row in synthetic)
        lines += [f"## {t('card_answers')}", "", t("card_answers_header"), "|---|---:|"]
        lines += [f"| {letter} | {answers.get(letter, 0)} |" for letter in LETTERS]
        lines.append("")
    lines += [f"## {t('card_quality')}", ""]
    lines.append(f"- {t('card_duplicates', n=duplicates)}")
    if rejected:
        lines += [f"- {t('card_rejected')}", ""]
        lines += [f"  {t('card_reason_header')}", "  |---|---:|"]
        lines += [f"  | {_cell(reason(code))} | {n} |"
                  for code, n in sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))]
    else:
        lines.append(f"- {t('card_rejected_none')}")
    lines += verification_lines(store, job.id, job.model, spec, lang)
    settings = settings or _trust_settings()
    report = report or variety_of(store, job.id, spec, settings)
    lines += ["", *report.card_section(lang)]
    if report.language_share is None:
        lines += [t("card_language_unchecked", language=language_in(spec.language, lang)), ""]
    lines += [
        f"## {t('card_cost')}",
        "",
        f"- {t('card_requests', n=job.requests)}",
        "- " + t("card_tokens", total=f"{job.prompt_tokens + job.completion_tokens:,}",
                 prompt=f"{job.prompt_tokens:,}", completion=f"{job.completion_tokens:,}"),
        _cost_line(job, settings, lang),
        f"- {t('card_time', time=_duration(job.elapsed_seconds))}",
        "",
        f"## {t('card_spec')}",
        "",
        t("card_spec_hint_documents" if spec.task == TaskType.documents else "card_spec_hint",
          output=file_name or f"out.{spec.format.value}"),  # the order's own file, not always out.csv
        "",
        "```yaml",
        spec_yaml(spec, lang),
        "```",
        "",
    ]
    if uploaded:
        lines += [t("card_uploaded_note"), ""]
    return "\n".join(lines)


def _model_line(model: str | None, lang: str) -> str:
    # The job's description ends "; labels verified by <judge>" (core.verify): said in the card's language.
    if not model:
        return "-"
    generator, verified, judge = model.partition(VERIFIED_BY)
    return generator + (f"; {m.text(lang, 'card_model_verified', judge=judge)}" if verified else "")


def _trust_settings() -> Settings | None:
    try:
        return Settings()
    except Exception:  # a bad setting elsewhere must not stop the card; defaults are used
        return None


def variety_of(store: JobStore, job_id: int, spec: DatasetSpec, settings: Settings | None = None) -> variety.VarietyReport:
    """The job's variety figures (synthetic rows only: uploaded rows are the user's own).

    Reads the rows' texts again, a chunk at a time, so the streamed export keeps only texts in memory."""
    from core.export_stream import synthetic_pairs

    return variety.measure(synthetic_pairs(store, job_id, spec), store.rejected_reasons(job_id),
                           language=spec.language, check_language=settings.language_check if settings else True)


def _cost_line(job: StoredJob, settings: Settings | None, lang: str) -> str:
    cost = estimate.cost_of(job.model or "", job.prompt_tokens, job.completion_tokens, settings.prices if settings else "")
    if cost is None:
        name = (job.model or "").split(VERIFIED_BY, 1)[0].split(" via ", 1)[0]
        return "- " + m.text(lang, "card_cost_unknown", model=name or m.text(lang, "card_this_model"))
    return "- " + m.text(lang, "card_cost_usd", cost=estimate.money(cost))


def render_card(store: JobStore, job_id: int) -> str:
    """The Markdown dataset card of a job."""
    job, spec, rows = _load(store, job_id)
    return _card(store, job, spec, rows, None)


@dataclass(frozen=True)
class Delivery:
    """What a chat attaches: the file, its card, the chart, and the rows it holds (read from storage once)."""

    data: bytes
    card: str
    rows: list[StoredRow]
    variety: variety.VarietyReport
    chart: bytes  # PNG: rows and text length per label


def render_delivery(store: JobStore, job_id: int, fmt: OutputFormat | str, file_name: str, lang: str = "en",
                    settings: Settings | None = None) -> Delivery:
    """The dataset file and its card (in the conversation's language, `lang`) in memory, for chat channels.

    A CSV sent in a chat starts with a UTF-8 BOM: the people who order in a chat open it in
    Excel, which reads a CSV without one in the machine's ANSI code page (Polish letters become
    "Ä…"). `datagen generate` files keep none, for the programs of people who script.
    """
    job, spec, rows = _load(store, job_id)
    chosen = parse_format(fmt)
    data = _render(spec, rows, chosen)
    if chosen == OutputFormat.csv:
        data = codecs.BOM_UTF8 + data
    from core.chart_process import render_chart_apart  # its child starts with the first delivery

    pairs = variety.spec_pairs(spec, [row for row in rows if row.source != "uploaded"])
    settings = settings or _trust_settings()  # the chat's own settings (prices, language check) when given
    report = variety.measure(pairs, store.rejected_reasons(job_id), language=spec.language,
                             check_language=settings.language_check if settings else True)
    # In the chart process: drawn in this thread, it would hold the GIL, and with it every chat's replies.
    chart = render_chart_apart(pairs, spec.topic or spec.task.value.replace("_", " "))
    return Delivery(data, _card(store, job, spec, rows, file_name, lang, report, settings), rows, report, chart)


# --- files ----------------------------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    # A crash mid-write must not leave a truncated dataset that looks complete.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_chart(store: JobStore, job_id: int, dataset_path: Path) -> Path:
    """Write the job's chart beside its dataset (`out.chart.png`); returns where."""
    chart_path = chart_path_for(Path(dataset_path))
    _write_atomically(chart_path, render_job_chart(store, job_id))
    return chart_path


def export_job(store: JobStore, job_id: int, path: Path, fmt: OutputFormat | str | None = None) -> ExportResult:
    """Write the dataset to `path` and its card to `<name>.card.md` beside it."""

    path = Path(path)
    job = store.get_job(job_id)
    if job is None:
        raise ExportError(f"job {job_id} does not exist")
    spec = stored_spec(job.spec_json)
    chosen = format_for_path(path, spec.format, fmt)
    if chosen == OutputFormat.xlsx:  # a workbook is built whole (openpyxl), not streamed line by line
        _, spec, stored = _load(store, job_id)
        _write_atomically(path, _render(spec, stored, chosen))
        rows: list = stored
    else:
        rows = write_rows(store, job_id, spec, chosen, path)
    card_path = card_path_for(path)
    _write_atomically(card_path, _card(store, job, spec, rows, path.name).encode("utf-8"))  # type: ignore[arg-type]
    return ExportResult(path=path, card_path=card_path, rows=len(rows))
