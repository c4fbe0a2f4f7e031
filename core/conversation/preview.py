"""Preview and feedback: a few rows to rate with 👍/👎, free-text feedback, the guidance for the engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core import attributes, estimate, intake, stop_reasons
from core.conversation import collecting, commands, cost, jobs
from core.conversation.guidance import make_guidance
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import Phase, Rating, ReadAsChange
from core.conversation.turn import PreviewFinished, Turn
from core.events import ButtonPress, Choice, Preview, PreviewItem, Say
from core.spec import DatasetSpec, SpecError, TaskType, split_evenly

PREVIEW_SIZE = 5
RATING_RE = re.compile(r"^\s*(?:[+-]\s*\d{1,6}[\s,]*)+$", re.ASCII)
RATING_ITEM_RE = re.compile(r"([+-])\s*(\d+)", re.ASCII)


@dataclass(frozen=True)
class TypedRatings:
    """"+1 -3": 👍 on example 1, 👎 on example 3 of the last preview."""

    ratings: tuple[tuple[str, int], ...]  # ("up" | "down", number shown)

    @classmethod
    def parse(cls, text: str) -> "TypedRatings | None":
        if not RATING_RE.match(text):
            return None
        return cls(tuple(("up" if sign == "+" else "down", int(n)) for sign, n in RATING_ITEM_RE.findall(text)))


async def start_preview(turn: Turn) -> Phase:
    spec, generator, phase = await jobs.ready_to_generate(turn)
    if spec is None or generator is None:
        return phase
    refusal = await cost.over_daily_budget(turn, None)  # a used-up daily budget: not even a preview
    if refusal is not None:
        return jobs.offer_next_step(turn, refusal)
    dialog = turn.dialog
    preview_spec = make_preview_spec(spec, dialog.settings.max_count)
    guidance = make_guidance(turn, spec, await dialog.uploaded_rows(turn.state), for_preview=True)
    job_id = await blocking(
        generator.create_job, preview_spec, guidance, kind="preview", conversation_id=turn.conversation_id
    )
    turn.state.preview_job = job_id
    turn.state.asking = None
    turn.offer(())
    turn.say("preview_working", n=preview_spec.count)
    dialog.spawn(job_id, dialog.run_preview(turn.chat, job_id))
    return Phase.previewing


async def press_preview(turn: Turn, event: ButtonPress) -> Phase:
    """Generate preview (summary) and New preview (after a preview): the same step."""
    return await start_preview(turn)


async def show_preview(turn: Turn, event: PreviewFinished) -> Phase:
    state = turn.state
    if state.preview_job != event.job_id:
        return state.phase  # superseded by a newer preview or a new order
    rows = event.rows
    if not rows:
        # The text names the button the summary below offers (its label, in the user's language).
        error = stop_reasons.describe(event.error or stop_reasons.stop("no_rows", "no rows"), turn.lang, turn.t)
        turn.say("preview_failed", error=error, button=turn.t("btn_preview"))
        return collecting.show_summary(turn, intro=False)
    # The model's first rows: the moment its limits matter (a conversation greeted by an older version
    # was never warned).
    commands.warn_if_local(turn, await turn.dialog.get_llm())
    state.preview_items = {number: row.id for number, row in enumerate(rows, 1)}
    # Rows of earlier previews stay rateable: their buttons are still on the user's screen.
    state.preview_rows.update({row.id: row.fields for row in rows})
    choices = collecting.after_preview_choices(turn)
    items = tuple(
        PreviewItem(
            example_id=row.id,
            number=number,
            text=row_text(row.fields),
            choices=(Choice("👍", "up", str(row.id)), Choice("👎", "down", str(row.id))),
        )
        for number, row in enumerate(rows, 1)
    )
    intro = turn.t("preview_intro", n=len(rows)) + await varied_line(turn, event.job_id) + await order_cost_lines(turn)
    turn.replies.append(Preview(intro, items, choices))
    return Phase.rating


async def varied_line(turn: Turn, preview_job: int) -> str:
    """"What will vary between requests, from your topic: e.g. ..." when the preview asked the model
    for the order's own dimensions ("" with the generic lists)."""
    _, found = attributes.load(await blocking(turn.dialog.store.job_attributes, preview_job))
    return "\n\n" + found.sample(turn.lang) if found is not None else ""


async def order_cost_lines(turn: Turn) -> str:
    """"The whole order (N rows): about ... tokens, about $..., about ... minutes", and the budget's
    refusal in advance when it is over DATAGEN_MAX_COST_USD ("" when nothing can be estimated)."""
    try:
        spec = turn.state.draft_or_empty().to_spec(turn.dialog.settings.max_count, lang=turn.lang)
    except SpecError:  # an order still missing something: its summary says what, not this line
        return ""
    found = await cost.estimate_for(turn, spec)
    if found is None:
        return ""
    lines = "\n\n" + turn.t("estimate_order", rows=f"{sum(spec.quotas().values()):,}", estimate=found.text(turn.lang))
    problem = estimate.budget_problem(found, turn.dialog.settings.max_cost_usd, turn.lang)
    return lines + ("\n" + problem if problem else "")


async def press_rating(turn: Turn, event: ButtonPress) -> Phase:
    """👍/👎 pressed on a preview row (value: the example id)."""
    raw = event.value
    example_id = int(raw) if raw.isdecimal() and raw.isascii() and len(raw) < 19 else None
    if example_id is None or example_id not in turn.state.preview_rows:
        turn.say("stale_button")
        return collecting.reask(turn)
    rate(turn, example_id, event.action)
    return turn.state.phase


async def typed_ratings(turn: Turn, event: TypedRatings) -> Phase:
    for kind, number in event.ratings:
        example_id = turn.state.preview_items.get(number)
        if example_id is None:
            turn.say("rating_unknown", number=number)
        else:
            rate(turn, example_id, kind)
    collecting.after_preview_choices(turn)
    return turn.state.phase


def rate(turn: Turn, example_id: int, kind: str) -> None:
    fields = turn.state.preview_rows[example_id]
    number = next((n for n, i in turn.state.preview_items.items() if i == example_id), "?")
    turn.state.ratings[example_id] = Rating(kind="up" if kind == "up" else "down", fields=fields)
    turn.say("rated_up" if kind == "up" else "rated_down", number=number)


async def press_was_feedback(turn: Turn, event: ButtonPress) -> Phase:
    """"It was feedback": undo the change the text made to the order and keep the text as feedback."""
    change = turn.state.read_as_change
    assert change is not None  # the table's guard
    turn.state.draft, turn.state.read_as_change = change.before, None
    return add_feedback(turn, change.text)


def add_feedback(turn: Turn, text: str) -> Phase:
    turn.state.feedback.append(text)
    turn.replies.append(Say(turn.t("feedback_noted", feedback=text), collecting.after_preview_choices(turn)))
    return Phase.rating


async def on_confirm_text(turn: Turn, event: Text) -> Phase:
    """Text at the summary: a change shows the new summary; a bare yes makes the preview."""
    outcome, _ = await collecting.understand(turn, event)
    if outcome == "changed":
        return collecting.advance(turn)
    if outcome == "yes":
        return await start_preview(turn)
    return outcome


async def on_text(turn: Turn, event: Text) -> Phase:
    """After a preview, text is feedback unless the rules read a change of the order or a yes/no."""
    interp = event.interp
    if collecting.answer_question(turn, interp) and not collecting.has_changes(interp):
        turn.replies.append(Say(turn.t("pick_option"), collecting.after_preview_choices(turn)))
        return Phase.rating
    kind = intake.classify_after_preview(event.text, turn.state.draft_or_empty(), interp)
    if kind == intake.AfterPreview.feedback:
        return add_feedback(turn, event.text)  # how rows should read, even if it names a tone or topic
    if collecting.has_changes(interp):  # an order change, or unsure: applied, with "It was feedback" offered
        before = turn.state.draft
        collecting.apply_interpretation(turn, interp)
        if turn.state.draft is not None:
            # Said after a preview, it might have been meant as feedback: the summary offers to take it so.
            turn.state.read_as_change = ReadAsChange(text=event.text, before=before, after=turn.state.draft)
        return collecting.advance(turn)
    if interp.yes is True:
        return await jobs.start_dataset(turn)
    if interp.yes is False:
        turn.offer(())
        turn.say("change_prompt")
        return Phase.rating
    return add_feedback(turn, event.text)


def make_preview_spec(spec: DatasetSpec, max_count: int) -> DatasetSpec:
    data = spec.model_dump(mode="json", exclude_none=True)
    if spec.task == TaskType.classification or spec.stratified:  # one row of every label at least
        # Only labels the job will write (balancing an upload orders 0 of the labels it has enough of):
        # a 👍 on a row of such a label could not be kept.
        wanted = [label for label, n in spec.quotas().items() if n > 0] or list(spec.labels)
        size = max(PREVIEW_SIZE, len(wanted))
        data["label_counts"] = {label: 0 for label in spec.labels} | split_evenly(size, wanted)
        data["count"] = size
    else:
        data["count"] = min(PREVIEW_SIZE, spec.count or PREVIEW_SIZE)
        data.pop("label_counts", None)
    data["format"] = spec.format.value
    return DatasetSpec.from_data(data, max_count=max(max_count, PREVIEW_SIZE * 10))


def row_text(fields: dict[str, Any]) -> str:
    if set(fields) == {"text", "label"}:
        return f"{fields['text']}\n→ {fields['label']}"
    return "\n".join(f"{key}: {_cut(_shown(value))}" for key, value in fields.items())


def _cut(text: str, limit: int = 280) -> str:
    """A long value (a document passage) cut for the chat; the file has it whole."""
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _shown(value: Any) -> str:
    """Spans (entities) as "PERSON: Anna; ORG: Acme", booleans as yes/no: readable in a chat."""
    if isinstance(value, list):
        return "; ".join(f"{item.get('label', '?')}: {item.get('text', '')}" for item in value
                         if isinstance(item, dict)) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
