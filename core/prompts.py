"""Prompt rendering per task type, the JSON schema per task, and the parsers for the answers.

One request asks for `count` rows of one label (classification) or `count` rows (multiple
choice, qa). Two answer formats:
- structured: `response_format` json_schema, answer `{"examples": [...]}` (`parse_structured`);
- line template, the seed's `Q: <sentence>` / `A: <label>` (`parse_template`), for servers
  that reject json_schema.

The wording "Produce exactly N ..." and 'the label "X"' is relied on by the fake server in
tests/fakes/openai_server.py; keep them in sync.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.rows.noise import NOISE_COLUMN, noise_line
from core.rows.presets import row_model
from core.spec import COLUMNS, DatasetSpec, TaskType
from core.vocabulary import Guidance

SYSTEM_PROMPT = (
    "You are a careful synthetic-data writer. You write realistic, varied, correctly labeled "
    "examples for training and evaluating machine-learning models. You follow the requested "
    "output format exactly and write nothing else."
)

#: How many rows of each guidance list go into a prompt (prompt tokens are paid per request).
MAX_FEW_SHOT = 5
MAX_AVOID = 5
MAX_RECENT = 8
MAX_SHOWN_CHARS = 240

TEMPLATES: dict[TaskType, str] = {
    TaskType.classification: "Q: <sentence>\nA: <label>",
    TaskType.multiple_choice: "Q: <question>\nA) <option>\nB) <option>\nC) <option>\nD) <option>\nAnswer: <letter>",
    TaskType.qa: "Q: <question>\nA: <answer>",
}

_NOUNS: dict[TaskType, str] = {
    TaskType.classification: "examples",
    TaskType.multiple_choice: "multiple-choice questions",
    TaskType.qa: "question-answer pairs",
}

# Diversity axes: one value of each is picked per batch (deterministically from topic + batch
# number), so a 1,000-row order is spread over many angles instead of rewording one sentence.
ASPECTS = (
    "everyday, routine situations", "a first-time experience", "a problem and how it turned out",
    "money, prices or value", "time: waiting, delays or speed", "people involved and how they behaved",
    "a comparison with an alternative", "expectations versus reality", "a special occasion",
    "small details most people overlook", "a recommendation to someone else", "a repeated or long-term experience",
    "something that changed over time", "a surprising or unusual case", "practical, technical aspects",
    "feelings and personal impact",
)
PERSPECTIVES = (
    "a beginner", "an expert", "a busy parent", "a student", "a retired person", "a professional at work",
    "a tourist or newcomer", "a sceptic", "an enthusiast", "someone in a hurry", "a family member", "a small-business owner",
)
LENGTHS = (
    "very short (under 10 words)", "one sentence", "one or two sentences", "two or three sentences",
    "a mix of short and longer examples",
)
STYLES = (
    "casual, as typed on a phone", "plain and neutral", "with a concrete detail (a number, a name, a place)",
    "phrased as a question or a request", "emotional, with emphasis", "understated and matter-of-fact",
    "slightly formal", "with everyday slang", "storytelling, past tense", "direct, in the present tense",
)
QUIZ_LEVELS = ("easy", "medium", "hard", "tricky but fair")
QUIZ_KINDS = (
    "facts and definitions", "causes and consequences", "dates, numbers and quantities", "people and places",
    "applying a concept to a case", "comparisons", "common misconceptions", "processes and steps",
)


class ParseError(ValueError):
    """The answer could not be read as rows at all (malformed JSON, prose instead of rows)."""


# --- schema ---------------------------------------------------------------------------------


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    # Strict structured output wants every property required and no extra ones.
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def response_schema(spec: DatasetSpec, *, label: str | None = None, rows: int | None = None,
                    pins: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON schema of one answer: {"examples": [row, ...]} with the task's columns.

    By default `label` is an enum of every ordered label, so a server model can say that a row
    came out as another class. `label`/`rows`/`pins` pin one request's label, row count and
    other columns: a tiny local model cannot keep to the prompt otherwise (it mixes labels and
    runs on forever). Tasks other than the first three, and messy rows, take the schema their
    columns give (core.rows); the first three keep this one (the same, tested).
    """
    if spec.task not in COLUMNS or spec.noise_share is not None:
        model = row_model(spec)
        pinned = dict(pins or {})
        if label and model.stratified is not None:
            pinned[model.stratified.name] = label
        return model.json_schema(pinned, rows=rows)
    if spec.task == TaskType.classification:
        labels = [label] if label else list(spec.labels)
        row = _object({"text": {"type": "string"}, "label": {"type": "string", "enum": labels}})
    elif spec.task == TaskType.multiple_choice:
        row = _object({
            "question": {"type": "string"},
            **{f"option_{letter}": {"type": "string"} for letter in "abcd"},
            "answer": {"type": "string", "enum": ["a", "b", "c", "d"]},
        })
    else:
        row = _object({"question": {"type": "string"}, "answer": {"type": "string"}})
    examples: dict[str, Any] = {"type": "array", "items": row}
    if rows:
        examples.update(minItems=1, maxItems=rows)
    schema = _object({"examples": examples})
    schema["title"] = f"{spec.task.value}_examples"
    return schema


# --- prompt ---------------------------------------------------------------------------------


def diversity_hint(spec: DatasetSpec, batch_index: int) -> str:
    """One line that differs per batch; the same topic and batch number give the same line."""
    rng = random.Random(f"{spec.topic}|{spec.task.value}|{batch_index}")  # str seeds are stable across runs
    if spec.task == TaskType.multiple_choice:
        return (f"For this batch: {rng.choice(QUIZ_LEVELS)} questions about {rng.choice(QUIZ_KINDS)}; "
                f"cover different sub-topics.")
    parts = [f"focus on {rng.choice(ASPECTS)}", f"from the point of view of {rng.choice(PERSPECTIVES)}"]
    if spec.task == TaskType.classification:
        parts += [f"length: {rng.choice(LENGTHS)}", f"style: {rng.choice(STYLES)}"]
    else:
        parts.append(f"question style: {rng.choice(STYLES)}")
    return "For this batch: " + "; ".join(parts) + "."


def shorten(text: object) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


def order_lines(spec: DatasetSpec, feedback: Sequence[str]) -> list[str]:
    """What the order asks of every row: its language and tone, the user's instructions and feedback
    (both prompt renderers: this module's and core/rows/prompting.py's)."""
    lines = [f"Write every example in {spec.language or 'English'}."]
    if spec.tone:
        lines.append(f"Tone: {spec.tone}.")
    if spec.instructions:
        lines.append(f"Instructions from the user: {spec.instructions}")
    if feedback:
        lines.append("Feedback from the user on earlier examples (follow it):")
        lines += [f"- {shorten(item)}" for item in feedback[-10:]]
    return lines


def example_lines(few_shot: Sequence[str], avoid: Sequence[str], recent: Sequence[str]) -> list[str]:
    """The rows to imitate, those the user rejected (both already formatted and cut to their maximum)
    and the latest ones written, each under what to do with them."""
    lines: list[str] = []
    if few_shot:
        lines += ["", "Good examples to imitate in style and quality (do not copy them):", *few_shot]
    if avoid:
        lines += ["", "The user rejected examples like these; do NOT write anything similar:", *avoid]
    if recent:
        lines += ["", "Already written; do not repeat or paraphrase these:"]
        lines += [f"- {shorten(text)}" for text in list(recent)[-MAX_RECENT:]]
    return lines


def format_row(task: TaskType, row: dict[str, str]) -> str:
    """A row in the template style, for few-shot / avoid lists inside the prompt."""
    if task == TaskType.classification:
        return f"Q: {shorten(row.get('text', ''))}\nA: {row.get('label', '')}"
    if task == TaskType.multiple_choice:
        options = "\n".join(f"{letter.upper()}) {shorten(row.get(f'option_{letter}', ''))}" for letter in "abcd")
        return f"Q: {shorten(row.get('question', ''))}\n{options}\nAnswer: {row.get('answer', '').upper()}"
    return f"Q: {shorten(row.get('question', ''))}\nA: {shorten(row.get('answer', ''))}"


def render_messages(
    spec: DatasetSpec,
    *,
    count: int,
    label: str = "",
    batch_index: int = 0,
    guidance: Guidance | None = None,
    recent: Sequence[str] = (),
    structured: bool = True,
    pins: Mapping[str, str] | None = None,
    attributes: Any = None,
) -> list[dict[str, str]]:
    """The chat messages for one batch of `count` rows (of `label`, for classification; `pins`:
    the messy kind, when the order wants messy rows; `attributes`: the order's own dimensions of
    variety, core.attributes.DomainAttributes, else the generic lists)."""
    task = spec.task
    lines: list[str] = []
    if task == TaskType.classification:
        allowed = ", ".join(f'"{name}"' for name in spec.labels)
        lines.append(f"Task: text classification. The allowed labels are: {allowed}.")
    elif task == TaskType.multiple_choice:
        lines.append("Task: multiple-choice quiz questions, each with 4 options (A-D) and exactly 1 correct answer; "
                     "the 3 wrong options must be plausible but clearly wrong.")
    else:
        lines.append("Task: question-answer pairs; each answer must be correct and answer its question directly.")
    if spec.topic:
        lines.append(f"Topic / domain: {spec.topic}.")
    lines += order_lines(spec, guidance.feedback if guidance is not None else ())

    noun = _NOUNS[task]
    lines.append("")
    lines.append(f"Produce exactly {count} {noun}.")
    if task == TaskType.classification:
        lines.append(f'Every example must have the label "{label}" and must clearly deserve that label.')
    if pins and NOISE_COLUMN in pins:
        lines.append(noise_line(pins[NOISE_COLUMN], "text" if task == TaskType.classification else "question"))
    lines.append(attributes.hint(spec, batch_index) if attributes is not None else diversity_hint(spec, batch_index))
    lines.append("Every example must differ from the others in wording, content and structure.")

    few_shot = list(guidance.few_shot) if guidance is not None else []
    if task == TaskType.classification and label:
        # Only rows of the label asked for: a model shown another label's rows copies them under this one.
        few_shot = [row for row in few_shot if row.get("label", "").casefold() == label.casefold()]
    lines += example_lines([format_row(task, row) for row in few_shot[:MAX_FEW_SHOT]],
                           [format_row(task, row) for row in guidance.avoid[:MAX_AVOID]] if guidance is not None else [],
                           recent)

    lines.append("")
    if structured:
        columns = ", ".join(spec.columns)
        lines.append(f'Answer with JSON only: {{"examples": [...]}}, each example an object with {columns}.')
        if task == TaskType.multiple_choice:
            lines.append('"answer" is the letter of the correct option: "a", "b", "c" or "d".')
    else:
        lines.append("Use exactly this format for every example, with an empty line between examples, and nothing else:")
        lines.append(TEMPLATES[task])
        if task == TaskType.multiple_choice:
            lines.append("<letter> is A, B, C or D: the correct option.")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(lines)}]


def max_tokens_for(task: TaskType, count: int) -> int:
    """A generous cap on the answer length: stops a runaway answer without truncating a good one."""
    per_row = 450 if task == TaskType.multiple_choice else 250
    return 200 + per_row * count


# --- parsing --------------------------------------------------------------------------------

_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")


def parse_structured(text: str) -> list[dict[str, Any]]:
    """Rows from a JSON answer. A truncated answer still yields its complete rows (salvaged one
    object at a time); an answer with no readable row at all raises ParseError."""
    text = text.strip()
    if "```" in text:  # the fence regex scans every position (~40 µs an answer): only when there is one
        text = _FENCE.sub("", text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        rows = _salvage_objects(text)
        if rows:
            return rows
        raise ParseError("the answer is not valid JSON") from None
    if isinstance(data, dict):
        for key in ("examples", "items", "data", "rows", "questions"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            lists = [value for value in data.values() if isinstance(value, list)]
            if len(lists) == 1:
                data = lists[0]
            else:
                return [data]  # a single row instead of a list of one
    if not isinstance(data, list):
        raise ParseError("the JSON answer holds no list of examples")
    return [row for row in data if isinstance(row, dict)]


def _salvage_objects(text: str) -> list[dict[str, Any]]:
    # Read complete {...} items of the first array one by one until the text breaks off.
    start = text.find("[")
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    rows: list[dict[str, Any]] = []
    position = start + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] != "{":
            return rows
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return rows
        if isinstance(item, dict):
            rows.append(item)


_Q_LINE = re.compile(r"^\s*(?:\d+[.)]\s*)?(?:\*\*)?(?:Q|Question|Text|Sentence|Pytanie|Tekst)(?:\*\*)?\s*[:：]\s*(.*)$", re.I)
_A_LINE = re.compile(r"^\s*(?:\*\*)?(?:A|Answer|Label|Sentiment|Intent|Odpowied[zź]|Etykieta)(?:\*\*)?\s*[:：]\s*(.*)$", re.I)
_OPTION_LINE = re.compile(r"^\s*\(?([A-Da-d])[).]\s+(.*)$")
_MC_ANSWER_LINE = re.compile(r"^\s*(?:\*\*)?(?:Answer|Correct(?: answer)?|Odpowied[zź])(?:\*\*)?\s*[:：]\s*(.*)$", re.I)


def parse_template(task: TaskType, text: str) -> list[dict[str, str]]:
    """Rows from a line-template answer (`Q: ...` / `A: ...`; for multiple choice also `A) ..`
    to `D) ..` and `Answer: X`). Incomplete trailing rows are dropped; text with no row at all
    raises ParseError."""
    rows = _parse_multiple_choice(text) if task == TaskType.multiple_choice else _parse_pairs(task, text)
    if not rows:
        raise ParseError("the answer does not follow the Q:/A: template")
    return rows


def _parse_pairs(task: TaskType, text: str) -> list[dict[str, str]]:
    first, second = ("text", "label") if task == TaskType.classification else ("question", "answer")
    rows: list[dict[str, str]] = []
    question: list[str] | None = None
    answer: list[str] | None = None
    for line in text.splitlines():
        q_match = _Q_LINE.match(line)
        a_match = _A_LINE.match(line) if question is not None else None
        if q_match:
            if question is not None and answer is not None:
                rows.append({first: " ".join(question).strip(), second: " ".join(answer).strip()})
            question, answer = [q_match.group(1)], None
        elif a_match and answer is None:
            answer = [a_match.group(1)]
        elif line.strip() and question is not None:
            # A continuation line belongs to whatever part is open (multi-line answers in qa).
            (answer if answer is not None else question).append(line.strip())
        elif not line.strip() and question is not None and answer is not None:
            rows.append({first: " ".join(question).strip(), second: " ".join(answer).strip()})
            question, answer = None, None
    if question is not None and answer is not None:
        rows.append({first: " ".join(question).strip(), second: " ".join(answer).strip()})
    return rows


def _parse_multiple_choice(text: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in text.splitlines():
        q_match = _Q_LINE.match(line)
        if q_match:
            current = {"question": q_match.group(1).strip()}
            continue
        if current is None:
            continue
        answer_match = _MC_ANSWER_LINE.match(line)
        if answer_match:
            current["answer"] = answer_match.group(1).strip()
            if all(f"option_{letter}" in current for letter in "abcd"):
                rows.append(current)
            current = None
            continue
        option_match = _OPTION_LINE.match(line)
        if option_match:
            current[f"option_{option_match.group(1).lower()}"] = option_match.group(2).strip()
    return rows
