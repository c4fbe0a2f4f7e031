"""DatasetSpec: one dataset order, validated. Loadable from YAML or JSON."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

DEFAULT_MAX_COUNT = 10_000


class TaskType(str, Enum):
    classification = "classification"
    multiple_choice = "multiple_choice"
    qa = "qa"


class OutputFormat(str, Enum):
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    openai_jsonl = "openai_jsonl"  # OpenAI fine-tuning chat format
    xlsx = "xlsx"  # Excel workbook: what non-technical users open anyway


# The columns each task produces (DESIGN.md's public contract).
COLUMNS: dict[TaskType, tuple[str, ...]] = {
    TaskType.classification: ("text", "label"),
    TaskType.multiple_choice: ("question", "option_a", "option_b", "option_c", "option_d", "answer"),
    TaskType.qa: ("question", "answer"),
}


class SpecError(ValueError):
    """A spec that cannot be generated; the message is meant for the user, one line."""


def split_evenly(total: int, labels: list[str]) -> dict[str, int]:
    """Equal classes; the remainder goes to the first labels (deterministic)."""
    base, extra = divmod(total, len(labels))
    return {label: base + (1 if i < extra else 0) for i, label in enumerate(labels)}


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    task: TaskType = TaskType.classification
    topic: str = ""
    labels: list[str] = Field(default_factory=list)
    label_counts: dict[str, int] | None = None
    count: int | None = None
    language: str = "English"
    tone: str = ""
    format: OutputFormat = OutputFormat.csv
    instructions: str = ""

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
        if self.task == TaskType.classification:
            if self.label_counts is not None and not self.labels:
                self.labels = [str(k).strip() for k in self.label_counts]
            if len(self.labels) < 2:
                raise ValueError("classification needs at least 2 distinct labels")
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

    # --- derived -------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS[self.task]

    def quotas(self) -> dict[str, int]:
        """Rows to produce per label; tasks without labels use one bucket named ''."""
        if self.task == TaskType.classification:
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


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
