"""The intake's side of the row model (core.rows): what a draft of an entities, translation,
red-team, simulated-users or own-columns order still needs, its summary lines, its spec fields,
and reading those orders (and bare answers to their questions) from a message."""

from __future__ import annotations

import re
from typing import Any

from core import messages as m
from core.rows.columns import Column, ColumnType, column_name
from core.rows.orders import complete_counts, read_columns, read_order
from core.spec import TaskType

#: The row-model presets behind the conversation's task buttons (next to intake.PRESETS, whose
#: orders are complete with a count; these still ask their own questions).
ROW_PRESETS: dict[str, dict[str, Any]] = {
    "entities": {"task": "entities"},
    "translation": {"task": "translation"},
    "red_team": {"task": "red_team"},
    "users": {"task": "simulated_users"},
    "columns": {"task": "custom"},
}
#: Questions only these orders ask (each is "ask_<name>" in core/messages.py).
ROW_MODEL_QUESTIONS = ("entity_types", "target_language", "columns", "balance")
SAME = "same"  # target_language of a paraphrase order
_SAME_WORDS = {"same", "the same", "same language", "paraphrase", "paraphrases", "ten sam", "taki sam", "parafraza",
               "parafrazy", "ten sam język", "tym samym"}
_TYPE_NAME = re.compile(r"[^\W\d][\w-]{0,29}(?: [^\W\d][\w-]{0,29})?")
_NONE_WORDS = {"none", "no", "nothing", "żadna", "zadna", "żadnej", "nie", "brak"}


def _columns(draft: Any) -> list[Column]:
    out = []
    for raw in draft.columns or []:
        try:
            out.append(Column.model_validate(raw))
        except ValueError:
            continue
    return out


def _categories(draft: Any) -> list[Column]:
    return [c for c in _columns(draft) if c.type == ColumnType.category]


def _stratified(draft: Any) -> Column | None:
    columns = _columns(draft)
    chosen = next((c for c in columns if c.stratified), None)
    if chosen is None and draft.balance:
        chosen = next((c for c in columns if c.name == draft.balance and c.type == ColumnType.category), None)
    if chosen is None and len(_categories(draft)) == 1 and draft.balance is None:
        chosen = _categories(draft)[0]
    return chosen


def row_model_missing(draft: Any) -> list[str]:
    out: list[str] = []
    if draft.task == TaskType.entities and not draft.entity_types:
        out.append("entity_types")
    if draft.task == TaskType.translation and not draft.target_language:
        out.append("target_language")
    if draft.task == TaskType.custom:
        if not draft.columns:
            out.append("columns")
        elif len(_categories(draft)) > 1 and _stratified(draft) is None and draft.balance is None:
            out.append("balance")
    return out


def row_model_fields(draft: Any) -> dict[str, Any]:
    """The DatasetSpec fields these orders add (labels: the stratified column's values)."""
    fields: dict[str, Any] = {}
    if draft.task == TaskType.custom and draft.columns:
        chosen = _stratified(draft)
        chosen_name = chosen.name if chosen is not None else None
        fields["columns"] = [c.model_copy(update={"stratified": c.name == chosen_name}).model_dump(mode="json")
                             for c in _columns(draft)]
        if chosen is not None:
            fields["labels"] = list(chosen.values)
    if draft.task in (TaskType.red_team, TaskType.simulated_users) and draft.row_labels:
        fields["labels"] = list(draft.row_labels)
    if fields.get("labels") and draft.row_label_counts and draft.count is not None:
        by_fold = {label.casefold(): label for label in fields["labels"]}
        partial = {by_fold[k.casefold()]: n for k, n in draft.row_label_counts.items() if k.casefold() in by_fold}
        counts = complete_counts(fields["labels"], partial, draft.count)
        if counts is not None:
            fields["label_counts"] = counts
    if draft.task == TaskType.entities and draft.entity_types:
        fields["entity_types"] = list(draft.entity_types)
    if draft.task == TaskType.translation and draft.target_language and draft.target_language != SAME:
        fields["target_language"] = draft.target_language
    if draft.noise_share is not None and draft.task != TaskType.multiple_choice:
        fields["noise_share"] = draft.noise_share
    return fields


def row_model_summary(draft: Any, lang: str) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    labels = row_model_fields(draft)
    if labels.get("labels"):
        counts = labels.get("label_counts")
        shown = ", ".join(f"{label} {counts[label]}" if counts else label for label in labels["labels"])
        lines.append(("summary_labels", shown))
    if draft.task == TaskType.custom and draft.columns:
        chosen = _stratified(draft)
        shown = []
        for column in _columns(draft):
            kind = "/".join(column.values) if column.type == ColumnType.category else column.type.value
            mark = " ⚖" if chosen is not None and column.name == chosen.name else ""
            shown.append(f"{column.name} ({kind}){mark}")
        lines.append(("summary_columns", ", ".join(shown)))
    if draft.task == TaskType.entities:
        lines.append(("summary_entity_types", ", ".join(draft.entity_types or []) or "?"))
    if draft.task == TaskType.translation:
        target = draft.target_language
        lines.append(("summary_target_language",
                      m.text(lang, "summary_same_language") if target == SAME else (target or "?")))
    if draft.noise_share is not None:
        lines.append(("summary_noise", f"{draft.noise_share * 100:g}%"))
    return lines


def read_into(original: str, changes: dict[str, Any], draft: Any) -> None:
    """Add what the message says about a row-model order to the intake's `changes`."""
    if TaskType.documents in (changes.get("task"), getattr(draft, "task", None)):
        from core.documents.passages import question_type_counts  # "10 factual, 5 bez odpowiedzi"

        types = question_type_counts(original)
        if types:
            changes["label_counts"] = types
            changes.pop("labels", None)
            changes.pop("label_shares", None)
        elif changes.get("task") is not None and changes["task"] != TaskType.documents:
            changes.pop("task")  # "20 test questions": still questions from the documents
    order = read_order(original)
    found = order.changes
    if not found:
        return
    task = found.get("task")
    current = draft.task if draft is not None else None
    if task and (current in (None, TaskType.classification) or "task" in changes or task == "custom"):
        changes["task"] = TaskType(task)
    task_now = changes.get("task")
    if task == "custom":
        changes["columns"] = found["columns"]
        if found.get("label_counts_partial"):
            changes["row_label_counts"] = found["label_counts_partial"]
    if task_now in (TaskType.red_team, TaskType.simulated_users):
        if changes.get("labels"):  # "intents: track_order, refund": the stratified column's values
            changes["row_labels"] = changes["labels"]
        if changes.get("label_counts"):
            changes["row_label_counts"] = changes["label_counts"]
    if task_now is not None and task_now != TaskType.classification:
        for name in ("labels", "label_counts", "label_shares"):  # column values, entity types: not labels
            changes.pop(name, None)
    if "entity_types" in found:
        changes["entity_types"] = found["entity_types"]
    if "target_language" in found:
        changes["target_language"] = found["target_language"] or SAME
        if "language" in found:
            changes["language"] = found["language"]  # "from English into Polish": the data's is the source's
        elif found["target_language"] and changes.get("language") == found["target_language"]:
            changes.pop("language")  # "into German" names the target, not the data's language
    if "noise_share" in found:
        changes["noise_share"] = found["noise_share"]
        if changes.get("labels"):  # "labels: a, b, 20% z błędami": the label list ran into the messy share
            changes["labels"] = [label for label in changes["labels"] if "%" not in label]


def bare_answer(answer: str, asking: str, draft: Any, changes: dict[str, Any]) -> None:
    """An answer to one of these questions that the general rules did not recognise."""
    lowered = answer.strip().lower()
    if asking == "entity_types":
        types = [t.strip() for t in re.split(r"\s*(?:,|;|\band\b|\bi\b|\boraz\b)\s*", answer) if t.strip()]
        # Type names, not a sentence: "PERSON, ORG", "order_id, city"; "how long will this take" is not.
        if types and all(_TYPE_NAME.fullmatch(t) for t in types) and (len(types) > 1 or " " not in types[0]):
            changes["entity_types"] = types
    elif asking == "target_language":
        if lowered in _SAME_WORDS:
            changes["target_language"] = SAME
        else:
            from core.intake.languages import language_name  # the intake's language names (EN/PL)

            name = language_name(answer)
            if name:
                changes["target_language"] = name
    elif asking == "columns":
        read = read_columns(answer if re.match(r"(?i)\s*(columns?|kolumn)", answer) else f"columns: {answer}")
        if read is not None:
            order = read_order(f"columns: {answer}")
            changes["columns"] = order.changes["columns"]
            changes["task"] = TaskType.custom
            if order.changes.get("label_counts_partial"):
                changes["row_label_counts"] = order.changes["label_counts_partial"]
    elif asking == "balance":
        names = [c.name for c in _categories(draft)] if draft is not None else []
        if lowered in _NONE_WORDS:
            changes["balance"] = ""
        elif column_name(answer) in names:
            changes["balance"] = column_name(answer)
