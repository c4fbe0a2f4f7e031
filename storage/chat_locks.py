"""One event of a chat at a time across processes (several replicas of the Slack app or the
Telegram bot behind one URL): the dialog holds a chat's lock around load -> dispatch -> save, so
two replicas handling events of the same chat never both load the same state and lose one save.

    lock = store.chat_lock("slack", "C1/1712.5")
    if lock.try_acquire():      # never blocks: the dialog polls, so no thread waits on another process
        try: ...                # load, dispatch, save
        finally: lock.release()

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection held for the
  event. PostgreSQL drops it when that session ends, so a replica killed mid-event never leaves
  a chat locked. Its own small pool, so held locks never starve the store's queries.
- SQLite (replicas on one machine sharing the file): an OS file lock (flock, through `filelock`)
  on one of 256 lock files next to the database; the OS drops it when the process dies. SQLite
  has no advisory locks and its own write lock is database-wide (holding it through an LLM call
  would stop every job's writes). A version check with re-dispatch was not an option: handling
  an event has side effects (jobs created, LLM asked, background work started) that must not
  happen twice. An in-memory database is one process: no lock needed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

BUCKETS = 256  # SQLite lock files: two chats sharing one only wait for each other now and then


class ChatLock(Protocol):
    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


def chat_key(channel: str, conversation: str) -> int:
    """A stable signed 64-bit key (what pg advisory locks take) for a conversation."""
    digest = hashlib.blake2b(f"datagen-chat\0{channel}\0{conversation}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _PostgresChatLock:
    def __init__(self, engine: Engine, key: int) -> None:
        self.engine, self.key = engine, key
        self.conn: Connection | None = None

    def try_acquire(self) -> bool:
        conn = self.engine.connect()
        try:
            taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            conn.commit()  # the lock is the session's, not the transaction's: end the transaction
        except BaseException:
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self.conn = conn
        return True

    def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.commit()
        except Exception:
            conn.invalidate()  # closing the session is what releases the lock then
        finally:
            conn.close()


class _FileChatLock:
    def __init__(self, lock: FileLock | None) -> None:
        self.lock = lock

    def try_acquire(self) -> bool:
        if self.lock is None:
            return True
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


class ChatLocks:
    """Per-store factory of chat locks (Store.chat_lock)."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url
        self._pg: Engine | None = None
        self._files: dict[int, FileLock] = {}
        self._dir: Path | None = None
        if url.get_backend_name() == "postgresql":
            # Held for one event each; overflow so a burst of chats waits on PostgreSQL, not on the pool.
            self._pg = create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=60)
        elif url.database and url.database != ":memory:":
            self._dir = Path(url.database).expanduser().with_name(Path(url.database).name + ".chat-locks")
            self._dir.mkdir(parents=True, exist_ok=True)

    def lock(self, channel: str, conversation: str) -> ChatLock:
        key = chat_key(channel, conversation)
        if self._pg is not None:
            return _PostgresChatLock(self._pg, key)
        if self._dir is None:
            return _FileChatLock(None)
        bucket = key % BUCKETS
        if bucket not in self._files:
            # One FileLock per file and process: flock locks of two descriptors of one process conflict.
            # Not thread-local: acquired and released from different worker threads of the event loop.
            self._files[bucket] = FileLock(self._dir / f"{bucket:03d}.lock", thread_local=False)
        return _FileChatLock(self._files[bucket])

    def close(self) -> None:
        if self._pg is not None:
            self._pg.dispose()
