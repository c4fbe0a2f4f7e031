"""Classify given rows by id: the one act behind annotation ("label my rows") and label verification.

    classifier = Classifier(llm, batch_size=20, concurrency=16, samples=2)
    result = await classifier.classify_batch(items, task)      # one batch; result.verdicts[id]

- Several rows per request, shuffled, each shown with a short id; the answer names the id of
  every row it labels, so a model that skips or repeats a row can never shift labels onto the
  neighbouring rows.
- Structured output (a JSON schema whose `id` and `label` are enums of the request's ids and
  the allowed labels) where the server supports it; the line template `<id>: <label>` otherwise
  (same fallback as the engine: a 400 on json_schema, or answers that are not JSON).
- An answer that skips ids, repeats an id with two labels, invents ids or uses a label that is
  not allowed is re-asked for just the rows still open (up to `max_rounds` requests).
- `samples=2`: the rows are asked a second time in another order and at a higher temperature;
  rows whose two answers differ get `confidence="low"` (the first answer is kept).
- Retries of transient errors are the backend's own (core/llm.py); what is left raises LLMError.

The wording "Classify each row" and "Allowed labels: [...]" is relied on by the fake server in
tests/fakes/openai_server.py; keep them in sync.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.llm import LLMBackend, SchemaNotSupported, Usage

#: Rows longer than this are cut in the prompt (the label rarely depends on the 3,000th character).
MAX_ROW_CHARS = 1500
#: Structured answers in a row that are not JSON at all: the server ignores json_schema -> template.
MAX_PARSE_FAILURES = 3
HIGH, LOW = "high", "low"

_TEMPLATE_LINE = re.compile(r"^\s*[\[(#]?\s*(?:id\s*[:=]?\s*)?([A-Za-z0-9_-]{1,12})\s*[\])]?\s*[:=|>\-–—]+\s*(.+?)\s*$",
                            re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?")


@dataclass(frozen=True)
class ClassifyTask:
    """What to classify by: the allowed labels, an optional one-line description of each, what
    the rows are, and few-shot examples (e.g. a user's corrections of a preview)."""

    labels: tuple[str, ...]
    instructions: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)
    examples: tuple[tuple[str, str], ...] = ()  # (text, label)
    #: What one row is, in the prompt: "row", "multiple-choice question" (the judge answers it).
    noun: str = "row"
    #: Longer rows are cut in the prompt (document questions carry their passages: never cut).
    max_chars: int = MAX_ROW_CHARS


@dataclass(frozen=True)
class Item:
    id: str
    text: str


@dataclass
class Verdict:
    label: str
    confidence: str = ""  # "high" / "low" with two samples; "" with one
    other: str | None = None  # the second answer, when it differed


@dataclass
class BatchResult:
    verdicts: dict[str, Verdict]
    unresolved: list[str]  # ids no answer labeled within max_rounds
    usage: Usage = field(default_factory=Usage)
    requests: int = 0


def one_line(text: str, limit: int = MAX_ROW_CHARS) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def match_label(value: Any, labels: Sequence[str]) -> str | None:
    """The allowed label a model's answer names: exact, else case- and punctuation-insensitive."""
    if not isinstance(value, str):
        return None
    if value in labels:
        return value
    wanted = value.strip().strip("\"'`.*[]()").strip().lower()
    for label in labels:
        if label.lower() == wanted:
            return label
    return None


class Classifier:
    def __init__(
        self,
        llm: LLMBackend,
        *,
        batch_size: int = 20,
        concurrency: int = 16,
        samples: int = 1,
        max_rounds: int = 4,
        seed: int | None = None,
        before_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.llm = llm
        self.before_request = before_request  # e.g. an annotation run's lease check (core/job_lease.py)
        self.batch_size = max(1, batch_size)
        self.samples = 2 if samples >= 2 else 1
        self.max_rounds = max(1, max_rounds)
        self.structured = True
        self.usage = Usage()  # over every request of this classifier
        self.requests = 0
        self._parse_failures = 0
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._rng = random.Random(seed)

    async def classify(self, items: Sequence[Item], task: ClassifyTask) -> BatchResult:
        """All items, in batches of `batch_size`, concurrently (at most `concurrency` requests)."""
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        results = await asyncio.gather(*(self.classify_batch(batch, task) for batch in batches))
        total = BatchResult({}, [])
        for result in results:
            total.verdicts.update(result.verdicts)
            total.unresolved += result.unresolved
            total.usage.prompt_tokens += result.usage.prompt_tokens
            total.usage.completion_tokens += result.usage.completion_tokens
            total.requests += result.requests
        return total

    async def classify_batch(self, items: Sequence[Item], task: ClassifyTask) -> BatchResult:
        """One batch (ids unique): the first sample, then the second one for confidence."""
        result = BatchResult({}, [])
        first = await self._sample(items, task, result, temperature=0.0)
        if self.samples == 1:
            result.verdicts = {item_id: Verdict(label) for item_id, label in first.items()}
        else:
            labeled = [item for item in items if item.id in first]
            second = await self._sample(labeled, task, result, temperature=1.0)
            for item_id, label in first.items():
                other = second.get(item_id)
                # A row the second sample could not label is not confirmed either: low.
                agree = other == label
                result.verdicts[item_id] = Verdict(label, HIGH if agree else LOW, None if agree else other)
        result.unresolved = [item.id for item in items if item.id not in result.verdicts]
        return result

    # --- one sample: ask, re-ask for what is missing ------------------------------------------

    async def _sample(self, items: Sequence[Item], task: ClassifyTask, result: BatchResult,
                      *, temperature: float) -> dict[str, str]:
        answers: dict[str, str] = {}
        open_items = list(items)
        rounds = 0
        while open_items and rounds < self.max_rounds:
            answered = await self._ask(open_items, task, result, temperature)
            if answered is None:  # the server refused json_schema: ask again with the template, free
                continue
            rounds += 1
            answers.update(answered)
            open_items = [item for item in open_items if item.id not in answers]
        return answers

    async def _ask(self, items: Sequence[Item], task: ClassifyTask, result: BatchResult,
                   temperature: float) -> dict[str, str] | None:
        """One request for `items`: their labels by the caller's ids (only ids answered once,
        or repeated with the same label, and only allowed labels); None when the server refused
        the JSON schema (from then on this classifier uses the line template)."""
        shown = list(items)
        self._rng.shuffle(shown)
        local = {str(n): item.id for n, item in enumerate(shown, 1)}  # short ids: fewer tokens, no look-alikes
        structured = self.structured
        messages = render_messages(shown, task, structured=structured)
        schema = answer_schema(list(local), task.labels) if structured else None
        if self.before_request is not None:
            await self.before_request()
        async with self._semaphore:
            try:
                completion = await self.llm.complete(messages, schema=schema, max_tokens=40 + 16 * len(shown),
                                                     temperature=temperature)
            except SchemaNotSupported:
                if not structured:  # cannot happen without a schema; never loop on it
                    return {}
                self.structured = False
                return None
        result.requests += 1
        self.requests += 1
        for usage in (result.usage, self.usage):
            usage.prompt_tokens += completion.usage.prompt_tokens
            usage.completion_tokens += completion.usage.completion_tokens
        pairs = parse_answer(completion.text, structured=structured)
        if pairs is None:
            self._parse_failures += 1
            if structured and self._parse_failures >= MAX_PARSE_FAILURES:
                self.structured = False  # accepted json_schema but answers prose: it ignores the schema
            return {}
        self._parse_failures = 0
        return resolve(pairs, local, task.labels)


# --- prompt, schema, parsing ---------------------------------------------------------------------


def render_messages(items: Sequence[Item], task: ClassifyTask, *, structured: bool) -> list[dict[str, str]]:
    labels = list(task.labels)
    lines = [f"Classify each {task.noun} below. Allowed labels: {json.dumps(labels, ensure_ascii=False)}."]
    if task.instructions:
        lines.append(f"Task: {one_line(task.instructions, 600)}")
    described = [(label, task.descriptions[label]) for label in labels if task.descriptions.get(label)]
    if described:
        lines.append("What the labels mean:")
        lines += [f"- {label}: {one_line(text, 200)}" for label, text in described]
    if task.examples:
        lines.append("Correctly labeled examples:")
        lines += [f"- {one_line(text, 300)} => {label}" for text, label in task.examples[:8]]
    lines.append(f"Each {task.noun} starts with its id in square brackets. Label every id exactly once, "
                 "judging each row on its own.")
    if structured:
        lines.append('Answer JSON: {"labels": [{"id": "<id>", "label": "<label>"}, ...]}.')
    else:
        lines.append("Answer with one line per row, in the form `<id>: <label>`, and nothing else.")
    lines.append("")
    lines += [f"[{n}] {one_line(item.text, task.max_chars)}" for n, item in enumerate(items, 1)]
    system = ("You are a careful annotator. You assign exactly one of the allowed labels to each row "
              "and follow the requested answer format exactly.")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def answer_schema(ids: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    row = {"type": "object",
           "properties": {"id": {"type": "string", "enum": list(ids)},
                          "label": {"type": "string", "enum": list(labels)}},
           "required": ["id", "label"], "additionalProperties": False}
    return {"title": "row_labels", "type": "object",
            "properties": {"labels": {"type": "array", "items": row}},
            "required": ["labels"], "additionalProperties": False}


def parse_answer(text: str, *, structured: bool) -> list[tuple[str, Any]] | None:
    """(id, label) pairs in answer order; None when the answer holds none at all."""
    pairs: list[tuple[str, Any]] = []
    stripped = _FENCE.sub("", text).strip()
    try:
        data = json.loads(stripped) if stripped[:1] in "[{" else None
    except json.JSONDecodeError:
        data = None
    if data is not None:
        rows = data.get("labels", next((v for v in data.values() if isinstance(v, list)), [])) \
            if isinstance(data, dict) else data
        if isinstance(rows, dict):  # {"1": "positive", ...}
            rows = [{"id": k, "label": v} for k, v in rows.items()]
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and "id" in row:
                pairs.append((str(row["id"]).strip().strip("[]#"), row.get("label")))
    else:
        for line in stripped.splitlines():
            match = _TEMPLATE_LINE.match(line)
            if match:
                pairs.append((match.group(1), match.group(2)))
    return pairs or None


def resolve(pairs: Sequence[tuple[str, Any]], local: dict[str, str], labels: Sequence[str]) -> dict[str, str]:
    """Caller id -> label. Invented ids and labels that are not allowed are ignored; an id
    answered twice with different labels is left open (asked again): which one was meant?"""
    seen: dict[str, str | None] = {}
    for local_id, value in pairs:
        if local_id not in local:
            continue
        label = match_label(value, labels)
        if local_id in seen and seen[local_id] != label:
            seen[local_id] = None
        elif local_id not in seen:
            seen[local_id] = label
    return {local[local_id]: label for local_id, label in seen.items() if label is not None}
