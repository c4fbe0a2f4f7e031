"""A chat's stored conversation: hold its lock, load it into a Turn, save the Turn's state; its uploaded rows.

Blocking calls: the machine runs them in worker threads, so a busy database never holds the event
loop and with it every other chat; one chat's load -> dispatch -> save happens under its lock.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core import messages as m
from core.conversation.ports import ChatLock, ConversationStore
from core.conversation.state import ConversationState
from core.conversation.turn import Turn
from core.events import ChatRef

if TYPE_CHECKING:
    from core.conversation.machine import Dialog


async def hold_chat(store: ConversationStore, channel: str, chat: ChatRef) -> ChatLock:
    """Take the chat's lock across processes (replicas behind one URL), so that no other
    process loads this chat's state until we saved it. Polled, so no thread waits on another
    process; a cancelled wait gives back a lock its thread took meanwhile."""
    lock = store.chat_lock(channel, chat.conversation)
    delay = 0.005
    while True:
        attempt = asyncio.ensure_future(asyncio.to_thread(lock.try_acquire))
        try:
            taken = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(lambda done: _release_if_taken(done, lock))
            raise
        if taken:
            return lock
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _release_if_taken(attempt: asyncio.Future[bool], lock: ChatLock) -> None:
    if not attempt.cancelled() and attempt.exception() is None and attempt.result():
        lock.release()


async def load_turn(dialog: Dialog, chat: ChatRef) -> Turn:
    """The chat's conversation (created on its first event) as a Turn of `dialog`."""
    conversation = await asyncio.to_thread(
        dialog.store.get_or_create_conversation, dialog.channel, chat.conversation, chat.user
    )
    assert conversation.id is not None
    state = ConversationState.load(conversation.state, conversation.data_json)
    if (state.upload and state.upload.rows is not None) or (state.pending_upload and state.pending_upload.records is not None):
        await asyncio.to_thread(move_uploaded_rows, dialog.store, conversation.id, state)
    return Turn(dialog, chat, conversation.id, state, m.normalise_language(conversation.language))


def move_uploaded_rows(store: ConversationStore, conversation_id: int, state: ConversationState) -> None:
    """The previous version kept uploaded rows in the state: move them to their table."""
    if state.upload is not None and state.upload.rows is not None:
        rows, state.upload.rows = state.upload.rows, None
        state.upload.size = len(rows)
        state.upload.upload_id = store.save_upload(conversation_id, state.upload.filename, ["text", "label"], rows)
    pending = state.pending_upload
    if pending is not None and pending.records is not None:
        records, pending.records = pending.records, None
        pending.upload_id = store.save_upload(conversation_id, pending.filename, pending.columns, records)


def save_turn(store: ConversationStore, turn: Turn) -> None:
    store.save_conversation(turn.conversation_id, state=turn.state.phase.value, data=turn.state.dump(),
                            language=turn.lang)


async def uploaded_rows(store: ConversationStore, state: ConversationState) -> list[dict[str, str]]:
    """The labeled rows of the conversation's upload ([] without one)."""
    if state.upload is None or state.upload.upload_id is None:
        return []
    stored = await asyncio.to_thread(store.load_upload, state.upload.upload_id)
    return stored[2] if stored else []


async def language_of(dialog: Dialog, chat: ChatRef) -> str:
    """The language the bot answers `chat` in (English for a chat it does not know)."""
    conversation = await asyncio.to_thread(dialog.store.find_conversation, dialog.channel, chat.conversation)
    return m.normalise_language(conversation.language if conversation else None)
