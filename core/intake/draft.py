"""The draft order: every DatasetSpec field optional; what is missing, the summary, the validated spec."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from core import messages as m
from core.intake.labels import distinct_labels
from core.intake.languages import language_in
from core.intake.numbers import HUGE_NUMBER, format_count, shares_to_counts
from core.intake.row_orders import ROW_MODEL_QUESTIONS, row_model_fields, row_model_missing, row_model_summary
from core.documents.passages import QUESTION_TYPES, question_type
from core.spec import DEFAULT_MAX_COUNT, DatasetSpec, OutputFormat, SpecError, TaskType, split_evenly

DEFAULT_TONE = "neutral"
DEFAULT_FORMAT = OutputFormat.csv


class SpecDraft(BaseModel):
    """An order being assembled: every DatasetSpec field optional; stored as JSON in the conversation."""

    model_config = ConfigDict(extra="ignore")

    task: TaskType | None = None
    topic: str | None = None
    labels: list[str] | None = None
    label_counts: dict[str, int] | None = None
    label_shares: dict[str, float] | None = None
    count: int | None = None
    language: str | None = None
    tone: str | None = None
    format: OutputFormat | None = None
    instructions: str | None = None
    # The row model's fields (core.rows): see DatasetSpec.
    columns: list[dict[str, Any]] | None = None  # task custom
    balance: str | None = None  # custom: the category column to balance ("" = none), when several
    entity_types: list[str] | None = None
    target_language: str | None = None  # "same": a paraphrase in the data's language
    noise_share: float | None = None
    # Labels of red-team / simulated-users / own-column orders (`labels` stays classification's).
    row_labels: list[str] | None = None
    row_label_counts: dict[str, int] | None = None  # may name only some labels: the rest split evenly

    def missing(self) -> list[str]:
        """What must still be asked, in asking order. Tone is never asked (default: neutral)."""
        out: list[str] = []
        if self.task is None:
            out.append("task")
        if self.task == TaskType.classification and len(self.labels or []) < 2:
            out.append("labels")
        out += row_model_missing(self)
        if (self.count is None and not counts_complete(self.label_counts, self.labels)) or self._too_few_for_labels():
            out.append("count")
        if self.language is None:
            out.append("language")
        if self.task == TaskType.documents:  # the documents are the topic; CSV unless the user names another
            return out
        if self.topic is None:
            out.append("topic")
        if self.format is None:
            out.append("format")
        return out

    def question_type_counts(self) -> dict[str, int] | None:
        """Documents: the exact count per question type ("10 factual, 5 reasoning" with a total: the
        rest split evenly over the types not named); None when the draft names no type counts.
        SpecError (English) for a type that does not exist or counts beyond the total."""
        if self.task != TaskType.documents or not self.label_counts:
            return None
        named: dict[str, int] = {}
        for key, n in self.label_counts.items():
            kind = question_type(key)
            if kind is None:
                raise SpecError(m.text("en", "documents_unknown_type", type=key, types=", ".join(QUESTION_TYPES)))
            named[kind] = named.get(kind, 0) + n
        rest = [kind for kind in QUESTION_TYPES if kind not in named]
        if self.count is None or not rest:
            return {kind: named.get(kind, 0) for kind in QUESTION_TYPES}
        remaining = self.count - sum(named.values())
        if remaining < 0:
            raise SpecError(m.text("en", "order_counts_exceed", total=format_count(sum(named.values())),
                                   count=format_count(self.count)))
        return {kind: named.get(kind, split_evenly(remaining, rest).get(kind, 0)) for kind in QUESTION_TYPES}

    def _too_few_for_labels(self) -> bool:
        """An equal split of fewer examples than labels would leave some labels with none."""
        labels = self.labels or []
        return (
            self.task == TaskType.classification and self.count is not None and 1 <= self.count < len(labels)
            and not self.label_counts and not self.label_shares
        )

    def required_missing(self) -> list[str]:
        """Only what has no sensible default (task, labels, count)."""
        return [name for name in self.missing() if name in ("task", "labels", "count", *ROW_MODEL_QUESTIONS)]

    def with_defaults(self, user_language: str = "en") -> "SpecDraft":
        """A copy with the optional fields filled: data language from the user's, any topic, CSV."""
        return self.model_copy(
            update={
                "language": self.language or ("Polish" if user_language == "pl" else "English"),
                "topic": "" if self.topic is None else self.topic,
                "format": self.format or DEFAULT_FORMAT,
            }
        )

    def to_spec(self, max_count: int = DEFAULT_MAX_COUNT, *, lang: str = "en") -> DatasetSpec:
        """The validated order; SpecError with a one-line message in `lang` ("en"/"pl") otherwise."""

        def refuse(key: str, **values: object) -> SpecError:
            return SpecError(m.text(lang, key, **values))

        if self.task is None:
            raise refuse("order_needs_task")
        count = self.count
        labels = list(self.labels or [])
        label_counts: dict[str, int] | None = None
        if self.task == TaskType.classification:
            if len(labels) < 2:
                raise refuse("order_needs_labels")
            if self.label_counts:
                label_counts = {label: self.label_counts[label] for label in labels if label in self.label_counts}
                lacking = [label for label in labels if label not in label_counts]
                if lacking:
                    if count is None:
                        raise refuse("order_label_lacking", labels=", ".join(lacking))
                    rest = count - sum(label_counts.values())
                    if rest < 0:
                        total = sum(label_counts.values())
                        raise refuse("order_counts_exceed", total=format_count(total), count=format_count(count))
                    label_counts.update(split_evenly(rest, lacking))
                total = sum(label_counts.values())
                if count is None:
                    count = total
                elif total != count:
                    raise refuse("order_counts_mismatch", total=format_count(total), count=format_count(count))
            elif self.label_shares:
                if count is None:
                    raise refuse("order_needs_count")
                label_counts = shares_to_counts(count, self.label_shares, labels)
                if label_counts is None:
                    percent = sum(self.label_shares.values()) * 100
                    raise refuse("order_shares", percent=f"{percent:g}")
        if count is None and self.task == TaskType.documents and self.label_counts:
            count = sum(self.label_counts.values())
        if count is None:
            raise refuse("order_needs_count")
        if count < 1:
            raise refuse("order_count_small")
        if self._too_few_for_labels():
            raise refuse("order_fewer_rows_than_labels", count=format_count(count), labels=format_count(len(labels)))
        if count > max_count:
            shown = format_count(count) if count < HUGE_NUMBER else m.text(lang, "order_count_enormous")
            raise refuse("order_count_big", count=shown, max=format_count(max_count))
        data: dict[str, Any] = {
            "task": self.task,
            "topic": self.topic or "",
            "count": count,
            "language": self.language or "English",
            "tone": self.tone or DEFAULT_TONE,
            "format": self.format or DEFAULT_FORMAT,
            "instructions": self.instructions or "",
        }
        if self.task == TaskType.classification:
            data["labels"] = labels
            data["label_counts"] = label_counts
        if self.task == TaskType.documents:
            try:
                types = self.question_type_counts()
            except SpecError:
                raise refuse("documents_unknown_type", type=", ".join(self.label_counts or {}),
                             types=", ".join(QUESTION_TYPES)) from None
            if types is not None:
                if self.count is not None and sum(types.values()) != count:
                    raise refuse("order_counts_mismatch", total=format_count(sum(types.values())),
                                 count=format_count(count))
                data["labels"], data["label_counts"] = list(QUESTION_TYPES), types
                data["count"] = sum(types.values())
        data.update(row_model_fields(self))
        return DatasetSpec.from_data(data, max_count=max_count)

    def summary(self, lang: str = "en") -> str:
        """A compact, human summary ("en" or "pl"); unset fields show as "?"."""
        unknown = "?"

        def line(key: str, value: str) -> str:
            return f"{m.text(lang, key)}: {value}"

        lines = [line("summary_task", m.text(lang, f"summary_task_{self.task.value}") if self.task else unknown)]
        if self.task == TaskType.documents:
            return "\n".join(lines + self._documents_lines(lang, line))
        if self.task in (None, TaskType.classification) and (self.labels or self.task):
            lines.append(line("summary_labels", self._labels_text(lang) or unknown))
        lines += [line(key, value) for key, value in row_model_summary(self, lang)]
        count = self.count
        if count is None and counts_complete(self.label_counts, self.labels):
            count = sum((self.label_counts or {}).values())
        lines.append(line("summary_count", format_count(count) if count is not None else unknown))
        language = language_in(self.language, lang) if self.language else self.language
        lines.append(line("summary_language", language or unknown))
        lines.append(line("summary_topic", unknown if self.topic is None else (self.topic or m.text(lang, "summary_any"))))
        lines.append(line("summary_tone", _tone_name(self.tone or DEFAULT_TONE, lang)))
        lines.append(line("summary_format", _format_name(self.format, lang) if self.format else unknown))
        if self.instructions:
            lines.append(line("summary_instructions", self.instructions))
        return "\n".join(lines)

    def _documents_lines(self, lang: str, line: Any) -> list[str]:
        """The question types and counts, the questions' language, the file format."""
        try:
            types = self.question_type_counts()
        except SpecError:
            types = None
        if types is None and self.count is not None:
            types = split_evenly(self.count, list(QUESTION_TYPES))
        shown = ", ".join(f"{m.text(lang, f'question_type_{k}')} {format_count(n)}" for k, n in types.items()) \
            if types else ", ".join(m.text(lang, f"question_type_{k}") for k in QUESTION_TYPES)
        count = sum(types.values()) if types else self.count
        language = language_in(self.language, lang) if self.language else self.language
        lines = [line("summary_question_types", shown),
                 line("summary_questions", format_count(count) if count is not None else "?"),
                 line("summary_questions_language", language or "?"),
                 line("summary_format", _format_name(self.format or DEFAULT_FORMAT, lang))]
        if self.instructions:
            lines.append(line("summary_instructions", self.instructions))
        return lines

    def _labels_text(self, lang: str) -> str:
        labels = list(self.labels or [])
        if not labels:
            return ""
        if self.label_counts and counts_complete(self.label_counts, labels):
            return ", ".join(f"{label} {format_count(self.label_counts[label])}" for label in labels)
        if self.label_shares:
            shown = []
            for label in labels:
                share = self.label_shares.get(label)
                shown.append(f"{label} {share * 100:g}%" if share is not None else label)
            return ", ".join(shown)
        if self.count is not None and len(labels) >= 2 and not self._too_few_for_labels():
            return f"{', '.join(labels)} ({m.text(lang, 'summary_equal')})"
        return ", ".join(labels)


def _tone_name(tone: str, lang: str) -> str:
    """A known tone in the user's language ("very formal" -> "bardzo formalny"); a free tone as written."""
    very = tone.startswith("very ")
    base = tone.removeprefix("very ")
    key = f"tone_{base}"
    if key not in m.TEXTS:
        return tone
    name = m.text(lang, key)
    return m.text(lang, "tone_very", tone=name) if very else name


def _format_name(fmt: OutputFormat, lang: str) -> str:
    return m.text(lang, "summary_format_openai_jsonl") if fmt == OutputFormat.openai_jsonl else fmt.value.upper()


def counts_complete(counts: dict[str, int] | None, labels: list[str] | None) -> bool:
    return bool(counts) and bool(labels) and all(label in counts for label in labels or [])



_FIELD_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(name: str) -> TypeAdapter[Any]:
    if name not in _FIELD_ADAPTERS:
        _FIELD_ADAPTERS[name] = TypeAdapter(SpecDraft.model_fields[name].annotation)
    return _FIELD_ADAPTERS[name]


def clean_changes(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep the changes that are valid SpecDraft values (anything else is dropped, never raised)."""
    clean: dict[str, Any] = {}
    if not isinstance(raw, dict):
        return clean
    for name, value in raw.items():
        if name not in SpecDraft.model_fields or value is None:
            continue
        try:
            value = _adapter(name).validate_python(value)
        except (ValidationError, TypeError, ValueError):
            continue
        if name == "count" and (isinstance(value, bool) or value < 0):
            continue
        if name == "labels":
            value = distinct_labels(value)
            if not value:
                continue
        if name == "label_counts":
            value = {str(k).strip(): int(v) for k, v in value.items() if str(k).strip() and v >= 0}
            if not value:
                continue
        if name == "label_shares":
            shares = {}
            for key, share in value.items():
                if not str(key).strip() or not math.isfinite(share) or share < 0:
                    continue
                shares[str(key).strip()] = share / 100 if 1 < share <= 100 else share
            value = {k: v for k, v in shares.items() if v <= 1}
            if not value:
                continue
        if name in ("topic", "language", "tone", "instructions"):
            value = value.strip()
            if name != "topic" and not value:
                continue
        clean[name] = value
    return clean


