"""Replicas that hand orders to the workers (DATAGEN_WORKERS=external) share following them.

Each order is followed by one chat process at a time (core/runner.py `adopt`, storage/follows.py):
the one that queued it, until it stops renewing (scaled down, killed, frozen). Every replica looks,
at start and then every third of DATAGEN_LEASE_SECONDS, for its channel's orders nobody follows,
takes each over, tells the chat "continuing job #N" and follows it to the file; an order whose
worker finished while nobody followed it is delivered then. Orders are datasets and annotations
("label my rows"): both are followed and delivered by `run_dataset`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from core import messages as m
from core.conversation.state import ConversationState
from core.events import ChatRef, Say

if TYPE_CHECKING:
    from core.conversation.machine import Dialog

log = logging.getLogger(__name__)


async def start(dialog: "Dialog") -> "asyncio.Task[None] | None":
    """With orders on workers: follow those nobody follows now, then look again every third of
    the lease time (the returned task; None when orders run in this process)."""
    if dialog.job_runner().runs_here:
        return None
    await adopt_unfollowed(dialog)
    return asyncio.create_task(keep_following(dialog), name="follow-orders")


async def stop(sweep: "asyncio.Task[None] | None") -> None:
    if sweep is not None:
        sweep.cancel()
        await asyncio.gather(sweep, return_exceptions=True)


async def keep_following(dialog: "Dialog") -> None:
    """The replica's sweep, until it stops; a failed round (the database blinked) is retried."""
    interval = max(0.5, dialog.settings.lease_seconds / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            await adopt_unfollowed(dialog)
        except Exception:
            log.warning("looking for orders nobody follows failed", exc_info=True)


async def adopt_unfollowed(dialog: "Dialog") -> None:
    runner = dialog.job_runner()
    for job in await asyncio.to_thread(dialog.store.unfollowed_jobs, dialog.channel):  # type: ignore[attr-defined]
        if job.id is None or dialog.is_running(job.id):
            continue
        found = await asyncio.to_thread(_chat_waiting_for, dialog, job)
        if found is None or not await runner.adopt(job.id):
            continue  # the conversation moved on, or another replica was quicker
        chat, lang = found
        log.info("job %s: following it (its follower stopped)", job.id)
        if job.status in ("pending", "running"):
            done, total = await dialog.job_counts(job.id)
            await dialog.send(chat, Say(dialog.text(lang, "resumed", job=job.id, done=done, total=total)))
        dialog.spawn(job.id, dialog.run_dataset(chat, job.id))


def _chat_waiting_for(dialog: "Dialog", job: Any) -> tuple[ChatRef, str] | None:
    """The chat whose current order this job is, and its language; None if it moved on. Blocking."""
    conversation = dialog.store.get_conversation(job.conversation_id)
    if conversation is None:
        return None
    state = ConversationState.load(conversation.state, conversation.data_json)
    if state.job != job.id:
        return None
    return ChatRef(conversation.external_id, conversation.user_id), m.normalise_language(conversation.language)


async def cancel_elsewhere(dialog: "Dialog", job_id: int) -> bool:
    """Cancel pressed on a replica that does not follow the order: the stored status says
    cancelled, the worker stops within a second (rows kept), the follower closes its progress."""
    runner = dialog.job_runner()
    if runner.runs_here:
        return False
    job = await asyncio.to_thread(dialog.store.get_job, job_id)
    if job is None or job.kind not in ("dataset", "annotation"):
        return False
    return await runner.cancel(job_id)
