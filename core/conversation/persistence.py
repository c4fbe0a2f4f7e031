"""A chat's stored conversation: hold its lock, load it into a Turn, save the Turn's state; its uploaded rows.

Blocking calls run in the replies' own threads (reply_threads.py), so neither a busy database nor
the jobs' blocking calls hold up the event loop or a reply; one chat's load -> dispatch -> save
happens under its lock, taken with the load and given back with the save (one thread call each).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from core import messages as m
from core.conversation.ports import ChatLock, ConversationStore, StoredConversation
from core.conversation.reply_threads import blocking
from core.conversation.state import ConversationState
from core.conversation.turn import Turn
from core.events import ChatRef

if TYPE_CHECKING:
    from core.conversation.machine import Dialog


async def hold_chat(dialog: Dialog, chat: ChatRef) -> tuple[ChatLock, StoredConversation]:
    """Take the chat's lock across processes (replicas behind one URL), so that no other
    process loads this chat's state until we saved it, and read the chat's conversation (created
    on its first event) in the same reply-thread call. Polled, so no thread waits on another
    process; a cancelled wait gives back a lock its thread took meanwhile."""
    lock = dialog.store.chat_lock(dialog.channel, chat.conversation)
    delay = 0.005
    while True:
        attempt = asyncio.ensure_future(blocking(_lock_and_load, dialog.store, lock, dialog.channel, chat))
        try:
            conversation = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(lambda done: _release_if_taken(done, lock))
            raise
        if conversation is not None:
            return lock, conversation
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _lock_and_load(store: ConversationStore, lock: ChatLock, channel: str, chat: ChatRef) -> StoredConversation | None:
    """The conversation with its lock held, or None if another process holds the lock. Blocking."""
    if not lock.try_acquire():
        return None
    try:
        return store.get_or_create_conversation(channel, chat.conversation, chat.user)
    except BaseException:
        lock.release()
        raise


def _release_if_taken(attempt: asyncio.Future[StoredConversation | None], lock: ChatLock) -> None:
    if not attempt.cancelled() and attempt.exception() is None and attempt.result() is not None:
        lock.release()


async def load_turn(dialog: Dialog, chat: ChatRef, conversation: StoredConversation) -> Turn:
    """The chat's conversation as a Turn of `dialog`."""
    assert conversation.id is not None
    state = ConversationState.load(conversation.state, conversation.data_json)
    if (state.upload and state.upload.rows is not None) or (state.pending_upload and state.pending_upload.records is not None):
        await blocking(move_uploaded_rows, dialog.store, conversation.id, state)
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


def save_and_release(store: ConversationStore, turn: Turn, lock: ChatLock) -> None:
    """Save the Turn's state, then give the chat's lock back (whether the save worked or not). Blocking."""
    try:
        store.save_conversation(turn.conversation_id, state=turn.state.phase.value, data=turn.state.dump(),
                                language=turn.lang)
    finally:
        lock.release()


async def uploaded_rows(store: ConversationStore, state: ConversationState) -> list[dict[str, str]]:
    """The labeled rows of the conversation's upload ([] without one)."""
    if state.upload is None or state.upload.upload_id is None:
        return []
    stored = await blocking(store.load_upload, state.upload.upload_id)
    return stored[2] if stored else []


async def language_of(dialog: Dialog, chat: ChatRef) -> str:
    """The language the bot answers `chat` in (English for a chat it does not know)."""
    conversation = await asyncio.to_thread(dialog.store.find_conversation, dialog.channel, chat.conversation)
    return m.normalise_language(conversation.language if conversation else None)
