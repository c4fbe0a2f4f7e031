"""Collecting the order: understand text, ask the next missing thing, show the summary.

Every handler returns the next phase; helpers that end a step (`ask_next`, `show_summary`,
`advance`) return the phase that step leaves the conversation in.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from core import intake
from core.intake import row_orders
from core import messages as m
from core.conversation.state import Phase
from core.conversation.turn import Turn
from core.events import ButtonPress, Choice, Say
from core.spec import DatasetSpec, SpecError, TaskType

log = logging.getLogger(__name__)

EXTRACTION_TIMEOUT = 8.0  # seconds the user waits at most for the LLM to read an order
COUNT_CHOICES = (10, 50, 100, 500, 1000)
LANGUAGE_CHOICES = ("English", "Polish", "German", "Spanish")
TONE_CHOICES = ("neutral", "casual", "formal", "enthusiastic")
FORMAT_CHOICES = ("csv", "xlsx", "json", "jsonl")
TASK_PRESET_ORDER = ("sentiment", "intent", "toxicity", "quiz", "qa", "custom", "entities", "translation", "red_team",
                     "users", "columns")
SETTABLE = ("count", "language", "tone", "format", "topic", "target_language", "balance")


@dataclass(frozen=True)
class Text:
    """A typed message that is neither a command, a typed button nor a rating, as the rules read it."""

    text: str
    interp: Any  # intake.Interpretation


# --- small shared steps ----------------------------------------------------------------------


def has_changes(interp: Any) -> bool:
    return bool(interp.changes or interp.add_labels or interp.remove_labels)


def apply_interpretation(turn: Turn, interp: Any) -> None:
    draft = turn.state.draft_or_empty()
    result = intake.apply(draft, interp)
    turn.state.draft = draft if result is None else result


def apply_changes(turn: Turn, changes: dict[str, Any]) -> None:
    apply_interpretation(turn, intake.Interpretation(changes=changes, language=turn.lang))


def missing(turn: Turn) -> list[str]:
    """What to ask next. Tone has a default and is only asked while the order is being
    given piece by piece anyway (a whole order in one message must go straight to the summary)."""
    draft = turn.state.draft_or_empty()
    needed = list(draft.missing())
    if draft.task == TaskType.documents:  # the files first; no tone: questions take the documents' words
        return (["documents"] if not turn.state.documents else []) + needed
    if needed and draft.tone is None and not turn.state.tone_asked:
        needed.insert(needed.index("format") if "format" in needed else len(needed), "tone")
    return needed


def advance(turn: Turn) -> Phase:
    """After a change: ask the next missing thing, else show the summary (of a valid order only)."""
    if missing(turn):
        return ask_next(turn)
    return summary_if_valid(turn)


def summary_if_valid(turn: Turn) -> Phase:
    """The summary with its Generate preview button, but only for an order that can be generated;
    otherwise what is wrong with it and the question that fixes it."""
    problem = order_problem(turn)
    if problem is not None:
        return explain_problem(turn, problem)
    return show_summary(turn)


def order_problem(turn: Turn) -> SpecError | None:
    try:
        turn.state.draft_or_empty().to_spec(turn.dialog.settings.max_count, lang=turn.lang)
    except SpecError as exc:
        return exc
    return None


def explain_problem(turn: Turn, exc: SpecError) -> Phase:
    turn.state.asking = None
    turn.say("spec_problem", error=str(exc))
    turn.offer(())
    turn.say("change_prompt")
    return Phase.collecting


def spec_or_explain(turn: Turn) -> tuple[DatasetSpec | None, Phase]:
    """The order as a valid spec, or (None, the phase after asking what is missing or wrong)."""
    if missing(turn):
        return None, ask_next(turn)
    try:
        return turn.state.draft_or_empty().to_spec(turn.dialog.settings.max_count, lang=turn.lang), turn.state.phase
    except SpecError as exc:
        return None, explain_problem(turn, exc)


def ask_next(turn: Turn) -> Phase:
    needed = missing(turn)
    if not needed:
        return summary_if_valid(turn)
    field_name = needed[0]
    if field_name == "tone":
        turn.state.tone_asked = True
    turn.state.asking = field_name
    text, choices = question(turn, field_name)
    draft = turn.state.draft_or_empty()
    labels = len(draft.labels or [])
    if field_name == "count" and draft.count is not None and 1 <= draft.count < labels:
        # A count was given but cannot cover the labels (e.g. "1" typed after a refused order): say so.
        text = turn.t("order_fewer_rows_than_labels", count=f"{draft.count:,}", labels=f"{labels:,}")
        choices = tuple(c for c in choices if int(c.value.partition("=")[2]) >= labels) or choices
    turn.ask(text, choices)
    return Phase.collecting


def question(turn: Turn, field_name: str) -> tuple[str, tuple[Choice, ...]]:
    choices: list[Choice] = []
    default: str | None = None
    if field_name == "task":
        choices = [Choice(turn.t(f"task_{key}"), "task", key) for key in TASK_PRESET_ORDER]
    elif field_name == "count":
        choices = [Choice(str(n), "set", f"count={n}") for n in COUNT_CHOICES]
    elif field_name == "language":
        default = "Polish" if turn.lang == "pl" else "English"  # the language the user writes in
        values = [default] + [v for v in LANGUAGE_CHOICES if v != default]
        choices = [Choice(turn.t(f"lang_{v}"), "set", f"language={v}") for v in values]
        choices.append(Choice(turn.t("btn_other"), "set", "language=other"))
    elif field_name == "topic":
        choices = [Choice(turn.t("btn_any_topic"), "set", "topic=")]
    elif field_name == "tone":
        default = TONE_CHOICES[0]
        choices = [Choice(turn.t(f"tone_{v}"), "set", f"tone={v}") for v in TONE_CHOICES]
    elif field_name == "format":
        default = FORMAT_CHOICES[0]
        choices = [Choice(v.upper(), "set", f"format={v}") for v in FORMAT_CHOICES]
    elif field_name == "target_language":
        choices = [Choice(turn.t(f"lang_{v}"), "set", f"target_language={v}") for v in LANGUAGE_CHOICES]
        choices.append(Choice(turn.t("btn_same_language"), "set", "target_language=same"))
    elif field_name == "balance":
        names = [c["name"] for c in turn.state.draft_or_empty().columns or [] if c.get("type") == "category"]
        choices = [Choice(name, "set", f"balance={name}") for name in names]
        choices.append(Choice(turn.t("btn_no_balance"), "set", "balance="))
    key = f"ask_{field_name}"
    if turn.state.draft_or_empty().task == TaskType.documents and field_name in ("documents", "count", "language"):
        key = f"documents_ask_{field_name.replace('documents', 'upload')}"
    text = turn.t(key) if key in m.TEXTS else turn.t("ask_generic", field=field_name)
    if default is not None:
        # The default is the first option, so typing "1" takes it.
        text += " " + turn.t("default_hint", value=choices[0].label)
    return text, tuple(choices)


def reask(turn: Turn) -> Phase:
    """Repeat where we are, so the user always sees what they can do next (never silence)."""
    state, phase = turn.state, turn.state.phase
    if phase in (Phase.start, Phase.collecting):
        return ask_next(turn)
    if phase == Phase.confirm:
        return show_summary(turn, intro=False)
    if state.offered:
        turn.replies.append(Say(turn.t("pick_option"), tuple(state.offered)))
    elif phase == Phase.rating:
        turn.replies.append(Say(turn.t("pick_option"), after_preview_choices(turn)))
    elif phase == Phase.previewing:
        turn.say("preview_busy")
    elif phase == Phase.annotate_previewing:
        turn.say("annotate_preview_busy")
    elif phase == Phase.done:
        turn.say("after_delivery")
    elif phase == Phase.annotate_labels:
        turn.say("annotate_ask_labels")
    elif phase == Phase.upload_columns and state.pending_upload is not None:
        turn.say("upload_ask_columns", filename=state.pending_upload.filename,
                 columns=", ".join(state.pending_upload.columns))
    else:
        turn.say("upload_what_next")
    return phase


def show_summary(turn: Turn, *, intro: bool = True) -> Phase:
    state = turn.state
    draft = state.draft_or_empty()
    state.asking = None
    lines = ([turn.t("summary_intro")] if intro else []) + [str(draft.summary(turn.lang))]
    if state.documents:
        lines.append(documents_line(turn))
    if state.upload is not None:
        have = state.upload.counts
        new = draft.label_counts or {}
        totals = {label: have.get(label, 0) + new.get(label, 0) for label in [*have, *(k for k in new if k not in have)]}
        lines.append(turn.t("summary_upload", rows=state.upload.size, uploaded=per_label(have),
                            totals=per_label(totals)))
    kept = [r for r in state.ratings.values() if r.kind == "up"]
    if kept:
        lines.append(turn.t("summary_kept", n=len(kept)))
    if state.feedback:
        lines.append(turn.t("summary_feedback", items="; ".join(f"“{f}”" for f in state.feedback)))
    choices = [Choice(turn.t("btn_preview"), "preview")]
    if state.preview_items:
        choices.append(Choice(turn.t("btn_generate_all"), "generate"))
    choices += [Choice(turn.t("btn_change"), "change"), Choice(turn.t("btn_cancel"), "cancel")]
    if can_undo_change(turn):
        assert state.read_as_change is not None
        undo = Choice(turn.t("btn_was_feedback"), "asfeedback")
        lines.append(turn.t("summary_read_as_change", text=state.read_as_change.text, button=undo.label))
        choices.append(undo)
    turn.ask("\n".join(lines), tuple(choices))
    return Phase.confirm


def documents_line(turn: Turn) -> str:
    """ "Documents: manual.pdf (12 pages with text), guide.md (4 sections); 40 passages" (a documents order)."""
    files = turn.state.documents
    shown = ", ".join(f"{f.name} ({turn.t('documents_pages' if f.paged else 'documents_sections', n=f.places)})"
                      for f in files)
    return turn.t("summary_documents_line", files=shown, passages=sum(f.passages for f in files))


def after_preview_choices(turn: Turn) -> tuple[Choice, ...]:
    return turn.offer((
        Choice(turn.t("btn_generate_all"), "generate"),
        Choice(turn.t("btn_new_preview"), "newpreview"),
        Choice(turn.t("btn_cancel"), "cancel"),
    ))


def can_undo_change(turn: Turn, event: object = None) -> bool:
    """The last text after a preview changed the order, and nothing changed since: it may still
    be taken back as feedback (a guard of the table, too)."""
    change = turn.state.read_as_change
    return change is not None and bool(turn.state.preview_items) and turn.state.draft == change.after


def per_label(counts: dict[str, int]) -> str:
    return ", ".join(f"{label}: {n}" for label, n in counts.items())


def drop_order(turn: Turn) -> Phase:
    turn.state = turn.state.fresh()
    turn.state.greeted = True
    turn.say("order_cancelled")
    return Phase.start


# --- handlers ----------------------------------------------------------------------------------


async def understand(turn: Turn, event: Text) -> tuple[Phase | Literal["changed", "yes"], Any]:
    """Read order text: "changed" (the draft took the change; the caller decides what follows),
    "yes" (a bare yes: the caller's phase knows to what), or the phase after answering it here."""
    text, interp, phase = event.text, event.interp, turn.state.phase
    answered = answer_question(turn, interp)
    if answered and not has_changes(interp):
        after = reask(turn) if phase != Phase.start or turn.state.draft is not None else phase
        ask_favoured(turn, interp)
        return after, interp
    if phase in (Phase.start, Phase.done) and has_changes(interp):
        fresh = intake.apply(intake.SpecDraft(), interp)
        if fresh is not None and not fresh.required_missing():
            # A complete new order, not a correction of the last one: start clean.
            turn.state = turn.state.fresh()
    if interp.yes is None:
        interp = await extract_with_llm(turn, text, interp)
    if has_changes(interp):
        apply_interpretation(turn, interp)
        return "changed", interp
    if interp.yes is True:
        return "yes", interp
    if interp.yes is False and phase == Phase.confirm:
        turn.offer(())
        turn.say("change_prompt")
        return phase, interp
    stripped = text.lstrip("+-")
    if stripped.isdecimal() and len(stripped) < 6 and turn.state.offered:
        turn.say("choice_out_of_range", number=text, last=len(turn.state.offered))
        return reask(turn), interp
    # A greeting or small talk before any order gets the introduction, not a complaint.
    turn.say("welcome" if phase == Phase.start and turn.state.draft is None else "not_understood")
    return reask(turn), interp


def answer_question(turn: Turn, interp: Any) -> bool:
    """What the rules say the bot must tell (a refused number, a kind it cannot make yet, the
    balance question) and answers to questions ("what can you do?"); True if anything was said."""
    said = False
    if interp.intent == intake.Intent.ask_capabilities:
        turn.say("help")
        said = True
    elif interp.intent == intake.Intent.ask_duration:
        turn.say("duration_unknown")
        said = True
    for remark in interp.remarks:
        turn.replies.append(Say(remark.text(turn.lang, command_prefix=turn.dialog.command_prefix)))
        said = True
    return said


def ask_favoured(turn: Turn, interp: Any) -> None:
    """After "mostly complaints" (the bot asked how many), a bare "40" / "50%" / "3 in 10" answers
    that question, unless the bot has just asked another one."""
    if interp.favoured_label is not None and turn.state.asking in (None, "count"):
        turn.state.asking = intake.FAVOURED + interp.favoured_label


async def on_text(turn: Turn, event: Text) -> Phase:
    """Text while the order is being collected, or before/after one."""
    outcome, interp = await understand(turn, event)
    if outcome == "changed":
        phase = advance(turn)
        ask_favoured(turn, interp)
        return phase
    if outcome == "yes":
        if turn.state.phase == Phase.start:
            turn.say("yes_without_order")
            return ask_next(turn)
        return reask(turn)
    return outcome


async def extract_with_llm(turn: Turn, text: str, interp: Any) -> Any:
    """A served model reads what the rules did not. The small embedded model invents fields the
    user never said (a topic "polish" for the seed prompt), so only a served model extracts."""
    llm = await turn.dialog.get_llm()
    if llm is None or llm.is_local:
        return interp
    try:
        # A slow server must not hold up the answer: past the limit, the rules decide alone.
        extracted = await asyncio.wait_for(
            intake.extract_with_llm(llm, text, turn.state.draft_or_empty()), EXTRACTION_TIMEOUT
        )
    except asyncio.TimeoutError:
        log.warning("LLM extraction took over %s s; using the rules alone", EXTRACTION_TIMEOUT)
        extracted = {}
    return intake.merge_llm(interp, extracted) if extracted else interp


async def press_task(turn: Turn, event: ButtonPress) -> Phase:
    apply_changes(turn, dict(intake.PRESETS.get(event.value) or row_orders.ROW_PRESETS.get(event.value, {})))
    if event.value == "custom":
        turn.state.asking = "labels"
        turn.offer(())
        turn.say("custom_labels_prompt")
        return Phase.collecting
    if event.value == "columns":
        turn.state.asking = "columns"
        turn.offer(())
        turn.say("ask_columns")
        return Phase.collecting
    return advance(turn)


async def press_set(turn: Turn, event: ButtonPress) -> Phase:
    name, _, raw = event.value.partition("=")
    if name == "language" and raw == "other":
        turn.state.asking = "language_other"
        turn.offer(())
        turn.say("other_language_prompt")
        return Phase.collecting
    categories = [c.get("name") for c in turn.state.draft_or_empty().columns or [] if c.get("type") == "category"]
    if name == "balance" and raw and raw not in categories:
        turn.say("stale_button")  # a balance button of an earlier column list
        return reask(turn)
    if name not in SETTABLE or (name == "count" and not (raw.isdecimal() and raw.isascii() and len(raw) < 10)):
        turn.say("stale_button")
        return reask(turn)
    apply_changes(turn, {name: int(raw) if name == "count" else raw})
    return advance(turn)


async def press_change(turn: Turn, event: ButtonPress) -> Phase:
    turn.offer(())
    turn.say("change_prompt")
    return Phase.confirm if not missing(turn) else Phase.collecting
