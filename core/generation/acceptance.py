"""Accepting rows: every row is validated (core.quality), deduplicated across the whole job (exact +
near), and accepted only while its label's quota is open, so the job ends with exactly the ordered
counts. A row whose label is not allowed is rejected, never relabeled. And when a job's requests keep
producing nothing usable, the message that stops it says why."""

from __future__ import annotations

from collections import Counter, deque

from core.duplicates import RowSignature
from core.generation.job_state import COLLAPSE_MIN_ROWS, COLLAPSE_REQUESTS, LETTERS, MIN_ACCEPTANCE, JobFailed, JobState
from core.quality import storable_text
from core.rows.rules import is_neutral
from core.spec import TaskType
from core.stop_reasons import stop
from core.store_port import NewRow


Checked = tuple[dict[str, str] | None, str | None]  # a row's validation: (clean row, None) or (None, reason)


def validate_answer(state: JobState, raws: list[dict], *, language_check: bool,
                    pins: dict[str, str] | None = None) -> list[Checked]:
    """Each row of one answer validated (the verifier and `judge_batch` share the result)."""
    ordered = state.spec.language if language_check else None
    return [state.rules.validate(raw, pins, language=ordered) for raw in raws]


def judge_batch(state: JobState, raws: list[dict], *, source: str, language_check: bool,
                pins: dict[str, str] | None = None, checked: list[Checked] | None = None) -> list[NewRow]:
    """`judge` for each row of one answer, in order, with the duplicate signatures of the
    valid rows computed together (one numpy pass per answer instead of one per row).
    `checked`: the rows' `validate_answer`, when computed already."""
    if checked is None:
        checked = validate_answer(state, raws, language_check=language_check, pins=pins)
    texts = [state.rules.text_of(clean) for clean, _ in checked if clean is not None]
    signatures = iter(state.index.signatures(texts, normalised=True))  # validate_row normalised them
    return [judge(state, raw, source=source, checked=(clean, reason),
                  signature=next(signatures) if clean is not None else None)
            for raw, (clean, reason) in zip(raws, checked)]


def judge(
    state: JobState,
    raw: dict,
    *,
    source: str,
    checked: tuple[dict[str, str] | None, str | None] | None = None,
    signature: RowSignature | None = None,
) -> NewRow:
    """Validate, check the quota, dedupe and (maybe) accept one row. Counts it in memory.
    `checked` / `signature`: validate_row's answer and the duplicate signature, if computed already."""
    spec = state.spec
    clean, reason = checked if checked is not None else state.rules.validate(raw)
    state.rows_seen += source == "synthetic"
    if clean is None:
        # Stored as the model wrote it (to show why it was rejected), but storable: a lone
        # surrogate in one rejected row must not fail the whole commit.
        fields = ({storable_text(str(k)): storable_text(v if isinstance(v, str) else str(v)) for k, v in raw.items()}
                  if isinstance(raw, dict) else {})
        label = state.rules.label_of(fields)
        return NewRow(fields, label=label[:200], accepted=False, reason=reason, source=source)
    label = state.rules.label_of(clean)
    text = state.rules.text_of(clean)
    full = "over quota" if state.open(label) <= 0 else state.rules.admit(clean)
    if full is not None:
        state.rows_seen -= source == "synthetic"  # surplus says nothing about the model's quality
        return NewRow(clean, label=label, accepted=False, reason=full, source=source)
    if signature is None:
        signature = state.index.signatures([text])[0]
    duplicate = state.index.check_and_add(text, signature)
    if duplicate is not None:
        return NewRow(clean, label=label, accepted=False, reason=duplicate, source=source)
    if spec.task == TaskType.multiple_choice:
        clean = place_answer(clean, LETTERS[state.mc_position % 4])
        state.mc_position += 1
    state.accepted[label] = state.accepted.get(label, 0) + 1
    state.rules.count(clean)
    state.rows_accepted += source == "synthetic"
    state.recent.setdefault(label, deque(maxlen=8)).append(text)
    return NewRow(clean, label=label, accepted=True, source=source, dedupe_key=signature.key)


def place_answer(row: dict[str, str], target: str) -> dict[str, str]:
    """Move the correct option to `target` (models favour "a"); the other options keep their order."""
    options = [row[f"option_{letter}"] for letter in LETTERS]
    correct = options.pop(LETTERS.index(row["answer"]))
    options.insert(LETTERS.index(target), correct)
    return {"question": row["question"], **{f"option_{letter}": option for letter, option in zip(LETTERS, options)},
            "answer": target}


def check_collapse(state: JobState, concurrency: int) -> None:
    """Stop a job whose requests keep giving nothing usable (JobFailed, with why)."""
    if state.finished:
        return
    if state.fruitless_requests >= max(COLLAPSE_REQUESTS, concurrency // 2):
        raise JobFailed(collapse_message(state, f"the last {state.fruitless_requests} requests "
                                                f"gave no usable row", fruitless=state.fruitless_requests))
    if state.rows_seen >= COLLAPSE_MIN_ROWS and state.rows_accepted / state.rows_seen < MIN_ACCEPTANCE:
        raise JobFailed(collapse_message(
            state, f"only {state.rows_accepted} of {state.rows_seen} generated rows were usable",
            accepted=state.rows_accepted, seen=state.rows_seen))


def collapse_message(state: JobState, what: str, **values: int) -> str:
    """The stored stop (core/stop_reasons.py): `what` happened, and the commonest reasons why."""
    reasons = Counter({reason: n for reason, n in state.rejected.items() if not is_neutral(reason)})
    top = reasons.most_common(1)[0][0] if reasons else ""
    return stop("unusable_rows", _collapse_english(state, what, reasons), top=top, **values)


def _collapse_english(state: JobState, what: str, reasons: Counter[str]) -> str:
    explained = {
        "duplicate": "kept repeating rows it had already written",
        "near-duplicate": "kept writing near-copies of earlier rows",
        "bad label": "kept using labels that are not in the order",
        "malformed output": "kept answering in an unreadable format",
        "bad answer": "kept giving answers that are not a, b, c or d",
        "options not distinct": "kept repeating the same option",
        "too short": "kept writing rows that are too short",
        "too long": "kept writing rows that are too long",
        "missing field": "kept leaving out required fields",
        "empty": "kept leaving fields empty",
        "label disagreement": "wrote rows that a second look without the label labeled differently",
        "not verified": "could not be verified (the judge model gave no usable answer)",
        "unsupported answer": "wrote answers its passages do not support",
        "answerable from the passages": "wrote 'unanswerable' questions that the passages answer",
    }
    if reasons:
        top = ", ".join(f"{reason} ×{n}" for reason, n in reasons.most_common(3))
        why = explained.get(reasons.most_common(1)[0][0], "kept producing unusable rows")
        return f"stopped: {what}; the model {why} ({top}). Try other labels, simpler instructions or a stronger model."
    if state.last_error:
        return f"stopped: {what}; last error: {state.last_error}"
    return f"stopped: {what}; the model returned no rows. Try simpler instructions or a stronger model."

