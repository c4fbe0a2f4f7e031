"""What the engine asks about rows, for any spec: validate one, its dedupe text, its quota label,
what a request pins (the stratified value, the messy kind), and the exact shares beyond the
label quotas (messy rows, rows without entities).

For classification, multiple choice and Q&A without messy rows every answer is the one the
engine always gave (core.quality's validate_row and row_text), so their jobs run as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.documents.passages import Coverage
from core.language import REASON as LANGUAGE_REASON
from core.prompts import max_tokens_for
from core.quality import row_text, validate_row
from core.rows.columns import ColumnType
from core.rows.model import Row
from core.rows.noise import CLEAN, NOISE_COLUMN, kind_for_batch, kinds_for, messy_total
from core.rows.language import warm_up
from core.rows.presets import DEFAULT_EMPTY_SHARE, in_wrong_language, row_model, target_language, validate
from core.spec import COLUMNS, DatasetSpec, TaskType

#: Questions per request about the same passage(s): few, so the requests (and the passages they
#: show) spread over the documents (core.documents.passages.Coverage).
QUESTIONS_PER_REQUEST = 2

#: Rejection reason for an entity row without entities once their share is used up (neutral,
#: like "over quota": the row was fine, the order had enough of its kind).
NO_ENTITIES_FULL = "over quota (no entities)"


def is_neutral(reason: str | None) -> bool:
    """A rejection that says nothing about the model's quality: the row was fine, its kind was full."""
    return bool(reason) and reason.startswith("over quota")  # type: ignore[union-attr]


def is_legacy(spec: DatasetSpec) -> bool:
    """The first three tasks as they always were (no messy rows): the old code paths answer."""
    return spec.task in COLUMNS and spec.noise_share is None


@dataclass
class RowRules:
    spec: DatasetSpec
    messy_quota: int | None = None  # exactly this many messy rows (None: no `noise` column)
    empty_cap: int | None = None  # at most this many rows without entities
    messy: int = 0
    clean: int = 0
    empty: int = 0
    in_flight: dict[str, int] = field(default_factory=lambda: {"messy": 0, "clean": 0})
    coverage: Coverage | None = None  # task documents: which passages each request shows

    @classmethod
    def for_spec(cls, spec: DatasetSpec) -> "RowRules":
        count = int(spec.count or 0)
        rules = cls(spec)
        if spec.noise_share is not None:
            rules.messy_quota = messy_total(spec.noise_share, count)
        if spec.task == TaskType.entities:
            share = spec.empty_share if spec.empty_share is not None else DEFAULT_EMPTY_SHARE
            rules.empty_cap = math.floor(share * count)
        if spec.task == TaskType.documents:
            if not spec.passages:
                raise ValueError("a documents job needs the documents' passages (datagen generate --documents DIR)")
            rules.coverage = Coverage(spec.passages)
        if spec.task == TaskType.translation:  # called from the engine's worker thread (Generator._load)
            warm_up(target_language(spec), (spec.language,))
        return rules

    @property
    def legacy(self) -> bool:
        return is_legacy(self.spec)

    @property
    def legacy_prompt(self) -> bool:
        """The old tasks keep their own prompt wording (messy rows add one line to it)."""
        return self.spec.task in COLUMNS

    # --- one row ----------------------------------------------------------------------------

    def validate(self, raw: Any, pins: Mapping[str, str] | None = None, *,
                 language: str | None = None) -> tuple[Row | None, str | None]:
        """`language`: the old tasks' main text must be in it (core.language), and the texts a
        row-model preset names (documents: question and answer); translation checks its own target."""
        spec = self.spec
        if self.legacy:
            clean, reason = validate_row(spec.task, raw, list(spec.labels), language=language)
            return (dict(clean) if clean is not None else None), reason
        if pins and NOISE_COLUMN in pins and isinstance(raw, dict) and NOISE_COLUMN not in raw:
            # The line template of the old tasks has no `noise` line: the request said which kind.
            raw = {**raw, NOISE_COLUMN: pins[NOISE_COLUMN]}
        clean, reason = validate(spec, raw)
        if clean is not None and in_wrong_language(spec, clean, language):
            return None, LANGUAGE_REASON
        return clean, reason

    def text_of(self, fields: Mapping[str, Any]) -> str:
        if self.legacy:
            return row_text(self.spec.task, fields)
        return row_model(self.spec).text_of(fields)

    def label_of(self, fields: Mapping[str, Any]) -> str:
        if self.legacy:
            return str(fields.get("label", "")) if self.spec.task == TaskType.classification else ""
        return row_model(self.spec).label_of(fields)

    def fill(self, raws: list[Any], pins: Mapping[str, str]) -> list[Any]:
        """The given columns of a request's rows (documents: the passages it showed, as context and
        source), whatever the model wrote in them."""
        if self.coverage is None or "passages" not in pins:
            return raws
        context, source = self.coverage.context([int(i) for i in pins["passages"].split(",")])
        return [{**raw, "context": context, "source": source} if isinstance(raw, dict) else raw for raw in raws]

    # --- shares beyond the label quotas -----------------------------------------------------

    def _bucket(self, fields: Mapping[str, Any]) -> str:
        return "clean" if fields.get(NOISE_COLUMN, CLEAN) == CLEAN else "messy"

    def _open(self, bucket: str) -> int:
        assert self.messy_quota is not None
        if bucket == "messy":
            return self.messy_quota - self.messy
        return int(self.spec.count or 0) - self.messy_quota - self.clean

    def admit(self, fields: Mapping[str, Any]) -> str | None:
        """Why a valid row can't be taken although its label's quota is open, else None."""
        if self.messy_quota is not None and self._open(self._bucket(fields)) <= 0:
            return "over quota"
        if self.empty_cap is not None and not fields.get("entities") and self.empty >= self.empty_cap:
            return NO_ENTITIES_FULL
        return None

    def count(self, fields: Mapping[str, Any]) -> None:
        """An accepted row (also a stored one, when a job resumes)."""
        if self.messy_quota is not None:
            if self._bucket(fields) == "messy":
                self.messy += 1
            else:
                self.clean += 1
        if self.empty_cap is not None and not fields.get("entities"):
            self.empty += 1

    # --- requests ---------------------------------------------------------------------------

    def max_tokens(self, count: int) -> int:
        """A generous cap on one answer: the old tasks' own, else by the columns a row has."""
        if self.spec.task in COLUMNS:
            return max_tokens_for(self.spec.task, count)
        per_row = sum(150 if c.type in (ColumnType.text, ColumnType.spans) else 30 for c in row_model(self.spec).columns)
        return 200 + per_row * count

    def plan(self, label: str, count: int, batch_index: int) -> tuple[dict[str, str], int]:
        """What a request for `count` rows of `label` pins, and how many rows it asks for."""
        pins: dict[str, str] = {}
        model_label = None if self.legacy else row_model(self.spec).stratified
        if model_label is not None and label:
            pins[model_label.name] = label
        if self.coverage is not None:
            count = min(count, QUESTIONS_PER_REQUEST)
            shown = self.coverage.pick(batch_index, 2 if label == "reasoning" else 1)
            pins["passages"] = ",".join(map(str, shown))
        if self.messy_quota is not None:
            gaps = {bucket: self._open(bucket) - self.in_flight[bucket] for bucket in ("messy", "clean")}
            bucket = max(gaps, key=lambda b: (gaps[b], b == "messy"))
            count = max(1, min(count, gaps[bucket])) if gaps[bucket] > 0 else count
            if bucket == "messy":  # one kind per request: small requests, so every kind gets its turn
                count = min(count, max(1, math.ceil(self.messy_quota / len(kinds_for(self.spec.language)))))
            pins[NOISE_COLUMN] = CLEAN if bucket == "clean" else kind_for_batch(self.spec.language, batch_index)
            self.in_flight[bucket] += count
        return pins, count

    def done(self, pins: Mapping[str, str], count: int) -> None:
        """A request planned with `plan` is answered (or failed)."""
        if NOISE_COLUMN in pins:
            self.in_flight["clean" if pins[NOISE_COLUMN] == CLEAN else "messy"] -= count
