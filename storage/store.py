"""`Store`: the queries the core needs, one facade over the engine.

Job/example queries live in `storage.jobs`, the one-process-per-job lease in `storage.leases`,
the one-replica-follows-a-queued-job lease in `storage.follows`,
conversation/feedback queries in `storage.conversations`, annotation rows in `storage.annotations`;
`Store` combines them; `chat_lock` serialises one chat's events across processes (storage.chat_locks).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.annotations import AnnotationQueries
from storage.chat_locks import ChatLock, ChatLocks
from storage.conversations import ConversationQueries
from storage.db import make_engine
from storage.follows import FollowQueries
from storage.jobs import JobQueries
from storage.leases import LeaseQueries


class Store(JobQueries, LeaseQueries, FollowQueries, ConversationQueries, AnnotationQueries):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._chat_locks: ChatLocks | None = None

    @classmethod
    def from_url(cls, url: str) -> "Store":
        return cls(make_engine(url))

    def chat_lock(self, channel: str, conversation: str) -> ChatLock:
        if self._chat_locks is None:
            self._chat_locks = ChatLocks(self.engine)
        return self._chat_locks.lock(channel, conversation)

    def close(self) -> None:
        if self._chat_locks is not None:
            self._chat_locks.close()
        self.engine.dispose()
