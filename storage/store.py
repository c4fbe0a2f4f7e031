"""`Store`: the queries the core needs, one facade over the engine.

Job/example queries live in `storage.jobs`, the one-process-per-job lease in `storage.leases`,
conversation/feedback queries in `storage.conversations`, annotation rows in `storage.annotations`;
`Store` combines them.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.annotations import AnnotationQueries
from storage.conversations import ConversationQueries
from storage.db import make_engine
from storage.jobs import JobQueries
from storage.leases import LeaseQueries


class Store(JobQueries, LeaseQueries, ConversationQueries, AnnotationQueries):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> "Store":
        return cls(make_engine(url))

    def close(self) -> None:
        self.engine.dispose()
