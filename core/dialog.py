"""The conversation: an event in, replies out; one state machine for every channel.

Contract for channel adapters (bot/*.py):

    dialog = Dialog(channel="telegram", output=my_output_channel, settings=settings)
    await dialog.start()                      # opens storage/LLM, resumes interrupted jobs
    await dialog.handle(ChatRef(...), Message("200 reviews, positive or negative"))
    await dialog.handle(ChatRef(...), ButtonPress("up", "17"))
    await dialog.handle(ChatRef(...), FileUpload("seed.csv", data))
    await dialog.wait_idle()                  # background jobs done (terminal end of input, tests)
    await dialog.aclose()

`handle` returns quickly: replies go to `output.send(chat, reply)`; long work (preview,
generation) runs in background tasks that push Progress and Document replies later.

States (Conversation.state) and what moves between them:

    start ──text──▶ collecting (one question at a time) ──complete──▶ confirm (summary)
    confirm ──Generate preview──▶ previewing ──rows ready──▶ rating (👍/👎, feedback)
    rating ──Generate all──▶ generating ──file sent──▶ done
    any ──FileUpload──▶ upload_columns (if it must ask) ──▶ upload_offer ──Balance──▶ collecting/confirm

Everything a later event needs (draft order, offered buttons, preview ids, ratings,
feedback, job ids, uploaded rows) is in Conversation.data_json, so a new process on the
same database continues the conversation; unfinished jobs resume in `start()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core import intake
from core import messages as m
from core.events import (
    ButtonPress,
    ChatRef,
    Choice,
    Document,
    Event,
    FileUpload,
    Message,
    OutputChannel,
    Preview,
    PreviewItem,
    Progress,
    Reply,
    Say,
)
from core.export import render_delivery
from core.generator import Generator, Guidance, JobClaimedElsewhere, JobProgress, JobResult
from core.llm import LLMBackend, make_backend
from core.settings import Settings
from core.spec import DatasetSpec, OutputFormat, SpecError, TaskType, split_evenly
from core.uploads import LabeledRows, ParsedTable, UploadError, parse_upload
from storage.store import Store

log = logging.getLogger(__name__)

PREVIEW_SIZE = 5
EXTRACTION_TIMEOUT = 8.0  # seconds the user waits at most for the LLM to read an order
FEW_SHOT_PER_LABEL = 3  # uploaded rows shown to the model per label: enough to imitate, short prompts
COUNT_CHOICES = (10, 50, 100, 500, 1000)
LANGUAGE_CHOICES = ("English", "Polish", "German", "Spanish")
TONE_CHOICES = ("neutral", "casual", "formal", "enthusiastic")
FORMAT_CHOICES = ("csv", "json", "jsonl")
TASK_PRESET_ORDER = ("sentiment", "intent", "toxicity", "quiz", "qa", "custom")

RATING_RE = re.compile(r"^\s*(?:[+-]\s*\d+[\s,]*)+$")
RATING_ITEM_RE = re.compile(r"([+-])\s*(\d+)")
COLUMNS_RE = re.compile(r"(text|label)\s*[=:]\s*([^,;]+)", re.IGNORECASE)

FILE_SUFFIX = {OutputFormat.csv: "csv", OutputFormat.json: "json", OutputFormat.jsonl: "jsonl", OutputFormat.openai_jsonl: "jsonl"}
MIME_TYPE = {
    OutputFormat.csv: "text/csv",
    OutputFormat.json: "application/json",
    OutputFormat.jsonl: "application/jsonl",
    OutputFormat.openai_jsonl: "application/jsonl",
}

# Conversation states.
START, COLLECTING, CONFIRM, PREVIEWING, RATING, GENERATING, DONE = (
    "start", "collecting", "confirm", "previewing", "rating", "generating", "done",
)
UPLOAD_COLUMNS, UPLOAD_OFFER = "upload_columns", "upload_offer"


@dataclass
class Turn:
    """One conversation loaded for one event: mutate `state`/`data`/`lang`, then it is saved."""

    chat: ChatRef
    conversation_id: int
    state: str
    data: dict[str, Any]
    lang: str
    command_prefix: str = m.DEFAULT_COMMAND_PREFIX
    replies: list[Reply] = field(default_factory=list)
    feedback: list[tuple[str, str, int | None]] = field(default_factory=list)  # (kind, text, example id) to store

    def say(self, key: str, choices: tuple[Choice, ...] = (), **values: object) -> None:
        self.replies.append(Say(self.t(key, **values), choices))

    def t(self, key: str, **values: object) -> str:
        return m.text(self.lang, key, command_prefix=self.command_prefix, **values)


class ProgressThrottle:
    """At most one update per `interval` seconds and only when the text changed (chat APIs rate-limit edits)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last_text: str | None = None
        self.last_time = float("-inf")

    def should_send(self, text: str, *, final: bool = False) -> bool:
        if text == self.last_text:
            return False
        now = time.monotonic()
        if not final and now - self.last_time < self.interval:
            return False
        self.last_text, self.last_time = text, now
        return True


class Dialog:
    def __init__(
        self,
        channel: str,
        output: OutputChannel,
        settings: Settings,
        store: Store | None = None,
        llm: LLMBackend | None = None,
        command_prefix: str = m.DEFAULT_COMMAND_PREFIX,
    ) -> None:
        """`command_prefix`: how users type commands in this channel; every text that names one
        spells it so ("/" gives "/new"; Slack passes "" because it keeps "/..." for itself)."""
        self.channel = channel
        self.command_prefix = command_prefix
        self.output = output
        self.settings = settings
        self.store = store
        self.llm = llm
        self._owns_store = store is None
        self._owns_llm = llm is None
        self._llm_error: str | None = None
        self._generator: Generator | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}  # job id -> its background task
        self._user_cancelled: set[int] = set()
        self._started = False
        self._llm_lock = asyncio.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open storage and resume this channel's interrupted jobs (their chats are told)."""
        if self._started:
            return
        self._started = True
        if self.store is None:
            self.store = await asyncio.to_thread(Store.from_url, self.settings.database_url)
        if self.settings.llm_backend != "local":
            # Importing the OpenAI SDK takes ~0.4 s of CPU that a thread does not hide (the GIL):
            # pay it here, before the channel takes requests, not in the first user's event. The
            # embedded model stays lazy: loading it takes seconds and not every run needs it.
            await self._get_llm()
        await self._resume_jobs()

    async def wait_idle(self) -> None:
        """Wait until no background job of this dialog is running (jobs started meanwhile included)."""
        while True:
            pending = [t for t in self._tasks.values() if not t.done()]
            if not pending:
                return
            # asyncio.wait, not gather: if the waiter is cancelled (Ctrl-C), the jobs must not be.
            await asyncio.wait(pending)

    async def aclose(self) -> None:
        """Stop background work WITHOUT cancelling the orders: interrupted jobs resume on the next start()."""
        tasks = {job_id: t for job_id, t in self._tasks.items() if not t.done()}
        for task in tasks.values():
            task.cancel()
        if tasks:
            # Each task puts its job back to "pending" as it stops (see _requeue).
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        if self._owns_llm and self.llm is not None:
            try:
                await self.llm.aclose()
            except Exception:  # closing must not hide the real shutdown reason
                log.exception("closing the LLM backend failed")
            self.llm = None
        if self._owns_store and self.store is not None:
            self.store.close()
            self.store = None

    async def has_conversation(self, conversation: str) -> bool:
        """Whether this channel already talks in `conversation` (a ChatRef.conversation); read-only,
        so an adapter can tell "a chat with us" from "not for us" after a restart."""
        if not self._started:
            await self.start()
        assert self.store is not None
        return await asyncio.to_thread(self.store.find_conversation, self.channel, conversation) is not None

    @property
    def running_jobs(self) -> list[int]:
        return [job_id for job_id, t in self._tasks.items() if not t.done()]

    # --- the entry point ---------------------------------------------------------------------

    async def handle(self, chat: ChatRef, event: Event) -> None:
        """Handle one event; replies go to the output channel. Never raises for bad input."""
        if not self._started:
            await self.start()
        lock = self._locks.setdefault(chat.conversation, asyncio.Lock())
        async with lock:
            turn: Turn | None = None
            try:
                turn = await self._load(chat)
                await self._dispatch(turn, event)
                if not turn.data.get("greeted"):
                    # First contact: say which model answers (and its limits) before anything else.
                    turn.data["greeted"] = True
                    answer, turn.replies = turn.replies, []
                    await self._tell_model(turn)
                    turn.replies += answer
                await self._save(turn)
                replies = turn.replies
            except Exception:
                # One bad event must not kill the bot or leak a stack trace to the user.
                log.exception("event %r in conversation %s failed", event, chat.conversation)
                lang = turn.lang if turn else "en"
                replies = [Say(self._text(lang, "internal_error"))]
        for reply in replies:
            await self._send(chat, reply)

    def _text(self, lang: str | None, key: str, **values: object) -> str:
        return m.text(lang, key, command_prefix=self.command_prefix, **values)

    async def _send(self, chat: ChatRef, reply: Reply) -> None:
        try:
            await self.output.send(chat, reply)
        except Exception:  # a channel hiccup must not lose the job or the conversation state
            log.exception("sending a reply to %s failed", chat.conversation)

    # --- state persistence -------------------------------------------------------------------
    # Database calls run in worker threads so that a busy database (a job committing rows, a slow
    # PostgreSQL) never holds the event loop and with it every other chat's acknowledgements.
    # Each call opens its own session (SQLite connections allow other threads), and one chat's
    # load -> dispatch -> save happens under that chat's lock, so its writes stay in order.

    async def _load(self, chat: ChatRef) -> Turn:
        assert self.store is not None
        conversation = await asyncio.to_thread(
            self.store.get_or_create_conversation, self.channel, chat.conversation, chat.user
        )
        assert conversation.id is not None
        data = json.loads(conversation.data_json or "{}")
        return Turn(chat, conversation.id, conversation.state, data, m.normalise_language(conversation.language),
                    self.command_prefix)

    async def _save(self, turn: Turn) -> None:
        await asyncio.to_thread(self._write_turn, turn)

    def _write_turn(self, turn: Turn) -> None:
        """The turn's feedback rows, then its conversation state: one thread hop per event."""
        assert self.store is not None
        for kind, text, example_id in turn.feedback:
            self.store.add_feedback(turn.conversation_id, kind, text=text, example_id=example_id)
        turn.feedback = []
        self.store.save_conversation(turn.conversation_id, state=turn.state, data=turn.data, language=turn.lang)

    async def _update_later(self, chat: ChatRef, change: Callable[[Turn], None]) -> list[Reply]:
        """Change a conversation from a background task, under the chat's lock; returns its replies."""
        lock = self._locks.setdefault(chat.conversation, asyncio.Lock())
        async with lock:
            turn = await self._load(chat)
            change(turn)
            await self._save(turn)
            return turn.replies

    # --- dispatch ----------------------------------------------------------------------------

    async def _dispatch(self, turn: Turn, event: Event) -> None:
        self._heal(turn)
        if isinstance(event, FileUpload):
            await self._on_upload(turn, event)
        elif isinstance(event, ButtonPress):
            await self._on_button(turn, event.action, event.value)
        elif isinstance(event, Message):
            await self._on_text(turn, event.text)
        else:
            turn.say("not_understood")

    def _heal(self, turn: Turn) -> None:
        """A conversation "busy" with a job that no task runs (it was stopped while this process
        was down and not resumed, e.g. cancelled) goes back to where the user can act."""
        key = {GENERATING: "job", PREVIEWING: "preview_job"}.get(turn.state)
        if key is None:
            return
        job_id = turn.data.get(key)
        if job_id and self._is_running(job_id):
            return
        turn.state = RATING if turn.data.get("preview_items") else CONFIRM
        if turn.state == RATING:
            self._after_preview_choices(turn)
        else:
            self._summary_choices(turn)

    async def _on_text(self, turn: Turn, raw: str) -> None:
        text = (raw or "").strip()
        if not text:
            turn.say("empty_input")
            self._reask(turn)
            return
        if text.startswith("/"):
            await self._on_command(turn, text)
            return
        # A typed button: its number or its label.
        chosen = self._typed_choice(turn, text)
        if chosen is not None:
            await self._on_button(turn, chosen.action, chosen.value)
            return
        if RATING_RE.match(text) and turn.data.get("preview_items"):
            for sign, number in RATING_ITEM_RE.findall(text):
                self._rate_number(turn, int(number), "up" if sign == "+" else "down")
            self._offer_after_rating(turn)
            return
        asking = turn.data.get("asking")
        expecting = "language" if asking == "language_other" else asking
        interp = intake.interpret(text, self._draft(turn), expecting=expecting)
        if interp.language_detected:
            turn.lang = m.normalise_language(interp.language)
        if turn.state == UPLOAD_COLUMNS:
            self._on_column_answer(turn, text)
            return
        if turn.state in (GENERATING, PREVIEWING):
            await self._while_busy(turn, text)
            return
        await self._on_order_text(turn, text, interp)

    def _typed_choice(self, turn: Turn, text: str) -> Choice | None:
        offered = [Choice(*c) for c in turn.data.get("offered", [])]
        if not offered:
            return None
        folded = _fold(text)
        for choice in offered:
            if _fold(choice.label) == folded:
                return choice
        if text.isdigit():
            number = int(text)
            if 1 <= number <= len(offered):
                return offered[number - 1]
        return None

    def _note_language(self, turn: Turn, text: str) -> None:
        interp = intake.interpret(text)
        if interp.language_detected:
            turn.lang = m.normalise_language(interp.language)

    # --- commands ----------------------------------------------------------------------------

    async def _on_command(self, turn: Turn, text: str) -> None:
        command = text.split()[0].lower().split("@")[0]  # Telegram appends @botname in groups
        rest = text[len(text.split()[0]):].strip()
        if rest:
            self._note_language(turn, rest)
        if command in ("/new", "/start"):
            await self._cancel_running(turn, silent=True)
            turn.state, turn.data = START, {"greeted": True}
            turn.say("welcome" if command == "/start" else "new_order")
            await self._tell_model(turn)
            if rest:
                await self._on_order_text(turn, rest, intake.interpret(rest, self._draft(turn)))
            else:
                self._ask_next(turn)
        elif command == "/help":
            turn.data["greeted"] = True
            turn.say("help")
            await self._tell_model(turn)
        elif command == "/status":
            await self._status(turn)
        elif command == "/cancel":
            if await self._cancel_running(turn):
                return
            if turn.data.get("draft") or turn.data.get("upload"):
                self._drop_order(turn)
            else:
                turn.say("nothing_to_cancel")
        else:
            turn.say("unknown_command", command=command)

    async def _status(self, turn: Turn) -> None:
        assert self.store is not None
        job_ids = [j for j in (turn.data.get("job"), turn.data.get("preview_job")) if j]
        for job_id in job_ids:
            job = await asyncio.to_thread(self.store.get_job, job_id)
            if job is None:
                continue
            done, total = await self._job_counts(job_id, job)
            turn.say(
                "status_job",
                job=job_id,
                kind=turn.t(f"job_kind_{job.kind}"),
                status=turn.t(f"job_status_{job.status}"),
                done=done,
                total=total,
            )
        draft = self._draft(turn)
        if not turn.data.get("draft") and not job_ids:
            turn.say("status_empty")
            return
        missing = self._missing(turn)
        if missing:
            turn.say("status_draft", summary=_summary(draft, turn.lang),
                     missing=", ".join(turn.t(f"field_{f}") if f"field_{f}" in m.TEXTS else f for f in missing))
        elif turn.state not in (GENERATING,):
            turn.say("status_ready", summary=_summary(draft, turn.lang))

    async def _cancel_running(self, turn: Turn, *, silent: bool = False) -> bool:
        """Cancel this conversation's running job (dataset first, else preview)."""
        for key in ("job", "preview_job"):
            job_id = turn.data.get(key)
            task = self._tasks.get(job_id) if job_id else None
            if task is not None and not task.done():
                self._user_cancelled.add(job_id)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                if key == "job":
                    turn.state = RATING if turn.data.get("preview_items") else CONFIRM
                    if not silent:
                        self._offer_next_step(turn, turn.t("job_cancelled", job=job_id))
                else:
                    turn.data.pop("preview_job", None)
                    turn.state = CONFIRM
                    if not silent:
                        turn.say("job_cancelled", job=job_id)
                        self._show_summary(turn, intro=False)
                return True
        return False

    def _drop_order(self, turn: Turn) -> None:
        turn.state = START
        turn.data = {"greeted": True}
        turn.say("order_cancelled")

    # --- buttons -----------------------------------------------------------------------------

    async def _on_button(self, turn: Turn, action: str, value: str) -> None:
        if action in ("up", "down"):
            if not value.isdigit():
                turn.say("no_preview")
                return
            self._rate_example(turn, int(value), action)
            return
        if action == "canceljob":
            if not await self._cancel_running(turn):
                turn.say("nothing_to_cancel")
            return
        if action == "task":
            self._apply_changes(turn, _preset_changes(value))
            if value == "custom":
                turn.data["asking"] = "labels"
                turn.state = COLLECTING
                self._offer(turn, ())
                turn.say("custom_labels_prompt")
                return
            await self._advance(turn)
            return
        if action == "set":
            name, _, raw = value.partition("=")
            if name == "language" and raw == "other":
                turn.data["asking"] = "language_other"
                turn.state = COLLECTING
                self._offer(turn, ())
                turn.say("other_language_prompt")
                return
            if name not in ("count", "language", "tone", "format", "topic") or (name == "count" and not raw.isdigit()):
                turn.say("stale_button")
                self._reask(turn)
                return
            self._apply_changes(turn, {name: int(raw) if name == "count" else raw})
            await self._advance(turn)
            return
        if action in ("preview", "newpreview"):
            await self._start_preview(turn)
            return
        if action == "change":
            turn.state = CONFIRM if not self._missing(turn) else COLLECTING
            self._offer(turn, ())
            turn.say("change_prompt")
            return
        if action == "cancel":
            await self._cancel_running(turn, silent=True)
            self._drop_order(turn)
            return
        if action == "generate":
            await self._start_dataset(turn)
            return
        if action == "balance":
            self._accept_balance(turn)
            await self._advance(turn)
            return
        turn.say("stale_button")
        self._reask(turn)

    # --- collecting the order ----------------------------------------------------------------

    def _draft(self, turn: Turn) -> Any:
        return _load_draft(turn.data.get("draft"))

    def _apply_changes(self, turn: Turn, changes: dict[str, Any]) -> None:
        draft = _apply(self._draft(turn), intake.Interpretation(changes=changes, language=turn.lang))
        turn.data["draft"] = _dump_draft(draft)

    async def _on_order_text(self, turn: Turn, text: str, interp: Any) -> None:
        draft = self._draft(turn)
        if turn.state in (START, DONE) and _has_changes(interp):
            fresh = _apply(_load_draft(None), interp)
            if not fresh.required_missing():
                # A complete new order, not a correction of the last one: start clean.
                turn.data = {"greeted": turn.data.get("greeted", False)}
                draft = _load_draft(None)
        if turn.state != RATING and interp.yes is None:
            # After a preview, free text is feedback unless the rules see a change; a bare yes/no
            # needs no extraction either. The small embedded model invents fields the user never
            # said (a topic "polish" for the seed prompt), so only a served model extracts.
            llm = await self._get_llm()
            if llm is not None and not llm.is_local:
                try:
                    # A slow server must not hold up the answer: past the limit, the rules decide alone.
                    extracted = await asyncio.wait_for(intake.extract_with_llm(llm, text, draft), EXTRACTION_TIMEOUT)
                except asyncio.TimeoutError:
                    log.warning("LLM extraction took over %s s; using the rules alone", EXTRACTION_TIMEOUT)
                    extracted = {}
                if extracted:
                    interp = intake.merge_llm(interp, extracted)
        understood = _has_changes(interp)
        if understood:
            turn.data["draft"] = _dump_draft(_apply(draft, interp))
            if turn.state == UPLOAD_OFFER and turn.data.get("upload"):
                await self._retarget_upload(turn, interp)
                return
            await self._advance(turn)
            return
        if interp.yes is True:
            if turn.state == CONFIRM:
                await self._start_preview(turn)
            elif turn.state == RATING:
                await self._start_dataset(turn)
            elif turn.state == UPLOAD_OFFER and turn.data.get("upload_plan"):
                self._accept_balance(turn)
                await self._advance(turn)
            elif turn.state == START:
                turn.say("yes_without_order")
                self._ask_next(turn)
            else:
                self._reask(turn)
            return
        if interp.yes is False and turn.state in (CONFIRM, RATING):
            self._offer(turn, ())
            turn.say("change_prompt")
            return
        if turn.state == RATING:
            self._add_feedback(turn, text)
            return
        if text.lstrip("+-").isdigit() and turn.data.get("offered"):
            turn.say("choice_out_of_range", number=text, last=len(turn.data["offered"]))
            self._reask(turn)
            return
        # A greeting or small talk before any order gets the introduction, not a complaint.
        turn.say("welcome" if turn.state == START and not turn.data.get("draft") else "not_understood")
        self._reask(turn)

    async def _advance(self, turn: Turn) -> None:
        """After a change: ask the next missing thing, else show the summary."""
        if self._missing(turn):
            self._ask_next(turn)
            return
        try:
            self._draft(turn).to_spec(self.settings.max_count, lang=turn.lang)
        except SpecError as exc:
            turn.state = COLLECTING
            turn.data.pop("asking", None)
            turn.say("spec_problem", error=str(exc))
            self._offer(turn, ())
            turn.say("change_prompt")
            return
        self._show_summary(turn)

    def _missing(self, turn: Turn) -> list[str]:
        """What to ask next. Tone has a default and is only asked while the order is being
        given piece by piece anyway (a whole order in one message must go straight to the summary)."""
        draft = self._draft(turn)
        missing = list(draft.missing())
        if missing and draft.tone is None and not turn.data.get("tone_asked"):
            missing.insert(missing.index("format") if "format" in missing else len(missing), "tone")
        return missing

    def _ask_next(self, turn: Turn) -> None:
        missing = self._missing(turn)
        if not missing:
            self._show_summary(turn)
            return
        field_name = missing[0]
        if field_name == "tone":
            turn.data["tone_asked"] = True
        turn.data["asking"] = field_name
        turn.state = COLLECTING
        question, choices = self._question(turn, field_name)
        self._offer(turn, choices)
        turn.replies.append(Say(question, choices))

    def _question(self, turn: Turn, field_name: str) -> tuple[str, tuple[Choice, ...]]:
        lang = turn.lang
        choices: list[Choice] = []
        default: str | None = None
        if field_name == "task":
            choices = [Choice(self._text(lang, f"task_{key}"), "task", key) for key in TASK_PRESET_ORDER]
        elif field_name == "count":
            choices = [Choice(str(n), "set", f"count={n}") for n in COUNT_CHOICES]
        elif field_name == "language":
            default = "Polish" if lang == "pl" else "English"  # the language the user writes in
            values = [default] + [v for v in LANGUAGE_CHOICES if v != default]
            choices = [Choice(self._text(lang, f"lang_{v}"), "set", f"language={v}") for v in values]
            choices.append(Choice(self._text(lang, "btn_other"), "set", "language=other"))
        elif field_name == "topic":
            choices = [Choice(self._text(lang, "btn_any_topic"), "set", "topic=")]
        elif field_name == "tone":
            default = TONE_CHOICES[0]
            choices = [Choice(self._text(lang, f"tone_{v}"), "set", f"tone={v}") for v in TONE_CHOICES]
        elif field_name == "format":
            default = FORMAT_CHOICES[0]
            choices = [Choice(v.upper(), "set", f"format={v}") for v in FORMAT_CHOICES]
        key = f"ask_{field_name}"
        question = self._text(lang, key) if key in m.TEXTS else self._text(lang, "ask_generic", field=field_name)
        if default is not None:
            # The default is the first option, so typing "1" takes it.
            question += " " + self._text(lang, "default_hint", value=choices[0].label)
        return question, tuple(choices)

    def _reask(self, turn: Turn) -> None:
        """Repeat where we are, so the user always sees what they can do next."""
        if turn.state in (START, COLLECTING):
            self._ask_next(turn)
        elif turn.state == CONFIRM:
            self._show_summary(turn, intro=False)
        elif turn.state in (RATING, DONE, UPLOAD_OFFER, UPLOAD_COLUMNS, GENERATING, PREVIEWING):
            offered = tuple(Choice(*c) for c in turn.data.get("offered", []))
            if offered:
                turn.replies.append(Say(turn.t("pick_option"), offered))

    def _show_summary(self, turn: Turn, *, intro: bool = True) -> None:
        draft = self._draft(turn)
        turn.state = CONFIRM
        turn.data.pop("asking", None)
        lines = ([turn.t("summary_intro")] if intro else []) + [_summary(draft, turn.lang)]
        upload = turn.data.get("upload")
        if upload:
            have: dict[str, int] = upload["counts"]
            new = draft.label_counts or {}
            totals = {label: have.get(label, 0) + new.get(label, 0) for label in [*have, *(k for k in new if k not in have)]}
            lines.append(turn.t(
                "summary_upload",
                rows=len(upload["rows"]),
                uploaded=_per_label(have),
                totals=_per_label(totals),
            ))
        kept = [r for r in turn.data.get("ratings", {}).values() if r["kind"] == "up"]
        if kept:
            lines.append(turn.t("summary_kept", n=len(kept)))
        if turn.data.get("feedback"):
            lines.append(turn.t("summary_feedback", items="; ".join(f"“{f}”" for f in turn.data["feedback"])))
        turn.replies.append(Say("\n".join(lines), self._summary_choices(turn)))

    def _summary_choices(self, turn: Turn) -> tuple[Choice, ...]:
        choices = [Choice(turn.t("btn_preview"), "preview")]
        if turn.data.get("preview_items"):
            choices.append(Choice(turn.t("btn_generate_all"), "generate"))
        choices += [Choice(turn.t("btn_change"), "change"), Choice(turn.t("btn_cancel"), "cancel")]
        self._offer(turn, tuple(choices))
        return tuple(choices)

    def _offer(self, turn: Turn, choices: tuple[Choice, ...]) -> None:
        turn.data["offered"] = [[c.label, c.action, c.value] for c in choices]

    def _offer_next_step(self, turn: Turn, text: str) -> None:
        """`text`, then what the user can do now: the preview's buttons, or the summary's."""
        if turn.state == RATING:
            turn.replies.append(Say(text, self._after_preview_choices(turn)))
        else:
            turn.replies.append(Say(text))
            self._show_summary(turn, intro=False)

    async def _tell_model(self, turn: Turn) -> None:
        llm = await self._get_llm()
        if llm is None:
            if self._llm_error:
                turn.say("llm_unavailable", error=self._llm_error)
            return
        turn.say("model_info", model=llm.description)
        if llm.is_local:
            turn.say("local_warning")

    async def _while_busy(self, turn: Turn, text: str) -> None:
        if turn.state == PREVIEWING:
            turn.say("preview_busy")
            return
        job_id = turn.data.get("job")
        done, total = await self._job_counts(job_id) if job_id else (0, 0)
        turn.say("busy_generating", job=job_id, done=done, total=total)

    # --- LLM and engine ----------------------------------------------------------------------

    async def _get_llm(self) -> LLMBackend | None:
        if self.llm is not None:
            return self.llm
        if self._llm_error is not None:
            return None
        async with self._llm_lock:
            if self.llm is None and self._llm_error is None:
                try:
                    # The embedded model takes seconds to load: keep the event loop free meanwhile.
                    self.llm = await asyncio.to_thread(make_backend, self.settings)
                except Exception as exc:
                    log.exception("no LLM backend")
                    self._llm_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return self.llm

    async def _get_generator(self) -> Generator:
        if self._generator is None:
            llm = await self._get_llm()
            if llm is None:
                raise RuntimeError(self._llm_error or "no LLM backend")
            assert self.store is not None
            self._generator = Generator(llm, self.store, self.settings)
        return self._generator

    def _guidance(self, turn: Turn, spec: DatasetSpec, *, for_preview: bool) -> Guidance:
        columns = set(spec.columns)
        labels = set(spec.labels)
        ratings = turn.data.get("ratings", {})

        def fits(fields: dict[str, str]) -> bool:
            # Ratings made before the order changed (another task or label set) no longer apply.
            if set(fields) != columns:
                return False
            return not labels or fields.get("label") in labels

        ups = [r["fields"] for r in ratings.values() if r["kind"] == "up" and fits(r["fields"])]
        downs = [r["fields"] for r in ratings.values() if r["kind"] == "down" and fits(r["fields"])]
        uploaded = [row for row in (turn.data.get("upload") or {}).get("rows", []) if fits(row)]
        few_shot = ups + _sample_per_label(uploaded, FEW_SHOT_PER_LABEL)
        keep: list[dict[str, str]] = []
        if not for_preview:
            quotas = spec.quotas()
            used: Counter[str] = Counter()
            for row in ups:
                bucket = row.get("label", "") if labels else ""
                if used[bucket] < quotas.get(bucket, 0):
                    used[bucket] += 1
                    keep.append(row)
        return Guidance(
            few_shot=few_shot,
            avoid=downs,
            feedback=list(turn.data.get("feedback", [])),
            keep=keep,
            existing=[] if for_preview else uploaded,
        )

    def _preview_spec(self, spec: DatasetSpec) -> DatasetSpec:
        data = spec.model_dump(mode="json", exclude_none=True)
        if spec.task == TaskType.classification:
            size = max(PREVIEW_SIZE, len(spec.labels))
            data["label_counts"] = split_evenly(size, list(spec.labels))
            data["count"] = size
        else:
            data["count"] = min(PREVIEW_SIZE, spec.count or PREVIEW_SIZE)
            data.pop("label_counts", None)
        data["format"] = spec.format.value
        return DatasetSpec.from_data(data, max_count=max(self.settings.max_count, PREVIEW_SIZE * 10))

    async def _start_preview(self, turn: Turn) -> None:
        spec = self._spec_or_explain(turn)
        if spec is None:
            return
        if turn.data.get("preview_job") and self._is_running(turn.data["preview_job"]):
            turn.say("preview_busy")
            return
        try:
            generator = await self._get_generator()
        except RuntimeError as exc:
            turn.say("llm_unavailable", error=str(exc))
            return
        preview_spec = self._preview_spec(spec)
        guidance = self._guidance(turn, spec, for_preview=True)
        job_id = await asyncio.to_thread(
            generator.create_job, preview_spec, guidance, kind="preview", conversation_id=turn.conversation_id
        )
        turn.data["preview_job"] = job_id
        turn.data.pop("asking", None)
        turn.state = PREVIEWING
        self._offer(turn, ())
        turn.say("preview_working", n=preview_spec.count)
        self._spawn(job_id, self._run_preview(turn.chat, job_id))

    async def _start_dataset(self, turn: Turn) -> None:
        spec = self._spec_or_explain(turn)
        if spec is None:
            return
        if turn.data.get("job") and self._is_running(turn.data["job"]):
            await self._while_busy(turn, "")
            return
        try:
            generator = await self._get_generator()
        except RuntimeError as exc:
            turn.say("llm_unavailable", error=str(exc))
            return
        guidance = self._guidance(turn, spec, for_preview=False)
        job_id = await asyncio.to_thread(self._resumable_job, turn.data.get("job"), spec, guidance)
        if job_id is None:
            job_id = await asyncio.to_thread(
                generator.create_job, spec, guidance, kind="dataset", conversation_id=turn.conversation_id
            )
        turn.data["job"] = job_id
        turn.data.pop("asking", None)
        turn.state = GENERATING
        cancel = (Choice(turn.t("btn_cancel"), "canceljob", str(job_id)),)
        self._offer(turn, cancel)
        total = sum(spec.quotas().values())
        turn.say("generate_ack", total=total, job=job_id)
        self._spawn(job_id, self._run_dataset(turn.chat, job_id))

    def _resumable_job(self, job_id: int | None, spec: DatasetSpec, guidance: Guidance) -> int | None:
        """The stopped or failed job of this very order (`job_id`, the conversation's last one), so
        Generate all continues it instead of starting over (its rows are kept). Blocking: call in a thread."""
        assert self.store is not None
        job = self.store.get_job(job_id) if job_id else None
        if job is None or job.status not in ("cancelled", "failed"):
            return None
        same_spec = DatasetSpec.model_validate_json(job.spec_json, context={"max_count": 10**12}) == spec
        same_guidance = job.guidance_json == guidance.model_dump_json()
        return job_id if same_spec and same_guidance else None

    def _spec_or_explain(self, turn: Turn) -> DatasetSpec | None:
        draft = self._draft(turn)
        if self._missing(turn):
            self._ask_next(turn)
            return None
        try:
            return draft.to_spec(self.settings.max_count, lang=turn.lang)
        except SpecError as exc:
            turn.say("spec_problem", error=str(exc))
            turn.state = COLLECTING
            self._offer(turn, ())
            turn.say("change_prompt")
            return None

    def _spawn(self, job_id: int, coro: Awaitable[None]) -> None:
        task = asyncio.create_task(coro, name=f"job-{job_id}")  # type: ignore[arg-type]
        task.add_done_callback(_log_task_failure)
        self._tasks[job_id] = task

    def _is_running(self, job_id: int) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    async def _job_counts(self, job_id: int, job: Any = None) -> tuple[int, int]:
        return await asyncio.to_thread(self._job_counts_now, job_id, job)

    def _job_counts_now(self, job_id: int, job: Any = None) -> tuple[int, int]:
        """(rows made, rows ordered); uploaded rows don't count. Blocking: call in a thread."""
        assert self.store is not None
        job = job or self.store.get_job(job_id)
        if job is None:
            return 0, 0
        spec = DatasetSpec.model_validate_json(job.spec_json, context={"max_count": 10**12})
        total = sum(spec.quotas().values())
        done = sum(self.store.accepted_counts(job_id).values())  # counted by the database, not row by row
        return min(done, total), total

    # --- background work ---------------------------------------------------------------------

    async def _run_preview(self, chat: ChatRef, job_id: int) -> None:
        assert self.store is not None
        try:
            generator = await self._get_generator()
            result = await generator.run(job_id)
        except JobClaimedElsewhere as exc:  # another replica or worker runs it and will answer
            log.info("preview job %s: %s", job_id, exc)
            return
        except asyncio.CancelledError:
            if job_id in self._user_cancelled:
                return
            self._requeue(job_id)
            raise
        except Exception as exc:
            log.exception("preview job %s crashed", job_id)
            result = None
            error = str(exc) or type(exc).__name__
        else:
            error = result.error or ""
        rows = await asyncio.to_thread(self.store.accepted_rows, job_id, sources=("synthetic",))

        def show(turn: Turn) -> None:
            if turn.data.get("preview_job") != job_id:
                return  # superseded by a newer preview or a new order
            if result is None or result.status != "done" or not rows:
                turn.state = CONFIRM
                turn.say("preview_failed", error=error or "no rows")
                self._show_summary(turn, intro=False)
                return
            items = {str(number): row.id for number, row in enumerate(rows, 1)}
            turn.data["preview_items"] = items
            # Rows of earlier previews stay rateable: their buttons are still on the user's screen.
            turn.data["preview_rows"] = {**turn.data.get("preview_rows", {}), **{str(row.id): row.fields for row in rows}}
            turn.state = RATING
            choices = self._after_preview_choices(turn)
            preview_items = tuple(
                PreviewItem(
                    example_id=row.id,
                    number=number,
                    text=_row_text(row.fields),
                    choices=(Choice("👍", "up", str(row.id)), Choice("👎", "down", str(row.id))),
                )
                for number, row in enumerate(rows, 1)
            )
            turn.replies.append(Preview(turn.t("preview_intro", n=len(rows)), preview_items, choices))

        for reply in await self._update_later(chat, show):
            await self._send(chat, reply)

    def _after_preview_choices(self, turn: Turn) -> tuple[Choice, ...]:
        choices = (
            Choice(turn.t("btn_generate_all"), "generate"),
            Choice(turn.t("btn_new_preview"), "newpreview"),
            Choice(turn.t("btn_cancel"), "cancel"),
        )
        self._offer(turn, choices)
        return choices

    async def _run_dataset(self, chat: ChatRef, job_id: int) -> None:
        assert self.store is not None
        lang = m.normalise_language(None)
        throttle = ProgressThrottle(self.settings.progress_interval)
        cancel: tuple[Choice, ...] = ()

        async def report(progress: JobProgress) -> None:
            text = self._text(
                lang,
                "progress_running",
                job=job_id,
                done=progress.done,
                total=progress.total,
                percent=_percent(progress.done, progress.total),
                rejected=progress.rejected,
                duplicates=progress.duplicates,
            )
            if throttle.should_send(text):
                await self._send(chat, Progress(job_id, text, progress.done, progress.total, False, cancel))

        try:
            lang = await self._language_of(chat)
            cancel = (Choice(self._text(lang, "btn_cancel"), "canceljob", str(job_id)),)
            done0, total0 = await self._job_counts(job_id)
            # At once, so the user sees the job (and its Cancel button) before the first batch returns.
            text = self._text(lang, "progress_running", job=job_id, done=done0, total=total0,
                              percent=_percent(done0, total0), rejected=0, duplicates=0)
            throttle.should_send(text, final=True)
            await self._send(chat, Progress(job_id, text, done0, total0, False, cancel))
            generator = await self._get_generator()
            result = await generator.run(job_id, report)
        except JobClaimedElsewhere as exc:  # another replica or worker runs it and will answer
            log.info("job %s: %s", job_id, exc)
            return
        except asyncio.CancelledError:
            if job_id in self._user_cancelled:
                # Cancelled before the engine ran it, the job is still "pending": a restart must not resume it.
                await asyncio.to_thread(self._mark_cancelled, job_id)
                done, total = await self._job_counts(job_id)
                text = self._text(lang, "progress_cancelled", job=job_id, done=done, total=total)
                await self._send(chat, Progress(job_id, text, done, total, True))
                return
            self._requeue(job_id)
            raise
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            await self._finish_failed(chat, job_id, str(exc) or type(exc).__name__)
            return
        if result.status != "done":
            await self._finish_failed(chat, job_id, result.error or result.status)
            return
        try:
            await self._deliver(chat, job_id, result)
        except Exception:  # the rows are stored; /status and Generate all can still get the file
            log.exception("delivering job %s failed", job_id)
            await self._send(chat, Say(self._text(lang, "internal_error")))

    async def _finish_failed(self, chat: ChatRef, job_id: int, error: str) -> None:
        lang = await self._language_of(chat)
        done, total = await self._job_counts(job_id)
        await self._send(chat, Progress(job_id, self._text(lang, "progress_failed", job=job_id, error=error), done, total, True))

        def after(turn: Turn) -> None:
            if turn.data.get("job") != job_id:
                return
            turn.state = RATING if turn.data.get("preview_items") else CONFIRM
            self._offer_next_step(turn, turn.t("job_failed", error=error))

        for reply in await self._update_later(chat, after):
            await self._send(chat, reply)

    async def _deliver(self, chat: ChatRef, job_id: int, result: JobResult) -> None:
        assert self.store is not None
        lang = await self._language_of(chat)
        job = await asyncio.to_thread(self.store.get_job, job_id)
        assert job is not None
        spec = DatasetSpec.model_validate_json(job.spec_json, context={"max_count": 10**12})
        done, total = await self._job_counts(job_id, job)
        await self._send(chat, Progress(job_id, self._text(lang, "progress_done", job=job_id, done=done, total=total), done, total, True))
        filename = f"dataset-{job_id}.{FILE_SUFFIX[spec.format]}"
        delivery = await asyncio.to_thread(render_delivery, self.store, job_id, spec.format, filename)
        data, card, rows = delivery.data, delivery.card, delivery.rows
        per_label = Counter(row.label or "rows" for row in rows)
        sources = Counter(row.source for row in rows)
        caption = self._text(
            lang,
            "caption",
            filename=filename,
            rows=len(rows),
            per_label=_per_label(dict(per_label)),
            rejected=sum(result.rejected.values()),
            duplicates=result.duplicates,
            tokens=f"{result.prompt_tokens + result.completion_tokens:,}",
        )
        if sources.get("uploaded"):
            caption += " " + self._text(lang, "caption_sources", sources=", ".join(f"{s}: {n}" for s, n in sources.items()))
        await self._send(chat, Document(filename, data, caption, MIME_TYPE[spec.format]))
        await self._send(
            chat, Document(f"dataset-{job_id}.card.md", card.encode("utf-8"), self._text(lang, "card_caption"), "text/markdown")
        )

        def after(turn: Turn) -> None:
            if turn.data.get("job") != job_id:
                return
            turn.state = DONE
            turn.data["delivered"] = job_id
            self._offer(turn, ())
            turn.say("after_delivery")

        for reply in await self._update_later(chat, after):
            await self._send(chat, reply)

    async def _language_of(self, chat: ChatRef) -> str:
        assert self.store is not None
        conversation = await asyncio.to_thread(self.store.find_conversation, self.channel, chat.conversation)
        return m.normalise_language(conversation.language if conversation else None)

    # --- resuming after a restart ------------------------------------------------------------

    async def _resume_jobs(self) -> None:
        assert self.store is not None
        for job in self.store.unfinished_jobs():
            if job.conversation_id is None or job.id is None:
                continue
            conversation = self.store.get_conversation(job.conversation_id)
            if conversation is None or conversation.channel != self.channel:
                continue
            if self.store.is_claimed(job.id):  # a live process (another replica, a worker) has it
                continue
            data = json.loads(conversation.data_json or "{}")
            chat = ChatRef(conversation.external_id, conversation.user_id)
            lang = m.normalise_language(conversation.language)
            if job.kind == "preview":
                if data.get("preview_job") == job.id:
                    self._spawn(job.id, self._run_preview(chat, job.id))
                continue
            if data.get("job") != job.id:
                continue
            done, total = await self._job_counts(job.id, job)
            await self._send(chat, Say(self._text(lang, "resumed", job=job.id, done=done, total=total)))
            self._spawn(job.id, self._run_dataset(chat, job.id))

    def _mark_cancelled(self, job_id: int) -> None:
        assert self.store is not None
        job = self.store.get_job(job_id)
        if job is not None and job.status == "pending":
            self.store.update_job(job_id, status="cancelled")

    def _requeue(self, job_id: int) -> None:
        """A job stopped by shutdown or Ctrl-C (not by the user's Cancel) must stay resumable: the
        engine marks every cancelled job "cancelled", so put it back to "pending"."""
        assert self.store is not None
        job = self.store.get_job(job_id)
        if job is not None and job.status == "cancelled":
            self.store.update_job(job_id, status="pending", finished_at=None)

    # --- preview ratings and feedback --------------------------------------------------------

    def _rate_number(self, turn: Turn, number: int, kind: str) -> None:
        example_id = turn.data.get("preview_items", {}).get(str(number))
        if example_id is None:
            turn.say("rating_unknown", number=number)
            return
        self._rate_example(turn, int(example_id), kind)

    def _rate_example(self, turn: Turn, example_id: int, kind: str) -> None:
        assert self.store is not None
        fields = turn.data.get("preview_rows", {}).get(str(example_id))
        if fields is None:
            turn.say("no_preview")
            return
        number = next((n for n, i in turn.data.get("preview_items", {}).items() if i == example_id), "?")
        turn.data.setdefault("ratings", {})[str(example_id)] = {"kind": kind, "fields": fields}
        turn.feedback.append((kind, "", example_id))
        turn.say("rated_up" if kind == "up" else "rated_down", number=number)

    def _offer_after_rating(self, turn: Turn) -> None:
        if turn.state == RATING:
            self._after_preview_choices(turn)

    def _add_feedback(self, turn: Turn, text: str) -> None:
        assert self.store is not None
        turn.data.setdefault("feedback", []).append(text)
        turn.feedback.append(("text", text, None))
        choices = self._after_preview_choices(turn)
        turn.replies.append(Say(turn.t("feedback_noted", feedback=text), choices))

    # --- uploads -----------------------------------------------------------------------------

    async def _on_upload(self, turn: Turn, upload: FileUpload) -> None:
        try:
            table = parse_upload(upload.filename, upload.data, self.settings.max_upload_bytes)
        except UploadError as exc:
            values = dict(exc.values)
            if exc.key == "upload_too_big":
                values["size"] = m.human_size(int(values["size"]))  # type: ignore[arg-type]
                values["limit"] = m.human_size(int(values["limit"]))  # type: ignore[arg-type]
            turn.say(exc.key, **values)
            return
        columns = table.guess_columns()
        if columns is None:
            turn.data["pending_upload"] = {"filename": table.filename, "columns": table.columns, "records": table.records}
            turn.state = UPLOAD_COLUMNS
            self._offer(turn, ())
            turn.say("upload_ask_columns", filename=table.filename, columns=", ".join(table.columns))
            return
        self._accept_table(turn, table, *columns)

    def _on_column_answer(self, turn: Turn, text: str) -> None:
        pending = turn.data.get("pending_upload") or {}
        table = ParsedTable(pending.get("filename", "file"), pending.get("columns", []), pending.get("records", []))
        named = {k.lower(): v for k, v in COLUMNS_RE.findall(text)}
        if not named:
            parts = [p for p in re.split(r"[,;\s]+", text) if p]
            if len(parts) == 2:
                named = {"text": parts[0], "label": parts[1]}
        text_column = table.resolve_column(named.get("text", ""))
        label_column = table.resolve_column(named.get("label", ""))
        if text_column is None or label_column is None or text_column == label_column:
            turn.say("upload_bad_columns", columns=", ".join(table.columns))
            return
        turn.data.pop("pending_upload", None)
        self._accept_table(turn, table, text_column, label_column)

    def _accept_table(self, turn: Turn, table: ParsedTable, text_column: str, label_column: str) -> None:
        try:
            labeled = LabeledRows.from_table(table, text_column, label_column)
        except UploadError as exc:
            turn.state = START if not turn.data.get("draft") else turn.state
            turn.say(exc.key, **exc.values)
            return
        turn.data.pop("pending_upload", None)
        turn.data["upload"] = {"filename": labeled.filename, "rows": labeled.rows, "counts": labeled.counts}
        skipped = turn.t("upload_skipped", n=labeled.skipped) if labeled.skipped else ""
        turn.say(
            "upload_report",
            rows=len(labeled.rows),
            filename=labeled.filename,
            per_label=_per_label(labeled.counts),
            skipped=skipped,
        )
        if len(labeled.counts) < 2:
            turn.state = UPLOAD_OFFER
            self._offer(turn, ())
            only = next(iter(labeled.counts))
            turn.say("upload_one_label", rows=len(labeled.rows), filename=labeled.filename, label=only)
            return
        # The upload defines the labels; earlier counts for other labels no longer mean anything.
        draft = self._draft(turn).model_copy(
            update={"task": TaskType.classification, "labels": list(labeled.counts), "label_counts": None,
                    "label_shares": None, "count": None}
        )
        turn.data["draft"] = _dump_draft(draft)
        self._offer_plan(turn, labeled.lacking_to_balance(), balanced_key="upload_balanced")

    def _offer_plan(self, turn: Turn, lacking: dict[str, int], *, balanced_key: str) -> bool:
        total = sum(lacking.values())
        turn.state = UPLOAD_OFFER
        if total == 0:
            turn.data.pop("upload_plan", None)
            self._offer(turn, ())
            turn.say(balanced_key)
            return False
        turn.data["upload_plan"] = lacking
        plan = ", ".join(f"{n} {label}" for label, n in lacking.items() if n)
        choices = (Choice(turn.t("btn_balance", total=total), "balance"), Choice(turn.t("btn_cancel"), "cancel"))
        self._offer(turn, choices)
        turn.replies.append(Say(turn.t("upload_offer", plan=plan, total=total), choices))
        return True

    async def _retarget_upload(self, turn: Turn, interp: Any) -> None:
        """After an upload the user named counts: generate what each label lacks to reach them.
        Any other change (tone, language...) just updates the order and repeats the offer."""
        upload = turn.data["upload"]
        counts: dict[str, int] = dict(upload["counts"])
        draft = self._draft(turn)
        labels = list(getattr(draft, "labels", None) or counts)
        changes = getattr(interp, "changes", {}) or {}
        targets: dict[str, int] | None = None
        if changes.get("label_counts"):
            targets = {str(k): int(v) for k, v in changes["label_counts"].items()}
        elif changes.get("count"):
            targets = split_evenly(int(changes["count"]), labels)
        if targets is None:
            self._offer_plan(turn, turn.data.get("upload_plan") or {}, balanced_key="upload_balanced")
            return
        for label in targets:
            counts.setdefault(label, 0)
        lacking = {label: max(0, targets.get(label, 0) - n) for label, n in counts.items()}
        if sum(lacking.values()) == 0:
            turn.say("upload_target_reached")
            return
        turn.data["upload_plan"] = lacking
        self._accept_balance(turn)
        await self._advance(turn)

    def _accept_balance(self, turn: Turn) -> None:
        plan = turn.data.get("upload_plan")
        if not plan:
            return
        self._apply_changes(
            turn, {"task": "classification", "labels": list(plan), "label_counts": dict(plan), "count": sum(plan.values())}
        )
        turn.state = COLLECTING


# --- helpers around the intake API ------------------------------------------------------------


def _load_draft(data: dict[str, Any] | None) -> Any:
    return intake.SpecDraft.model_validate(data or {})


def _dump_draft(draft: Any) -> dict[str, Any]:
    return draft.model_dump(mode="json")


def _apply(draft: Any, interp: Any) -> Any:
    result = intake.apply(draft, interp)
    return draft if result is None else result


def _summary(draft: Any, lang: str) -> str:
    return str(draft.summary(lang))


def _has_changes(interp: Any) -> bool:
    return bool(interp.changes or interp.add_labels or interp.remove_labels)


def _preset_changes(name: str) -> dict[str, Any]:
    return dict(intake.PRESETS.get(name, {}))


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())


def _per_label(counts: dict[str, int]) -> str:
    return ", ".join(f"{label}: {n}" for label, n in counts.items())


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold())


def _percent(done: int, total: int) -> int:
    return int(100 * done / total) if total else 100


def _row_text(fields: dict[str, str]) -> str:
    if set(fields) == {"text", "label"}:
        return f"{fields['text']}\n→ {fields['label']}"
    return "\n".join(f"{key}: {value}" for key, value in fields.items())


def _sample_per_label(rows: list[dict[str, str]], per_label: int) -> list[dict[str, str]]:
    by_label: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_label.setdefault(row.get("label", ""), []).append(row)
    rng = random.Random(len(rows))  # deterministic: the same upload gives the same prompts
    sample: list[dict[str, str]] = []
    for group in by_label.values():
        sample.extend(rng.sample(group, min(per_label, len(group))))
    return sample
