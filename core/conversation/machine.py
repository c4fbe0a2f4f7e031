"""The machine: load a chat's state, turn the event into a table key, run the handler, save.

Contract for channel adapters (bot/*.py):

    dialog = Dialog(channel="telegram", output=my_output_channel, settings=settings, open_store=Store.from_url)
    await dialog.start()                      # opens storage/LLM, resumes interrupted jobs
    await dialog.handle(ChatRef(...), Message("200 reviews, positive or negative"))
    await dialog.handle(ChatRef(...), ButtonPress("up", "17"))
    await dialog.handle(ChatRef(...), FileUpload("seed.csv", data))
    await dialog.wait_idle()                  # background jobs done (terminal end of input, tests)
    await dialog.aclose()

`handle` returns quickly: replies go to `output.send(chat, reply)`; long work (preview,
generation) runs in background tasks that push Progress and Document replies later. What each
phase accepts is in `core.conversation.table`; the state is `core.conversation.state`; loading, locking
and saving a chat is `core.conversation.persistence`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from core import messages as m
from core import stop_reasons
from core.conversation import background, commands, following, persistence, table
from core.conversation.classify import classify, is_internal, valid_unicode
from core.conversation.collecting import reask
from core.conversation.ports import ConversationStore
from core.conversation.reply_threads import blocking
from core.conversation.state import ConversationState, Phase
from core.conversation.turn import JobLost, Turn
from core.events import ChatRef, Event, OutputChannel, Reply, Say
from core.generator import Generator
from core.llm import BackendNotInstalled, LLMBackend, make_backend
from core.runner import JobRunner, make_runner
from core.settings import Settings

log = logging.getLogger(__name__)

READ_ONLY = ("/status", "/help")  # what anyone in a shared thread may do with someone else's order


class Dialog:
    def __init__(
        self,
        channel: str,
        output: OutputChannel,
        settings: Settings,
        store: ConversationStore | None = None,
        llm: LLMBackend | None = None,
        command_prefix: str = m.DEFAULT_COMMAND_PREFIX,
        open_store: Callable[[str], ConversationStore] | None = None,
    ) -> None:
        """`command_prefix`: how users type commands in this channel; every text that names one
        spells it so ("/" gives "/new"; Slack passes "" because it keeps "/..." for itself).
        `store`: the storage to use; or `open_store(database_url)` opens it at `start()` (in a worker
        thread), and the dialog closes it (the entry points pass `storage.Store.from_url`)."""
        if store is None and open_store is None:
            raise ValueError("a Dialog needs a store, or open_store to open one")
        self.channel = channel
        self.command_prefix = command_prefix
        self.output = output
        self.settings = settings
        self.store: ConversationStore = store  # type: ignore[assignment]  # None only until start()
        self._open_store = open_store
        self.llm = llm
        self.llm_error: str | None = None
        self.llm_install_command: str | None = None  # the chosen backend is not installed: how to add it
        self._owns_store = store is None
        self._owns_llm = llm is None
        self._generator: Generator | None = None
        self._runner: JobRunner | None = None  # where orders run: here, or on `datagen worker`s
        self._annotator: Any = None
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()  # only in use
        self._tasks: dict[int, asyncio.Task[None]] = {}  # job id -> its running task (finished ones dropped)
        self.user_cancelled: set[int] = set()
        # (phase, event key, next phase) -> times seen: bounded by the table's size; the tests check
        # every move is one the table declares (table.LEADS_TO), so the docs' diagram stays true.
        self.moves: Counter[tuple[Phase, str, Phase]] = Counter()
        self._started = False
        self._llm_lock = asyncio.Lock()
        self._following: asyncio.Task[None] | None = None  # the sweep for orders nobody follows

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open storage and resume this channel's interrupted jobs (their chats are told)."""
        if self._started:
            return
        self._started = True
        if self.store is None:
            assert self._open_store is not None
            self.store = await asyncio.to_thread(self._open_store, self.settings.database_url)
        if self.settings.llm_backend != "local":
            # Importing the OpenAI SDK takes ~0.4 s of CPU that a thread does not hide (the GIL):
            # pay it here, before the channel takes requests. The embedded model stays lazy.
            await self.get_llm()
        await background.resume_jobs(self)
        self._following = await following.start(self)  # orders on workers: follow those nobody follows

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
        await following.stop(self._following)
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)  # each puts its job back to "pending"
        if self._runner is not None:
            await self._runner.aclose()
            self._runner = None
        if self._owns_llm and self.llm is not None:
            try:
                await self.llm.aclose()
            except Exception:  # closing must not hide the real shutdown reason
                log.exception("closing the LLM backend failed")
            self.llm = None
        if self._owns_store and self.store is not None:
            self.store.close()
            self.store = None  # type: ignore[assignment]

    async def has_conversation(self, conversation: str) -> bool:
        """Whether this channel already talks in `conversation` (read-only), so an adapter can
        tell "a chat with us" from "not for us" after a restart."""
        if not self._started:
            await self.start()
        return await blocking(self.store.find_conversation, self.channel, conversation) is not None

    @property
    def running_jobs(self) -> list[int]:
        return [job_id for job_id, t in self._tasks.items() if not t.done()]

    # --- the entry points --------------------------------------------------------------------

    async def handle(self, chat: ChatRef, event: Event) -> None:
        """Handle one event of a user; replies go to the output channel. Never raises for bad input."""
        await self._run(chat, valid_unicode(event))

    async def post(self, chat: ChatRef, event: Any) -> None:
        """An internal event from a background job, through the same table, under the chat's lock."""
        await self._run(chat, event)

    async def _run(self, chat: ChatRef, event: Any) -> None:
        if not self._started:
            await self.start()
        internal = is_internal(event)
        async with self._locks.setdefault(chat.conversation, asyncio.Lock()):  # one event of a chat at a time
            turn: Turn | None = None
            try:
                chat_lock, conversation = await persistence.hold_chat(self, chat)
            except Exception:  # the database is unreachable: say so, change nothing
                log.exception("could not lock or load conversation %s", chat.conversation)
                await self.send(chat, Say(self.text("en", "internal_error")))
                return
            released = False
            try:
                turn = await persistence.load_turn(self, chat, conversation)
                await self._recover_lost_job(turn)
                await self._dispatch(turn, event)
                if not internal and not turn.state.greeted:
                    # First contact: say which model answers (and its limits) before anything else.
                    turn.state.greeted = True
                    answer, turn.replies = turn.replies, []
                    await commands.tell_model(turn)
                    turn.replies += answer
                released = True  # from here on the save gives the lock back, whatever happens
                await blocking(persistence.save_and_release, self.store, turn, chat_lock)
                replies = turn.replies
            except Exception:
                # One bad event must not kill the bot or leak a stack trace to the user.
                log.exception("event %r in conversation %s failed", type(event).__name__, chat.conversation)
                replies = [Say(self.text(turn.lang if turn else "en", "internal_error"))]
            finally:
                if not released:
                    await blocking(chat_lock.release)
        for reply in replies:
            await self.send(chat, reply)

    async def _dispatch(self, turn: Turn, event: Any) -> None:
        key, payload = classify(turn, event)
        if not self._may_act(turn, key):
            turn.say("not_your_order")
            return
        route = table.route(turn.state.phase, key)
        if route is None:
            if key in table.INTERNAL:
                return  # a job the conversation moved on from: nothing to do
            turn.state.phase = await self._stale(turn, payload)
            return
        if isinstance(route, table.Guarded):
            if not route.guard(turn, payload):
                turn.state.phase = await self._stale(turn, payload)
                return
            route = route.handler
        before = turn.state.phase
        turn.state.phase = await route(turn, payload)
        self.moves[(before, key, turn.state.phase)] += 1
        if turn.state.owner is None and turn.state.has_order and key not in table.INTERNAL:
            turn.state.owner = turn.chat.user  # whoever placed the order owns it

    def _may_act(self, turn: Turn, key: str) -> bool:
        """In a shared thread the order belongs to the person who placed it: others may look
        (/status, /help), not change or cancel it. Background jobs act for the owner."""
        owner = turn.state.owner
        if owner is None or key in table.INTERNAL or key in READ_ONLY or not turn.state.has_order:
            return True
        return turn.chat.user == owner

    async def _stale(self, turn: Turn, event: Any) -> Phase:
        """An event this phase does not accept (a button of an earlier step): say so, ask again, change nothing."""
        turn.say("stale_button")
        return reask(turn)

    async def _recover_lost_job(self, turn: Turn) -> None:
        """A chat "busy" with a job that no process runs (stopped while we were down and not
        resumed, e.g. cancelled) goes back to where the user can act, through the table. A job
        another replica generates (it holds the job's lease), or one waiting for or on a worker,
        is not lost: that replica or the workers finish it and the chat hears of it."""
        state = turn.state
        job_id = {Phase.generating: state.job, Phase.annotating: state.job, Phase.previewing: state.preview_job,
                  Phase.annotate_previewing: state.preview_job}.get(state.phase)
        if state.phase not in (Phase.generating, Phase.annotating, Phase.previewing, Phase.annotate_previewing) \
                or (job_id and self.is_running(job_id)):
            return
        if job_id and await blocking(self._runs_elsewhere, job_id):
            return
        await self._dispatch(turn, JobLost(job_id))

    def _runs_elsewhere(self, job_id: int) -> bool:
        if self.store.is_claimed(job_id):
            return True
        job = self.store.get_job(job_id)
        if job is None or job.kind == "preview" or self.job_runner().runs_here:
            return False
        # On a worker, or finished there with its file still to come from the replica following it.
        return job.status in ("pending", "running") or (job.kind == "dataset" and self.store.is_reported(job_id) is False)

    # --- services the handlers use (loading and saving a chat: core/conversation/persistence.py) -

    async def uploaded_rows(self, state: ConversationState) -> list[dict[str, str]]:
        """The labeled rows of the conversation's upload ([] without one)."""
        return await persistence.uploaded_rows(self.store, state)

    def text(self, lang: str | None, key: str, **values: object) -> str:
        return m.text(lang, key, command_prefix=self.command_prefix, **values)

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        try:
            await self.output.send(chat, reply)
        except Exception:  # a channel hiccup must not lose the job or the conversation state
            log.exception("sending a reply to %s failed", chat.conversation)

    async def get_llm(self) -> LLMBackend | None:
        if self.llm is not None:
            return self.llm
        if self.llm_error is not None:
            return None
        async with self._llm_lock:
            if self.llm is None and self.llm_error is None:
                try:
                    # The embedded model takes seconds to load: keep the event loop free meanwhile.
                    self.llm = await asyncio.to_thread(make_backend, self.settings)
                except Exception as exc:
                    log.exception("no LLM backend")
                    self.llm_error = stop_reasons.llm_stop(exc)  # tagged: said in the chat's language
                    if isinstance(exc, BackendNotInstalled):
                        self.llm_install_command = exc.install_command
        return self.llm

    async def get_generator(self) -> Generator:
        if self._generator is None:
            llm = await self.get_llm()
            if llm is None:
                raise RuntimeError(self.llm_error or "no LLM backend")
            self._generator = Generator(llm, self.store, self.settings)
        return self._generator

    async def get_annotator(self) -> Any:
        """The annotator of "label my rows" jobs (core/annotate.py), on the dialog's LLM and store."""
        if self._annotator is None:
            llm = await self.get_llm()
            if llm is None:
                raise RuntimeError(self.llm_error or "no LLM backend")
            from core.annotate import Annotator  # the labeling engine, only once someone labels

            self._annotator = Annotator(llm, self.store, self.settings)
        return self._annotator

    def job_runner(self) -> JobRunner:
        """Orders (not previews) run through this: in this process, or handed to the workers
        (DATAGEN_WORKERS=external) and followed here (core/runner.py)."""
        if self._runner is None:
            self._runner = make_runner(self.settings, self.store, self.get_generator)
        return self._runner

    def spawn(self, job_id: int, coro: Awaitable[None]) -> None:
        task = asyncio.create_task(coro, name=f"job-{job_id}")  # type: ignore[arg-type]
        task.add_done_callback(functools.partial(_finished, self._tasks, job_id))
        self._tasks[job_id] = task

    def run_preview(self, chat: ChatRef, job_id: int) -> Awaitable[None]:
        return background.run_preview(self, chat, job_id)

    def run_dataset(self, chat: ChatRef, job_id: int) -> Awaitable[None]:
        return background.run_dataset(self, chat, job_id)

    def is_running(self, job_id: int) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    async def stop_job(self, job_id: int) -> bool:
        """Cancel a running job on the user's word; False if it does not run."""
        task = self._tasks.get(job_id)
        if task is None or task.done():  # an order another replica follows: the stored status stops it
            return await following.cancel_elsewhere(self, job_id)
        self.user_cancelled.add(job_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self.job_runner().cancel(job_id)  # a worker elsewhere may be generating it
        return True

    async def job_counts(self, job_id: int, job: Any = None) -> tuple[int, int]:
        """(rows made, rows ordered) of the job; uploaded rows don't count."""
        return await asyncio.to_thread(background.job_counts, self.store, job_id, job)

    async def language_of(self, chat: ChatRef) -> str:
        return await persistence.language_of(self, chat)

    def mark_cancelled(self, job_id: int) -> None:
        """The user's Cancel, stored: conditional (pending/running -> cancelled), so a start or a
        finish the engine was writing meanwhile cannot undo it, and no restart resumes the job.
        (A job stopped by shutdown or Ctrl-C needs nothing: the engine puts it back to "pending".)"""
        self.store.cancel_job(job_id)


def _finished(tasks: dict[int, asyncio.Task[None]], job_id: int, task: asyncio.Task[None]) -> None:
    if tasks.get(job_id) is task:  # not a newer task of the same job (a resumed one)
        del tasks[job_id]
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())
