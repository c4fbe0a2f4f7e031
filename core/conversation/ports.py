"""What the conversation needs of storage: a small Protocol the core owns (storage.Store implements it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class StoredConversation(Protocol):
    id: int | None
    channel: str
    external_id: str
    user_id: str
    language: str
    state: str
    data_json: str


class StoredJob(Protocol):
    id: int | None
    kind: str
    spec_json: str
    guidance_json: str
    status: str
    conversation_id: int | None


class ChatLock(Protocol):
    """One chat's events one at a time across processes (replicas); never blocks."""

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class ConversationStore(Protocol):
    def chat_lock(self, channel: str, external_id: str) -> ChatLock: ...

    def get_or_create_conversation(self, channel: str, external_id: str, user_id: str = "") -> StoredConversation: ...

    def find_conversation(self, channel: str, external_id: str) -> StoredConversation | None: ...

    def get_conversation(self, conversation_id: int) -> StoredConversation | None: ...

    def save_conversation(self, conversation_id: int, *, state: str | None = None, data: dict[str, Any] | None = None,
                          language: str | None = None) -> None: ...

    def get_job(self, job_id: int) -> StoredJob | None: ...

    def cancel_job(self, job_id: int) -> bool: ...

    def reopen_job(self, job_id: int) -> bool: ...

    def unfinished_jobs(self, kind: str | None = None) -> list[Any]: ...

    def accepted_rows(self, job_id: int, *, sources: Iterable[str] | None = None) -> list[Any]: ...

    def accepted_counts(self, job_id: int) -> dict[str, int]: ...

    def is_claimed(self, job_id: int) -> bool: ...

    def save_upload(self, conversation_id: int, filename: str, columns: list[str], records: list[dict[str, str]]) -> int: ...

    def load_upload(self, upload_id: int) -> tuple[str, list[str], list[dict[str, str]]] | None: ...

    def close(self) -> None: ...
