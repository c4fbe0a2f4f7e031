"""DatasetSpec: one dataset order, validated. Loadable from YAML or JSON."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from core.documents.passages import QUESTION_TYPES, Passage
from core.rows.columns import Column, check_columns, stratified_column
from core.tasks import COLUMNS, RED_TEAM_CATEGORIES, TaskType  # here too: the names callers import from the spec

DEFAULT_MAX_COUNT = 10_000


class OutputFormat(str, Enum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    openai_jsonl = "openai_jsonl"  # OpenAI fine-tuning chat format
    xlsx = "xlsx"  # Excel workbook: what non-technical users open anyway


class SpecError(ValueError):
    """A spec that cannot be generated; the message is meant for the user, one line."""


def split_evenly(total: int, labels: list[str]) -> dict[str, int]:
    """Equal classes; the remainder goes to the first labels (deterministic)."""
    base, extra = divmod(total, len(labels))
    return {label: base + (1 if i < extra else 0) for i, label in enumerate(labels)}


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    task: TaskType = TaskType.classification
    topic: str = ""
    labels: list[str] = Field(default_factory=list)
    label_counts: dict[str, int] | None = None
    count: int | None = None
    language: str = "English"
    tone: str = ""
    format: OutputFormat = OutputFormat.csv
    instructions: str = ""
    # The general row model (core.rows); None keeps older specs and their JSON unchanged.
    # task custom: the dataset's columns; `columns:` in files (`spec.columns` is the names tuple).
    custom_columns: list[Column] | None = Field(default=None, alias="columns")
    entity_types: list[str] | None = None  # task entities: PERSON, ORG, ... or slot names
    empty_share: float | None = None  # task entities: at most this share of rows without any entity
    target_language: str | None = None  # task translation: the target's language (None: same = paraphrase)
    noise_share: float | None = None  # any text dataset: exactly this share of rows messy (`noise` column)
    # task documents: the documents' passages, stored with the job so it resumes without the files
    # (`datagen generate --documents DIR` or an upload fills them; a spec file does not list them).
    passages: list[Passage] | None = None

    @model_validator(mode="before")
    @classmethod
    def _columns_mean_custom(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("columns", data.get("custom_columns")) is not None \
                and "task" not in data:
            return {**data, "task": TaskType.custom}
        return data

    @field_validator("labels")
    @classmethod
    def _clean_labels(cls, labels: list[str]) -> list[str]:
        cleaned = [str(label).strip() for label in labels]
        if any(not label for label in cleaned):
            raise ValueError("labels must not be empty strings")
        lowered = [label.lower() for label in cleaned]
        if len(set(lowered)) != len(lowered):
            raise ValueError(f"labels must be distinct, got {cleaned}")
        return cleaned

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> "DatasetSpec":
        max_count = (info.context or {}).get("max_count", DEFAULT_MAX_COUNT)
        self._check_row_model_fields()
        if self.stratified:
            if self.label_counts is not None and not self.labels:
                self.labels = [str(k).strip() for k in self.label_counts]
            if self.task == TaskType.red_team and not self.labels:
                self.labels = list(RED_TEAM_CATEGORIES)
            if self.task == TaskType.documents:
                self._question_types()
            if self.task == TaskType.custom:
                self._labels_from_column()
            if len(self.labels) < 2:
                raise ValueError(f"{self.task.value} needs at least 2 distinct labels")
            if self.label_counts is not None:
                counts = {str(k).strip(): v for k, v in self.label_counts.items()}
                if set(counts) != set(self.labels):
                    raise ValueError(
                        f"label_counts keys {sorted(counts)} must be exactly the labels {sorted(self.labels)}"
                    )
                if any(v < 0 for v in counts.values()):
                    raise ValueError("label_counts must be 0 or more")
                total = sum(counts.values())
                if self.count is None:
                    self.count = total
                elif total != self.count:
                    raise ValueError(f"label_counts add up to {total}, but count is {self.count}")
                self.label_counts = {label: counts[label] for label in self.labels}
            elif self.count is not None:
                self.label_counts = split_evenly(self.count, self.labels)
        else:
            if self.labels or self.label_counts:
                raise ValueError(f"{self.task.value} takes no labels")
        if self.count is None:
            raise ValueError("count is required (how many examples?)")
        if not 1 <= self.count <= max_count:
            raise ValueError(f"count must be between 1 and {max_count:,}, got {self.count:,}")
        return self

    def _question_types(self) -> None:
        """Documents: the question types are the labels (all three unless label_counts names some)."""
        if not self.labels:
            self.labels = [str(k).strip() for k in self.label_counts] if self.label_counts else list(QUESTION_TYPES)
        unknown = [label for label in self.labels if label not in QUESTION_TYPES]
        if unknown:
            raise ValueError(f"question types must be among {list(QUESTION_TYPES)}, got {unknown}")
        if len(self.labels) < 2:  # one type only: the others ordered as 0 (a stratified column has 2+ values)
            counts = dict(self.label_counts or {self.labels[0]: self.count or 0})
            self.labels = list(QUESTION_TYPES)
            self.label_counts = {label: counts.get(label, 0) for label in QUESTION_TYPES}

    def _labels_from_column(self) -> None:
        column = stratified_column(self.custom_columns or [])
        assert column is not None
        values = list(column.values)
        if self.labels and sorted(v.casefold() for v in self.labels) != sorted(v.casefold() for v in values):
            raise ValueError(f"labels {self.labels} must be the values of the stratified column {column.name!r}")
        self.labels = values

    def _check_row_model_fields(self) -> None:
        task = self.task
        if self.custom_columns is not None:
            if task != TaskType.custom:
                raise ValueError(f"{task.value} has its own columns; use task custom for columns")
            check_columns(self.custom_columns)
        elif task == TaskType.custom:
            raise ValueError("custom needs columns (a list of name, type, description)")
        if task == TaskType.entities:
            types = [str(t).strip() for t in self.entity_types or []]
            if not types or any(not t for t in types):
                raise ValueError("entities needs entity_types (e.g. [PERSON, ORG, DATE])")
            if len({t.casefold() for t in types}) != len(types):
                raise ValueError(f"entity_types must be distinct, got {types}")
            self.entity_types = types
        elif self.entity_types is not None or self.empty_share is not None:
            raise ValueError(f"{task.value} takes no entity_types or empty_share")
        if self.passages is not None and task != TaskType.documents:
            raise ValueError(f"{task.value} takes no passages")
        if self.empty_share is not None and not 0 <= self.empty_share <= 1:
            raise ValueError("empty_share must be between 0 and 1")
        if self.target_language is not None and task != TaskType.translation:
            raise ValueError(f"{task.value} takes no target_language")
        if self.noise_share is not None:
            if not 0 < self.noise_share <= 1:
                raise ValueError("noise_share must be more than 0 and at most 1 (0.2 = 20% of the rows messy)")
            if task in (TaskType.multiple_choice, TaskType.documents):
                raise ValueError(f"{task.value} takes no noise_share (messy rows are for text datasets)")
            if self.custom_columns is not None and any(column.name == "noise" for column in self.custom_columns):
                raise ValueError("with noise_share, the column name 'noise' is taken by the noise kind")

    # --- derived -------------------------------------------------------------------------

    @property
    def stratified(self) -> bool:
        """Whether one column has exact per-value counts (the labels and label_counts)."""
        if self.task in (TaskType.classification, TaskType.red_team, TaskType.documents):
            return True
        if self.task == TaskType.simulated_users:
            return bool(self.labels or self.label_counts)
        if self.task == TaskType.custom:
            return stratified_column(self.custom_columns or []) is not None
        return False

    @property
    def columns(self) -> tuple[str, ...]:
        """The dataset's columns, in the file's order (DESIGN.md's contract for the first three tasks)."""
        if self.task in COLUMNS and self.noise_share is None:
            return COLUMNS[self.task]
        from core.rows.presets import row_model  # lazy: the row model is only needed for these tasks

        return row_model(self).names

    def quotas(self) -> dict[str, int]:
        """Rows to produce per label; tasks without labels use one bucket named ''."""
        if self.stratified:
            assert self.label_counts is not None
            return dict(self.label_counts)
        return {"": int(self.count or 0)}

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_data(cls, data: Any, *, max_count: int = DEFAULT_MAX_COUNT) -> "DatasetSpec":
        """Validate, turning pydantic's report into one readable SpecError."""
        try:
            return cls.model_validate(data, context={"max_count": max_count})
        except ValidationError as exc:
            raise SpecError(describe_validation_error(exc)) from None

    @classmethod
    def load(cls, path: str | Path, *, max_count: int = DEFAULT_MAX_COUNT) -> "DatasetSpec":
        """Read a spec from a .yaml/.yml/.json file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"spec file not found: {path}") from None
        except UnicodeDecodeError:
            raise SpecError(f"spec file is not UTF-8 text: {path}") from None
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise SpecError(f"cannot parse {path.name}: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise SpecError(f"{path.name} must hold a mapping of spec fields (task, labels, count, ...)")
        return cls.from_data(data, max_count=max_count)


def stored_spec(spec_json: str) -> DatasetSpec:
    """The spec of a stored job (Job.spec_json). It was validated when the job was created, with
    the max_count of that day: a later, lower DATAGEN_MAX_COUNT must not block resuming or
    exporting it, so the count limit is not applied again."""
    return DatasetSpec.model_validate_json(spec_json, context={"max_count": _NO_COUNT_LIMIT})


_NO_COUNT_LIMIT = 2**63 - 1  # "no limit" for stored_spec: any count a database can hold


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
