"""apply(): a draft plus an interpretation -> the updated draft, counts, shares and labels reconciled."""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

from core.intake.draft import SpecDraft, clean_changes, counts_complete
from core.intake.interpret import Interpretation
from core.documents.passages import question_type
from core.intake.labels import distinct_labels, label_key
from core.intake.numbers import allocate, shares_to_counts
from core.spec import TaskType, split_evenly

log = logging.getLogger(__name__)

#: The row model's draft fields (core.intake.row_orders), set as the message says.
ROW_MODEL_FIELDS = ("columns", "balance", "entity_types", "target_language", "noise_share", "row_labels",
                    "row_label_counts")


def apply(draft: SpecDraft, interp: Interpretation) -> SpecDraft:
    """A copy of `draft` with the interpretation applied; counts, shares and labels reconciled:
    "make it 500" rescales existing label counts (exact total), "2 negative and 8 positive" sets
    labels, counts and count=10, shares become counts once the total is known. Never raises."""
    try:
        return _apply(draft, interp)
    except Exception:  # a reconciliation bug must not lose the conversation: keep the old draft
        log.exception("intake.apply failed; draft left unchanged")
        return draft.model_copy(deep=True)


def _apply(draft: SpecDraft, interp: Interpretation) -> SpecDraft:
    changes = clean_changes(interp.changes or {})
    data = draft.model_dump()
    for name in ("topic", "language", "tone", "format", "instructions", *ROW_MODEL_FIELDS):
        if name in changes:
            data[name] = changes[name]

    task = changes.get("task", draft.task)
    old_labels = list(draft.labels or [])
    labels = list(changes["labels"]) if "labels" in changes else list(old_labels)
    if "task" in changes and changes["task"] != TaskType.classification:
        labels = []
    remove = {label_key(x) for x in interp.remove_labels or [] if isinstance(x, str)}
    labels = [label for label in labels if label_key(label) not in remove]
    labels = distinct_labels([*labels, *(x for x in interp.add_labels or [] if isinstance(x, str))])

    def spelled(key: str) -> str:
        return next((label for label in labels if label_key(label) == label_key(key)), key)

    new_counts = {spelled(k): v for k, v in (changes.get("label_counts") or {}).items()}
    new_shares = {spelled(k): v for k, v in (changes.get("label_shares") or {}).items()}
    labels = distinct_labels([*labels, *new_counts, *new_shares])
    if interp.each and "count" in changes and not new_counts and labels:
        new_counts = {label: changes["count"] for label in labels}
        changes = {k: v for k, v in changes.items() if k != "count"}

    count_new: int | None = changes.get("count")
    count = count_new if count_new is not None else draft.count
    keys = {label_key(label) for label in labels}
    old_counts = {spelled(k): v for k, v in (draft.label_counts or {}).items() if label_key(k) in keys}
    old_shares = {spelled(k): v for k, v in (draft.label_shares or {}).items() if label_key(k) in keys}
    labels_changed = [label_key(x) for x in labels] != [label_key(x) for x in old_labels]

    counts: dict[str, int] | None = None
    shares: dict[str, float] | None = None
    if new_counts:
        counts = dict(new_counts)
        rest = [label for label in labels if label not in counts]
        if rest:
            if count_new is not None:
                remaining = count_new - sum(counts.values())
                if remaining >= 0:
                    kept = {label: old_counts[label] for label in rest if label in old_counts}
                    if len(kept) == len(rest) and sum(kept.values()) > 0:
                        counts.update(allocate(remaining, kept))
                    else:
                        counts.update(split_evenly(remaining, rest))
            elif all(label in old_counts for label in rest):
                counts.update({label: old_counts[label] for label in rest})
            elif count is not None and not old_counts and count - sum(counts.values()) >= 0:
                # "200 reviews" earlier, now "30 negative": the other labels share the rest.
                counts.update(split_evenly(count - sum(counts.values()), rest))
        if count_new is None and counts_complete(counts, labels):
            count = sum(counts.values())
        leftover_shares = {k: v for k, v in {**old_shares, **new_shares}.items() if k not in counts}
        shares = leftover_shares or None
    elif new_shares:
        shares = {**{k: v for k, v in old_shares.items()}, **new_shares}
    elif old_shares:
        shares = old_shares
    elif old_counts and (labels_changed or count_new is not None):
        # Keep the balance the user asked for; new labels get the average weight, the total stays.
        total = count if count is not None else sum(old_counts.values())
        average = Fraction(sum(old_counts.values()), len(old_counts))
        weights: dict[str, Any] = {label: old_counts.get(label, average) for label in labels}
        counts = allocate(total, weights) if labels and sum(weights.values()) > 0 else None
    elif old_counts:
        counts = old_counts

    if shares and count is not None and labels:
        converted = shares_to_counts(count, shares, labels)
        if converted is not None:
            counts = {**converted, **(counts or {})} if counts else converted
            if sum(counts.values()) == count:
                shares = None
    if counts and count is not None and not counts_complete(counts, labels):
        rest = [label for label in labels if label not in counts]
        remaining = count - sum(counts.values())
        if rest and remaining >= 0:
            counts.update(split_evenly(remaining, rest))
    if counts and count is None and counts_complete(counts, labels):
        count = sum(counts.values())

    if task is None and (len(labels) >= 2 or counts or shares):
        task = TaskType.classification
    if task == TaskType.documents:  # counts per question type ("10 factual"); any other word is no type
        shares = None
        typed = {kind: n for key, n in (counts or {}).items() if (kind := question_type(key))}
        labels = list(dict.fromkeys([*(kind for label in labels if (kind := question_type(label))), *typed]))
        counts = typed or None
    elif task not in (None, TaskType.classification):
        labels, counts, shares = [], None, None

    data.update(
        task=task,
        labels=labels or None,
        label_counts={label: counts[label] for label in labels if label in counts} if counts else None,
        label_shares=shares or None,
        count=count,
    )
    result = SpecDraft.model_validate(data)
    if _is_whole_order(changes, interp) and not result.required_missing():
        # A whole order in one message: take defaults for what it did not say (see module doc).
        result = result.with_defaults(interp.language)
    return result


def _is_whole_order(changes: dict[str, Any], interp: Interpretation) -> bool:
    says_count = "count" in changes or "label_counts" in changes or interp.each
    says_kind = "task" in changes or "labels" in changes or "label_counts" in changes
    return says_count and says_kind


