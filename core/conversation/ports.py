"""What the conversation needs of storage: a small Protocol the core owns (storage.Store implements it),
on top of the jobs and annotation rows (core/store_port.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from core.store_port import AnnotationStore


class StoredConversation(Protocol):
    id: int | None
    channel: str
    external_id: str
    user_id: str
    language: str
    state: str
    data_json: str


class ChatLock(Protocol):
    """One chat's events one at a time across processes (replicas); never blocks."""

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class ConversationStore(AnnotationStore, Protocol):
    def chat_lock(self, channel: str, conversation: str) -> ChatLock: ...

    def get_or_create_conversation(self, channel: str, external_id: str, user_id: str = "") -> StoredConversation: ...

    def find_conversation(self, channel: str, external_id: str) -> StoredConversation | None: ...

    def get_conversation(self, conversation_id: int) -> StoredConversation | None: ...

    def save_conversation(self, conversation_id: int, *, state: str | None = None, data: dict[str, Any] | None = None,
                          language: str | None = None) -> None: ...

    def user_jobs_since(self, channel: str, user_id: str, since: datetime) -> list[Any]: ...

    def unfollowed_jobs(self, channel: str, kinds: tuple[str, ...] = ("dataset", "annotation")) -> list[Any]: ...

    def save_upload(self, conversation_id: int, filename: str, columns: list[str], records: list[dict[str, str]]) -> int: ...

    def load_upload(self, upload_id: int) -> tuple[str, list[str], list[dict[str, str]]] | None: ...
