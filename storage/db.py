"""Engine creation: SQLite by default (a file, WAL mode), PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from storage import annotations, models  # noqa: F401  (registers the tables)

#: PostgreSQL ends a session that sits inside a transaction this long (our transactions never wait
#: on anything but the database): a process frozen mid-write (SIGSTOP, a suspended VM, a machine cut
#: off) would otherwise keep its row locks, and the job's lease row with them, until it woke, and
#: no other worker could take its job over. The default for a dead TCP peer is hours.
IDLE_IN_TRANSACTION_SECONDS = 10.0


def _normalise_url(url: str) -> str:
    # People paste "postgres://" or "postgresql://" URLs; we ship psycopg 3, not psycopg2.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, idle_in_transaction_seconds: float = IDLE_IN_TRANSACTION_SECONDS) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            cur.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        SQLModel.metadata.create_all(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        timeout_ms = max(1, int(idle_in_transaction_seconds * 1000))

        @event.listens_for(engine, "connect")
        def _postgres_session(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # A SET, not connect_args' "options": the URL may carry its own options (a search_path).
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET idle_in_transaction_session_timeout = {timeout_ms}")
            dbapi_conn.commit()

        # Replicas and workers starting together on an empty database: one creates the tables,
        # the others wait and find them (two CREATE TABLEs at once fail on pg_type's unique index).
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(4242002)"))
            SQLModel.metadata.create_all(conn)
    return engine
