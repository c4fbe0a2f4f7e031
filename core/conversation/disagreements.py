"""When label verification stops a job: the checking model, reading each row without its label (or
the order's balanced column), placed most rows elsewhere. The usual cause is a column the text does
not show (a sales channel, a region): the chat says so plainly, with what the user can do, instead
of only the engine's stop reason (core/generation/acceptance.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.rows.rules import is_neutral
from core.spec import TaskType, stored_spec
from core.verify import DISAGREEMENT, VERIFIED_BY, agreement_per_label, stratified_of

#: Below this many disagreements a failure is about something else (a few are normal).
MIN_DISAGREEMENTS = 10
#: ...and they must be at least this share of the rows the model itself spoiled.
MIN_SHARE = 0.5
SHOWN_VALUES = 3

Words = Callable[..., str]  # t(key, **values): a message in the chat's language


@dataclass(frozen=True)
class Disagreements:
    column: str | None  # the checked column; None: a classification order's label
    disagreed: int
    checked: int
    lowest: tuple[tuple[str, float], ...]  # the values with the lowest agreement, lowest first


def stopped_by(store: Any, job_id: int) -> Disagreements | None:
    """The figures of a failed job stopped mostly by label disagreements; None when they are not what
    stopped it (or its rows were not verified). Blocking: call in a thread."""
    job = store.get_job(job_id)
    if job is None or job.status != "failed":
        return None
    found = _figures(store, job)
    if found is None:
        return None
    spoiled = {reason: n for reason, n in store.rejected_reasons(job_id).items() if not is_neutral(reason)}
    return found if found.disagreed >= MIN_SHARE * sum(spoiled.values()) else None


def mostly_rejected(store: Any, job_id: int) -> Disagreements | None:
    """The figures of a delivered job whose check rejected at least half of the rows it checked (it
    cost about twice what the rows needed, or more); None otherwise. Blocking: call in a thread."""
    job = store.get_job(job_id)
    found = _figures(store, job) if job is not None else None
    return found if found is not None and found.disagreed >= MIN_SHARE * found.checked else None


def _figures(store: Any, job: Any) -> Disagreements | None:
    if job.kind == "annotation" or VERIFIED_BY not in (job.model or ""):
        return None
    spec = stored_spec(job.spec_json)
    column = stratified_of(spec)
    if spec.task != TaskType.classification and column is None:
        return None  # a quiz's disagreement is a wrong answer key, not a column the text lacks
    accepted = store.accepted_counts(job.id)
    per_value = store.rejected_per_label(job.id, DISAGREEMENT)
    disagreed = sum(per_value.values())
    if disagreed < MIN_DISAGREEMENTS:
        return None
    shares = sorted(agreement_per_label(accepted, per_value).items(), key=lambda item: item[1])
    return Disagreements(column.name if column is not None else None, disagreed,
                         sum(accepted.values()) + disagreed, tuple(shares[:SHOWN_VALUES]))


def explanation(found: Disagreements, job_id: int, t: Words) -> str:
    """What happened and what the user can do."""
    return t("job_failed_disagreement", job=job_id, column=_column(found, t), disagreed=found.disagreed,
             checked=found.checked, shares=", ".join(f"{value} {share:.0%}" for value, share in found.lowest))


def delivered_note(found: Disagreements, t: Words) -> str:
    """Said after a delivered job's files: the check rejected most rows, and what that may mean."""
    return t("delivered_mostly_rejected", column=_column(found, t), disagreed=found.disagreed, checked=found.checked)


def progress_line(found: Disagreements, job_id: int, t: Words) -> str:
    """The job's last progress line (the explanation follows it)."""
    return t("progress_failed_disagreement", job=job_id, column=_column(found, t))


def _column(found: Disagreements, t: Words) -> str:
    return found.column if found.column is not None else t("disagreement_the_label")
