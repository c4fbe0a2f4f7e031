"""The order's own dimensions of variety ("attributes from the domain", after AttrPrompt, Yu et al. 2023).

Before a job's first batch the engine asks the model once, for this order, what its rows should
vary along: sub-topics, situations, personas and writing styles ("support tickets of an online shoe
shop" -> sub-topics "sizing", "returns", ...). Each generation request then gets a different
combination of them (one value of each dimension) instead of the generic lists in core.prompts.

    found = await ask(llm, spec)                     # DomainAttributes, or None when unusable
    found.hint(spec, batch_index)                    # "For this batch: sub-topic: ...; ..."
    found.sample(lang)                               # the line shown under the preview

The answer is a JSON schema (pydantic) for servers with structured output, a line template
(`subtopic: <...>`) for those without; an answer that does not give at least MIN_VALUES usable
values of every dimension falls back to the generic lists. The job stores what it got (or that
it fell back, `GENERIC`) so a resumed job varies along the same values without asking again.
The embedded model is never asked: a 135M model does not produce useful dimensions, and its one
request at a time makes every extra request slow (docs/engine.md).
"""

from __future__ import annotations

import json
import logging
import random
import re
from math import gcd, prod
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from core import messages
from core.llm import LLMBackend, LLMError, SchemaNotSupported, Usage
from core.prompts import LENGTHS, QUIZ_LEVELS
from core.spec import DatasetSpec, TaskType

log = logging.getLogger(__name__)

#: Values asked for per dimension, and the fewest that count as usable.
MAX_VALUES, MIN_VALUES = 8, 2
MAX_CHARS = 120
#: Stored for a job whose answer was unusable: a resume uses the generic lists too, without asking.
GENERIC = "generic"
#: The request's first words; tests find the request by them in the fake server's log.
MARKER = "List the dimensions along which"
DIMENSIONS = ("subtopics", "situations", "personas", "styles")


class DomainAttributes(BaseModel):
    subtopics: list[str] = Field(description="distinct sub-topics of the domain")
    situations: list[str] = Field(description="situations or circumstances a row can describe")
    personas: list[str] = Field(description="kinds of people who write or are quoted")
    styles: list[str] = Field(description="writing styles")

    def cleaned(self) -> "DomainAttributes | None":
        """Trimmed, deduplicated, at most MAX_VALUES each; None when a dimension has too few."""
        values: dict[str, list[str]] = {}
        for name in DIMENSIONS:
            seen: dict[str, str] = {}
            for value in getattr(self, name):
                text = " ".join(str(value).split()).strip(" .;,-*")
                if text and len(text) <= MAX_CHARS:
                    seen.setdefault(text.casefold(), text)
            values[name] = list(seen.values())[:MAX_VALUES]
            if len(values[name]) < MIN_VALUES:
                return None
        return DomainAttributes(**values)

    def combination(self, batch_index: int) -> dict[str, str]:
        """One value of each dimension; consecutive batches get different combinations until all
        are used (an affine permutation of the combinations, decoded in mixed radix)."""
        sizes = [len(getattr(self, name)) for name in DIMENSIONS]
        total = prod(sizes)
        step = next(n for n in range(total // 2 + 1, 2 * total + 2) if gcd(n, total) == 1)
        index = (step * batch_index) % total
        chosen = {}
        for name, size in zip(DIMENSIONS, sizes):
            index, digit = divmod(index, size)
            chosen[name] = getattr(self, name)[digit]
        return chosen

    def hint(self, spec: DatasetSpec, batch_index: int) -> str:
        """The batch's line in the prompt (replaces core.prompts.diversity_hint)."""
        pick = self.combination(batch_index)
        rng = random.Random(f"{spec.topic}|{batch_index}")
        if spec.task == TaskType.multiple_choice:
            return (f"For this batch: {rng.choice(QUIZ_LEVELS)} questions about {pick['subtopics']}; "
                    f"the case or situation: {pick['situations']}; question style: {pick['styles']}.")
        parts = [f"sub-topic: {pick['subtopics']}", f"situation: {pick['situations']}",
                 f"written by or about: {pick['personas']}", f"style: {pick['styles']}"]
        if spec.task == TaskType.classification:
            parts.append(f"length: {rng.choice(LENGTHS)}")
        return "For this batch: " + "; ".join(parts) + "."

    def sample(self, lang: str | None) -> str:
        """"What will vary between requests, e.g. ..." under the preview."""
        pick = self.combination(1)
        example = " · ".join(pick[name] for name in DIMENSIONS)
        counts = ", ".join(messages.text(lang, f"attributes_{name}", n=len(getattr(self, name))) for name in DIMENSIONS)
        return messages.text(lang, "attributes_sample", example=example, counts=counts)


def applies(spec: DatasetSpec) -> bool:
    """Orders whose rows are free text about a topic (documents' questions follow their passages)."""
    return spec.task != TaskType.documents


def _schema() -> dict[str, Any]:
    schema = DomainAttributes.model_json_schema()
    for name in DIMENSIONS:
        schema["properties"][name].update(minItems=MIN_VALUES + 1, maxItems=MAX_VALUES)
    schema["required"] = list(DIMENSIONS)
    schema["additionalProperties"] = False  # strict structured output
    return schema


def _prompt(spec: DatasetSpec, structured: bool) -> list[dict[str, str]]:
    about = "; ".join(part for part in (
        spec.topic and f"topic: {spec.topic}", spec.labels and f"labels: {', '.join(spec.labels)}",
        spec.instructions and f"instructions: {spec.instructions}") if part)
    lines = [
        f"{MARKER} a synthetic dataset for this order should vary, so that its rows cover the domain "
        f"instead of circling a few situations. Order: {spec.task.value.replace('_', ' ')}; {about or 'any topic'}; "
        f"written in {spec.language or 'English'}.",
        f"Give {MAX_VALUES} short, concrete, distinct values (a few words each, in English) for each of: "
        "sub-topics of the domain; situations or circumstances; personas (who writes or is asked); writing styles.",
    ]
    if structured:
        lines.append('Answer with JSON only: {"subtopics": [...], "situations": [...], "personas": [...], "styles": [...]}.')
    else:
        lines += ["Answer with one value per line, in exactly this format, and nothing else:",
                  "subtopic: <a sub-topic>", "situation: <a situation>", "persona: <a persona>", "style: <a writing style>"]
    return [{"role": "system", "content": "You design varied synthetic datasets."},
            {"role": "user", "content": "\n".join(lines)}]


_LINE = re.compile(r"^\W*(subtopic|sub-topic|situation|persona|style)s?\W*[:=-]\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def parse_lines(text: str) -> DomainAttributes:
    values: dict[str, list[str]] = {name: [] for name in DIMENSIONS}
    for key, value in _LINE.findall(text):
        name = {"sub-topic": "subtopic"}.get(key.lower(), key.lower()) + "s"
        values[name].append(value)
    return DomainAttributes(**values)


async def ask(llm: LLMBackend, spec: DatasetSpec) -> tuple[DomainAttributes | None, Usage, int]:
    """The order's dimensions (None: unusable, use the generic lists), the tokens and requests it took."""
    usage, requests = Usage(), 0
    for structured in (True, False):
        try:
            completion = await llm.complete(_prompt(spec, structured), schema=_schema() if structured else None,
                                            max_tokens=1200)
        except SchemaNotSupported:
            continue  # no structured output on this server: the line template
        except LLMError as exc:
            log.warning("attributes for the order: %s; using the generic lists", exc)
            return None, usage, requests
        requests += 1
        usage.prompt_tokens += completion.usage.prompt_tokens
        usage.completion_tokens += completion.usage.completion_tokens
        try:
            found = DomainAttributes.model_validate_json(completion.text) if structured else parse_lines(completion.text)
        except (ValidationError, ValueError):
            found = None
        if found is not None and (found := found.cleaned()) is not None:
            return found, usage, requests
        if structured:
            continue  # prose instead of JSON: once more with the template
    return None, usage, requests


def dump(found: DomainAttributes | None) -> str:
    return found.model_dump_json() if found is not None else json.dumps(GENERIC)


def load(stored: str | None) -> tuple[bool, DomainAttributes | None]:
    """(whether the job has stored attributes, them or None for the generic lists)."""
    if not stored:
        return False, None
    try:
        data = json.loads(stored)
        return True, (DomainAttributes.model_validate(data).cleaned() if isinstance(data, dict) else None)
    except (ValueError, ValidationError):
        return True, None


def wanted(settings: Any, llm: LLMBackend, spec: DatasetSpec) -> bool:
    mode = getattr(settings, "attributes", "auto")
    return applies(spec) and (mode == "on" or (mode == "auto" and not llm.is_local))


async def for_job(llm: LLMBackend, store: Any, settings: Any, job_id: int,
                  spec: DatasetSpec) -> tuple[DomainAttributes | None, Usage, int]:
    """The job's attributes: stored ones (a resume, or copied from the order's preview), else asked
    for once and stored; with the tokens and requests that took (0 when nothing was asked)."""
    import asyncio

    stored, found = load(await asyncio.to_thread(store.job_attributes, job_id))
    if stored or not wanted(settings, llm, spec):
        return found, Usage(), 0
    found, usage, requests = await ask(llm, spec)
    await asyncio.to_thread(lambda: store.save_job_attributes(
        job_id, dump(found), requests=requests, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens))
    return found, usage, requests


def order_key(spec: DatasetSpec) -> str:
    """What the attributes depend on: a preview's may serve its order's job when this is equal."""
    return json.dumps([spec.task.value, spec.topic, list(spec.labels), spec.language, spec.instructions])
