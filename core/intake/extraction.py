"""LLM extraction: one structured call reads what the rules did not; the rules win where both speak.

The answer's shape is the pydantic model `ExtractedOrder`: its JSON schema is what the model is
constrained to, and `model_validate_json` reads the answer; a field that is malformed becomes
None on its own instead of spoiling the others.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

from core.concurrency import urgent
from core.intake.draft import SpecDraft
from core.intake.interpret import Interpretation
from core.intake.labels import MAX_LABELS, canonical_label, distinct_labels
from core.intake.languages import language_name
from core.intake.numbers import clamp
from core.llm import LLMBackend
from core.spec import TaskType

log = logging.getLogger(__name__)


def merge_llm(interp: Interpretation, extracted: dict[str, Any]) -> Interpretation:
    """The rules' interpretation plus what the LLM read, rules winning where both speak."""
    changes = dict(extracted)
    ruled = set(interp.changes)
    if ruled & {"labels", "label_counts", "label_shares"} or interp.add_labels or interp.remove_labels:
        ruled |= {"labels"}
    if ruled & {"label_counts"}:
        ruled |= {"count"}
    for name in ruled | interp.refused:  # what the rules refused ("-10") the LLM may not set either
        changes.pop(name, None)
    changes.update(interp.changes)
    return dataclasses.replace(
        interp, changes=changes, add_labels=list(interp.add_labels), remove_labels=list(interp.remove_labels)
    )


# --- the answer's model ------------------------------------------------------------------------


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


#: A field the model got wrong is dropped alone ("count": "many" loses the count, not the topic).
_Lenient = WrapValidator(_none_if_invalid)


class ExtractedOrder(BaseModel):
    """What the LLM reads from one message; every field null when the message does not say it."""

    model_config = ConfigDict(
        title="dataset_order",
        extra="ignore",
        json_schema_extra={"additionalProperties": False},
        json_schema_serialization_defaults_required=True,  # strict structured output: every key required
    )

    task: Annotated[Literal["classification", "multiple_choice", "qa"] | None, _Lenient] = None
    topic: Annotated[str | None, _Lenient] = None
    labels: Annotated[list[str] | None, _Lenient] = None
    count: Annotated[int | None, Field(strict=True), _Lenient] = None  # strict: true and 12.5 are not counts
    language: Annotated[str | None, _Lenient] = None
    tone: Annotated[str | None, _Lenient] = None
    instructions: Annotated[str | None, _Lenient] = None

    def to_changes(self) -> dict[str, Any]:
        """The usable fields as draft changes: sentiment labels in English, language as an English name."""
        out: dict[str, Any] = {}
        if self.task is not None:
            out["task"] = TaskType(self.task)
        for name, limit in (("topic", 200), ("tone", 60), ("instructions", 1000)):
            value = (getattr(self, name) or "").strip()
            if value and len(value) <= limit:
                out[name] = value
        if self.labels is not None:
            cleaned = distinct_labels(canonical_label(x) for x in self.labels if 0 < len(x.strip()) <= 60)
            if 2 <= len(cleaned) <= MAX_LABELS:
                out["labels"] = cleaned
        if self.count is not None and self.count >= 1:
            out["count"] = clamp(self.count)
        language = (self.language or "").strip()
        if 2 <= len(language) <= 40:
            out["language"] = language_name(language) or language.capitalize()
        return out


class _PlainSchema(GenerateJsonSchema):
    """The plainest JSON schema of the model: no titles or null defaults per field (strict structured
    output rejects or ignores them), and `X | None` as `"type": [X, "null"]` rather than `anyOf`, the
    form every backend (OpenAI strict mode, llama.cpp's grammar, the test fake) reads as "null allowed"."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: CoreSchema) -> dict[str, Any]:  # type: ignore[override]
        return self.generate_inner(schema["schema"])  # type: ignore[typeddict-item]

    def nullable_schema(self, schema: CoreSchema) -> dict[str, Any]:  # type: ignore[override]
        inner = self.generate_inner(schema["schema"])  # type: ignore[typeddict-item]
        if isinstance(inner.get("type"), str) and set(inner) <= {"type", "enum", "items"}:
            plain = {**inner, "type": [inner["type"], "null"]}
            if "enum" in plain:
                plain["enum"] = [*plain["enum"], None]
            return plain
        return super().nullable_schema(schema)  # type: ignore[arg-type]


EXTRACTION_SCHEMA: dict[str, Any] = ExtractedOrder.model_json_schema(mode="serialization", schema_generator=_PlainSchema)

_EXTRACTION_PROMPT = """You read one chat message in which a user orders a synthetic dataset (or changes an order).
Return a JSON object with exactly these keys; use null for everything the message does not say:
- task: "classification" (texts with a label each), "multiple_choice" (quiz questions with 4 options), "qa" (question and answer pairs)
- topic: the subject or domain of the examples, short (e.g. "restaurant reviews", "the French Revolution")
- labels: the class labels for classification, as short words (English for positive/negative/neutral)
- count: the total number of examples
- language: the language the examples must be written in, as an English name (e.g. "Polish"), only if the user says it
- tone: the writing tone or style (e.g. "formal", "sarcastic")
- instructions: other requirements for the examples (length, content, things to avoid), one short sentence
Do not guess; null is always fine."""


async def extract_with_llm(llm: LLMBackend, text: str, draft: SpecDraft) -> dict[str, Any]:
    """One structured call; the fields the model filled, cleaned. Never raises ({} on any problem)."""
    try:
        messages = [
            {"role": "system", "content": _EXTRACTION_PROMPT},
            {"role": "user", "content": f"Current order:\n{draft.summary('en')}\n\nMessage:\n{str(text)[:4000]}"},
        ]
        with urgent():  # the user waits for this answer; generation requests can wait a moment
            completion = await llm.complete(messages, schema=EXTRACTION_SCHEMA, max_tokens=400, temperature=0.0)
        extracted = read_extraction(completion.text)
        return extracted.to_changes() if extracted is not None else {}
    except Exception as exc:  # extraction is a bonus on top of the rules: any failure means "nothing more"
        log.warning("LLM extraction failed: %s", exc)
        return {}


def read_extraction(answer: str) -> ExtractedOrder | None:
    """The model's answer as an ExtractedOrder; code fences and chatter around the object tolerated."""
    answer = answer.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", answer, re.S)
    if fenced:
        answer = fenced.group(1).strip()
    start, end = answer.find("{"), answer.rfind("}")
    candidates = [answer] + ([answer[start:end + 1]] if 0 <= start < end else [])
    for candidate in candidates:
        try:
            return ExtractedOrder.model_validate_json(candidate)
        except ValidationError:
            continue
    return None
