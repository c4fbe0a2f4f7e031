"""Conversation and feedback queries (owned by the dialog)."""

from __future__ import annotations

from sqlalchemy.engine import Engine


class ConversationQueries:
    engine: Engine
