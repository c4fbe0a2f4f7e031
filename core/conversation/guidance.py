"""What the engine is told about an order: few-shot rows (👍 and uploaded), rows to avoid (👎),
feedback, 👍 rows to keep, uploaded rows to deduplicate against."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from core.conversation.turn import Turn
from core.generator import Guidance
from core.rows.presets import row_model
from core.spec import DatasetSpec

FEW_SHOT_PER_LABEL = 3  # uploaded rows shown to the model per label: enough to imitate, short prompts


def make_guidance(turn: Turn, spec: DatasetSpec, uploaded_rows: list[dict[str, str]], *, for_preview: bool) -> Guidance:
    columns = set(spec.columns)
    labels = set(spec.labels)
    state = turn.state
    stratified = row_model(spec).stratified
    label_column = stratified.name if stratified is not None else "label"  # red team: category, ...

    def fits(fields: dict[str, Any]) -> bool:
        # Ratings made before the order changed (another task or label set) no longer apply.
        if set(fields) != columns:
            return False
        return not labels or fields.get(label_column) in labels

    ups = [r.fields for r in state.ratings.values() if r.kind == "up" and fits(r.fields)]
    # A 👎 row stays out even when its label left the order (a copy could come back under another label).
    downs = [r.fields for r in state.ratings.values() if r.kind == "down" and set(r.fields) == columns]
    uploaded = [row for row in uploaded_rows if fits(row)]
    # Each row is shown only in requests for its own label (core/prompts.py).
    few_shot = ups + sample_per_label(uploaded, FEW_SHOT_PER_LABEL)
    keep: list[dict[str, str]] = []
    if not for_preview:
        quotas = spec.quotas()
        used: Counter[str] = Counter()
        for row in ups:
            bucket = row.get(label_column, "") if labels else ""
            if used[bucket] < quotas.get(bucket, 0):
                used[bucket] += 1
                keep.append(row)
    # Every uploaded row, in the preview too: no generated row may be a copy of one of the user's.
    return Guidance(few_shot=few_shot, avoid=downs, feedback=list(state.feedback), keep=keep,
                    existing=[row for row in uploaded_rows if set(row) == columns])


def sample_per_label(rows: list[dict[str, str]], per_label: int) -> list[dict[str, str]]:
    by_label: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_label.setdefault(row.get("label", ""), []).append(row)
    rng = random.Random(len(rows))  # deterministic: the same upload gives the same prompts
    sample: list[dict[str, str]] = []
    for group in by_label.values():
        sample.extend(rng.sample(group, min(per_label, len(group))))
    return sample
