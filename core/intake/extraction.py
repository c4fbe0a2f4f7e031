"""LLM extraction: one structured call reads what the rules did not; the rules win where both speak."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from core.intake.draft import SpecDraft
from core.intake.interpret import Interpretation
from core.intake.labels import canonical_label, distinct_labels
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
    for name in ruled:
        changes.pop(name, None)
    changes.update(interp.changes)
    return Interpretation(
        changes=changes, yes=interp.yes, language=interp.language, add_labels=list(interp.add_labels),
        remove_labels=list(interp.remove_labels), language_detected=interp.language_detected, each=interp.each,
    )



# --- LLM extraction --------------------------------------------------------------------------

EXTRACTION_SCHEMA: dict[str, Any] = {
    "title": "dataset_order",
    "type": "object",
    "properties": {
        "task": {"type": ["string", "null"], "enum": ["classification", "multiple_choice", "qa", None]},
        "topic": {"type": ["string", "null"]},
        "labels": {"type": ["array", "null"], "items": {"type": "string"}},
        "count": {"type": ["integer", "null"]},
        "language": {"type": ["string", "null"]},
        "tone": {"type": ["string", "null"]},
        "instructions": {"type": ["string", "null"]},
    },
    "required": ["task", "topic", "labels", "count", "language", "tone", "instructions"],
    "additionalProperties": False,
}

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
        completion = await llm.complete(messages, schema=EXTRACTION_SCHEMA, max_tokens=400, temperature=0.0)
        return clean_extraction(parse_json_object(completion.text))
    except Exception as exc:  # extraction is a bonus on top of the rules: any failure means "nothing more"
        log.warning("LLM extraction failed: %s", exc)
        return {}


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer (code fences and chatter around it tolerated)."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            return {}
        try:
            data = json.loads(text[start:end + 1])
        except json.JSONDecodeError:
            return {}
    return data if isinstance(data, dict) else {}


def clean_extraction(data: dict[str, Any]) -> dict[str, Any]:
    """Only well-formed, non-null fields; sentiment labels in English; language as an English name."""
    out: dict[str, Any] = {}
    task = data.get("task")
    if isinstance(task, str) and task in TaskType.__members__:
        out["task"] = TaskType(task)
    for name, limit in (("topic", 200), ("tone", 60), ("instructions", 1000)):
        value = data.get(name)
        if isinstance(value, str) and value.strip() and len(value.strip()) <= limit:
            out[name] = value.strip()
    labels = data.get("labels")
    if isinstance(labels, list) and all(isinstance(x, str) for x in labels):
        cleaned = distinct_labels(canonical_label(x) for x in labels if 0 < len(x.strip()) <= 60)
        if 2 <= len(cleaned) <= 50:
            out["labels"] = cleaned
    count = data.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        out["count"] = clamp(count)
    language = data.get("language")
    if isinstance(language, str) and 2 <= len(language.strip()) <= 40:
        out["language"] = language_name(language) or language.strip().capitalize()
    return out
