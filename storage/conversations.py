"""Conversation queries (owned by the dialog). Ratings and feedback live in the conversation's state
(core.conversation.state.ConversationState): one source of truth, read by the prompts and the summary.

A conversation is keyed by (channel, external_id): the same Telegram chat id on a new
process finds its state, draft order and offered buttons again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from storage.models import Conversation, Job, UploadedFile, utcnow


class ConversationQueries:
    engine: Engine

    def get_or_create_conversation(self, channel: str, external_id: str, user_id: str = "") -> Conversation:
        found = self.find_conversation(channel, external_id)
        if found is not None:
            return found
        with Session(self.engine, expire_on_commit=False) as session:
            conversation = Conversation(channel=channel, external_id=external_id, user_id=user_id)
            session.add(conversation)
            session.commit()
            session.refresh(conversation)
            return conversation

    def find_conversation(self, channel: str, external_id: str) -> Conversation | None:
        """The conversation with this key if there is one; never creates it (read-only)."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.exec(
                select(Conversation)
                .where(Conversation.channel == channel, Conversation.external_id == external_id)
                .order_by(Conversation.id)  # type: ignore[arg-type]
            ).first()

    def user_jobs_since(self, channel: str, user_id: str, since: datetime) -> list[Job]:
        """Jobs of this user's conversations on this channel created, or still running or finished,
        since `since` (a per-user daily budget sums their tokens)."""
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.exec(
                select(Job).join(Conversation, col(Job.conversation_id) == col(Conversation.id))
                .where(Conversation.channel == channel, Conversation.user_id == user_id,
                       or_(col(Job.created_at) >= since, col(Job.finished_at).is_(None), col(Job.finished_at) >= since))
            ).all())

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(Conversation, conversation_id)

    def save_conversation(
        self,
        conversation_id: int,
        *,
        state: str | None = None,
        data: dict[str, Any] | None = None,
        language: str | None = None,
    ) -> None:
        """Write what changed; `data` replaces data_json as a whole (the dialog owns its shape)."""
        with Session(self.engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise KeyError(f"no conversation {conversation_id}")
            if state is not None:
                conversation.state = state
            if data is not None:
                conversation.data_json = json.dumps(data, ensure_ascii=False)
            if language is not None:
                conversation.language = language
            conversation.updated_at = utcnow()
            session.add(conversation)
            session.commit()

    def save_upload(self, conversation_id: int, filename: str, columns: list[str], records: list[dict[str, str]]) -> int:
        """Store an uploaded file's records; returns its id (what the conversation keeps)."""
        with Session(self.engine) as session:
            row = UploadedFile(conversation_id=conversation_id, filename=filename,
                               columns_json=json.dumps(columns, ensure_ascii=False),
                               records_json=json.dumps(records, ensure_ascii=False))
            session.add(row)
            session.commit()
            session.refresh(row)
            assert row.id is not None
            return row.id

    def load_upload(self, upload_id: int) -> tuple[str, list[str], list[dict[str, str]]] | None:
        """(file name, columns, records) of a stored upload, or None."""
        with Session(self.engine) as session:
            row = session.get(UploadedFile, upload_id)
            if row is None:
                return None
            return row.filename, json.loads(row.columns_json), json.loads(row.records_json)
