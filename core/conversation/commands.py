"""The commands: the table's fallbacks, valid in every phase (/new, /start, /help, /status, /cancel)."""

from __future__ import annotations

from dataclasses import dataclass

from core import intake
from core import messages as m
from core.conversation import collecting, jobs
from core.conversation.background import job_counts
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import Phase
from core.conversation.turn import Turn
from core.events import Message

KNOWN = ("/new", "/start", "/help", "/status", "/cancel")


@dataclass(frozen=True)
class Command:
    name: str  # "/new"; Telegram's "@botname" suffix removed
    rest: str = ""  # what follows the command ("/new 100 tweets ...")

    @classmethod
    def parse(cls, text: str) -> "Command":
        first = text.split()[0]
        return cls(first.lower().split("@")[0], text[len(first):].strip())


async def tell_model(turn: Turn) -> None:
    """Which model answers (and, for the embedded one, its limits)."""
    dialog = turn.dialog
    llm = await dialog.get_llm()
    if llm is None:
        if dialog.llm_install_command:
            turn.say("llm_not_installed", command=dialog.llm_install_command)
        elif dialog.llm_error:
            turn.say_llm_unavailable()
        return
    turn.say("model_info", model=llm.description)
    warn_if_local(turn, llm)


def warn_if_local(turn: Turn, llm: object) -> None:
    """The embedded model's data is rarely usable: say so once per conversation, in the user's language."""
    if getattr(llm, "is_local", False) and not turn.state.local_warned:
        turn.state.local_warned = True
        turn.say("local_warning")


async def new_order(turn: Turn, event: Command) -> Phase:
    await jobs.cancel_running(turn, silent=True)
    turn.state = turn.state.fresh()
    turn.state.greeted = True
    turn.say("welcome" if event.name == "/start" else "new_order")
    await tell_model(turn)
    if not event.rest:
        return collecting.ask_next(turn)
    # The rest of the message is the first words of the new order (the fresh state is at the start).
    return await collecting.on_text(turn, Text(event.rest, intake.interpret(event.rest, None)))


async def show_help(turn: Turn, event: Command) -> Phase:
    turn.state.greeted = True
    turn.say("help")
    await tell_model(turn)
    return turn.state.phase


async def status(turn: Turn, event: Command) -> Phase:
    state, dialog = turn.state, turn.dialog
    job_ids = [j for j in (state.job, state.preview_job) if j]
    for job_id in job_ids:
        job = await blocking(dialog.store.get_job, job_id)
        if job is None:
            continue
        done, total = await blocking(job_counts, dialog.store, job_id, job)
        turn.say("status_job", job=job_id, kind=turn.t(f"job_kind_{job.kind}"),
                 status=turn.t(f"job_status_{job.status}"), done=done, total=total)
    if state.annotation is not None and state.annotation.upload_id:
        turn.say("annotate_status", filename=state.annotation.filename, rows=state.annotation.rows,
                 labels=", ".join(state.annotation.labels) or "?")
        return state.phase
    if state.draft is None and not job_ids:
        turn.say("status_empty")
        return state.phase
    summary = str(state.draft_or_empty().summary(turn.lang))
    if state.documents:
        summary += "\n" + collecting.documents_line(turn)
    needed = collecting.missing(turn)
    if needed:
        names = ", ".join(turn.t(f"field_{f}") if f"field_{f}" in m.TEXTS else f for f in needed)
        turn.say("status_draft", summary=summary, missing=names)
    elif (problem := collecting.order_problem(turn)) is not None:
        turn.say("status_problem", summary=summary, error=str(problem))
    elif state.phase != Phase.generating:
        turn.say("status_ready", summary=summary)
    return state.phase


async def cancel(turn: Turn, event: Command) -> Phase:
    phase = await jobs.cancel_running(turn)
    if phase is not None:
        return phase
    if turn.state.has_order:
        return collecting.drop_order(turn)
    turn.say("nothing_to_cancel")
    return turn.state.phase


async def unknown(turn: Turn, event: Command) -> Phase:
    turn.say("unknown_command", command=event.name)
    return turn.state.phase


async def empty(turn: Turn, event: Message) -> Phase:
    turn.say("empty_input")
    return collecting.reask(turn)
