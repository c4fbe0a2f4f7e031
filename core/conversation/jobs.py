"""Running the dataset job: start it, answer while it runs, cancel it, and what its end does to the chat."""

from __future__ import annotations

from typing import Any

from core import attributes, stop_reasons
from core.conversation import annotating, collecting, cost, disagreements, documents
from core.conversation.background import job_counts, spec_of
from core.conversation.guidance import make_guidance
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import Phase
from core.conversation.turn import DatasetDelivered, DatasetFailed, JobLost, Turn
from core.events import ButtonPress, Choice, Event, Say
from core.generator import Generator, Guidance
from core.spec import DatasetSpec


async def ready_to_generate(turn: Turn) -> tuple[DatasetSpec | None, Generator | None, Phase]:
    """The order's spec and the engine for a preview or the dataset; or, after telling the user why
    not (the order is incomplete, the LLM is unavailable), (None, None, the phase to stay in)."""
    spec, phase = collecting.spec_or_explain(turn)
    if spec is None:
        return None, None, phase
    try:
        generator = await turn.dialog.get_generator()
    except RuntimeError:
        turn.say_llm_unavailable()
        return None, None, turn.state.phase
    return await documents.with_passages(turn, spec), generator, phase


async def start_dataset(turn: Turn) -> Phase:
    spec, generator, phase = await ready_to_generate(turn)
    if spec is None or generator is None:
        return phase
    refusal = await cost.over_budget(turn, spec) or await cost.over_daily_budget(turn, spec)
    if refusal is not None:  # refused before any job exists: nothing is spent, the order is kept
        return offer_next_step(turn, refusal)
    dialog = turn.dialog
    guidance = make_guidance(turn, spec, await dialog.uploaded_rows(turn.state), for_preview=False)
    job_id = await blocking(open_dataset_job, dialog, generator, spec, guidance, turn.state.job,
                            turn.state.preview_job, turn.conversation_id, turn.chat.user)
    turn.state.job = job_id
    turn.state.asking = None
    turn.offer((Choice(turn.t("btn_cancel"), "canceljob", str(job_id)),))
    turn.say("generate_ack", total=sum(spec.quotas().values()), job=job_id)
    dialog.spawn(job_id, dialog.run_dataset(turn.chat, job_id))
    return Phase.generating


def open_dataset_job(dialog: Any, generator: Generator, spec: DatasetSpec, guidance: Guidance, last_job: int | None,
                     preview_job: int | None, conversation_id: int, user: str) -> int:
    """The order's job, ready to run: the stopped one of this very order reopened, or a new one
    (with its preview's attributes), capped by what is left of the user's day. Blocking: one
    reply-thread call rather than one per query (each waited its turn for a thread)."""
    # Before a stopped job is reopened: its spending counts in the day only if it was today's.
    spent_before = cost.daily_spending(dialog.store, dialog.settings, dialog.channel, user)
    job_id = resumable_job(dialog, last_job, spec, guidance)
    if job_id is None:
        job_id = generator.create_job(spec, guidance, kind="dataset", conversation_id=conversation_id)
        reuse_preview_attributes(dialog.store, preview_job, job_id, spec)
    # Before the job runs: it stops where what is left of the user's day runs out (a resume too).
    cost.store_daily_cap(dialog.store, dialog.settings, job_id, spent_before)
    return job_id


def reuse_preview_attributes(store: Any, preview_job: int | None, job_id: int, spec: DatasetSpec) -> None:
    """The order's job varies along the dimensions its preview showed (no second request for them),
    when the order's topic, labels and language are still the preview's. Blocking."""
    stored = store.job_attributes(preview_job) if preview_job else None
    preview = store.get_job(preview_job) if stored else None
    if preview is not None and attributes.order_key(spec_of(preview)) == attributes.order_key(spec):
        store.save_job_attributes(job_id, stored)


def resumable_job(dialog: object, job_id: int | None, spec: DatasetSpec, guidance: Guidance) -> int | None:
    """The stopped or failed job of this very order (the conversation's last one), so Generate all
    continues it instead of starting over (its rows are kept). Blocking: call in a thread."""
    store = dialog.store  # type: ignore[attr-defined]
    job = store.get_job(job_id) if job_id else None
    if job is None or job.status not in ("cancelled", "failed"):
        return None
    same_spec = spec_of(job) == spec
    same_guidance = job.guidance_json == guidance.model_dump_json()
    if not (same_spec and same_guidance):
        return None
    store.reopen_job(job_id)  # the user's new Generate all: cancelled/failed -> pending, the engine may run it
    return job_id


async def press_cancel_order(turn: Turn, event: ButtonPress) -> Phase:
    await cancel_running(turn, silent=True)
    return collecting.drop_order(turn)


async def press_generate(turn: Turn, event: ButtonPress) -> Phase:
    return await start_dataset(turn)


async def press_cancel_job(turn: Turn, event: ButtonPress) -> Phase:
    """The running job's Cancel; an older job's Cancel button is an earlier step's."""
    if event.value and event.value != str(turn.state.job):
        turn.say("stale_button")
        return collecting.reask(turn)
    phase = await cancel_running(turn)
    if phase is None:
        turn.say("nothing_to_cancel")
        return turn.state.phase
    return phase


async def cancel_running(turn: Turn, *, silent: bool = False) -> Phase | None:
    """Stop this conversation's running job (dataset first, else preview); None if none runs."""
    dialog = turn.dialog
    job_id = turn.state.job
    if job_id is not None and await dialog.stop_job(job_id):
        if silent:
            return after_job(turn)
        stopped = "annotate_cancelled" if turn.state.annotation is not None else "job_cancelled"
        return offer_next_step(turn, turn.t(stopped, job=job_id))
    job_id = turn.state.preview_job
    if job_id is not None and await dialog.stop_job(job_id):
        turn.state.preview_job = None
        if turn.state.annotation is not None:  # the labeled rows of an annotation preview
            if not silent:
                turn.say("annotate_preview_cancelled")
            return annotating.preview_or_labels(turn)
        if silent:
            return Phase.confirm
        turn.say("job_cancelled", job=job_id)
        return collecting.show_summary(turn, intro=False)
    return None


async def while_busy(turn: Turn, event: Event | Text) -> Phase:
    """Anything but the job's own buttons and the commands, while a job runs: say what is going on."""
    if turn.state.phase in (Phase.previewing, Phase.annotate_previewing):
        turn.say("annotate_preview_busy" if turn.state.phase == Phase.annotate_previewing else "preview_busy")
        return turn.state.phase
    job_id = turn.state.job
    done, total = await blocking(job_counts, turn.dialog.store, job_id) if job_id else (0, 0)
    turn.say("annotate_busy" if turn.state.phase == Phase.annotating else "busy_generating", job=job_id, done=done,
             total=total)
    return turn.state.phase  # generating, or annotating


def after_job(turn: Turn) -> Phase:
    """Where a stopped dataset job leaves the user: the preview's buttons, or the summary."""
    if turn.state.annotation is not None:
        annotating.preview_choices(turn)
        return Phase.annotate_preview
    return Phase.rating if turn.state.preview_items else Phase.confirm


def offer_next_step(turn: Turn, text: str) -> Phase:
    """`text`, then what the user can do now: the preview's buttons, or the summary's."""
    if turn.state.annotation is not None:  # a labeling job: back to its preview
        turn.replies.append(Say(text, annotating.preview_choices(turn)))
        return Phase.annotate_preview
    if turn.state.preview_items:
        turn.replies.append(Say(text, collecting.after_preview_choices(turn)))
        return Phase.rating
    turn.replies.append(Say(text))
    return collecting.show_summary(turn, intro=False)


async def delivered(turn: Turn, event: DatasetDelivered) -> Phase:
    if turn.state.job != event.job_id:
        return turn.state.phase
    turn.offer(())
    turn.say("after_delivery")
    return Phase.done


async def failed(turn: Turn, event: DatasetFailed) -> Phase:
    if turn.state.job != event.job_id:
        return turn.state.phase
    found = await blocking(disagreements.stopped_by, turn.dialog.store, event.job_id)
    if found is not None:  # most rows placed elsewhere by the check: why, and what to do
        return offer_next_step(turn, disagreements.explanation(found, event.job_id, turn.t))
    error = stop_reasons.describe(event.error, turn.lang, turn.t)
    annotation = turn.state.annotation
    if annotation is not None:  # "label my rows": Label all continues it
        return offer_next_step(turn, turn.t("annotate_failed", error=error,
                                            button=turn.t("btn_label_all", rows=annotation.rows)))
    return offer_next_step(turn, turn.t("job_failed", error=error))


async def job_lost(turn: Turn, event: JobLost) -> Phase:
    """A job this process does not run (stopped while it was down): back to where the user can act.
    Only the buttons are restored; the event being handled gives the answer."""
    if turn.state.annotation is not None:
        return after_job(turn)
    if turn.state.preview_items:
        collecting.after_preview_choices(turn)
        return Phase.rating
    shown = len(turn.replies)
    collecting.show_summary(turn, intro=False)
    del turn.replies[shown:]
    return Phase.confirm
