"""Shared fixtures: the fake OpenAI server, settings pointed at it, and database URLs.

- `fake_llm`: a started `FakeOpenAI` (see tests/fakes/openai_server.py for faults and responders).
- `settings`: `Settings` using the fake server, a temporary SQLite file, no progress throttling.
- `postgres_url`: a fresh, empty PostgreSQL schema on DATAGEN_TEST_POSTGRES_URL. Skipped with a
  reason when the variable is unset or the server unreachable; but under CI=true an unreachable
  server FAILS the test, so the PostgreSQL claim can't silently go untested.
- `database_url`: parametrised over "sqlite" and "postgres" for the storage/interruption tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from tests.fakes.openai_server import FakeOpenAI

POSTGRES_ENV = "DATAGEN_TEST_POSTGRES_URL"
# The order's own dimensions of variety cost one request before a job's first batch; tests that
# count requests or inject faults into "the first request" mean generation requests. Tests about
# the attributes turn them on (tests/test_attributes.py); subprocesses inherit this default.
os.environ.setdefault("DATAGEN_ATTRIBUTES", "off")


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def settings(fake_llm: FakeOpenAI, tmp_path: Path) -> Settings:
    return Settings(
        openai_api_key="test-key",
        openai_base_url=fake_llm.base_url,
        llm="openai",
        model="fake-model",
        database_url=f"sqlite:///{tmp_path}/t.db",
        progress_interval=0,
        output_dir=tmp_path,
        request_timeout=5,
        max_retries=4,
        # The fake server writes pseudo-words in no language; tests about the check turn it on.
        language_check=False,
        attributes="off",  # see DATAGEN_ATTRIBUTES above
        _env_file=None,  # a developer's .env must not leak into tests
    )


def _postgres_driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections see only a fresh schema (dropped afterwards), so runs don't leak."""
    base = os.environ.get(POSTGRES_ENV)
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if not base:
        if in_ci:
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL tests must run in CI")
        pytest.skip(f"PostgreSQL tests skipped: set {POSTGRES_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/db)")
    import sqlalchemy as sa

    base = _postgres_driver_url(base)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, pool_pre_ping=True)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_ENV} is unreachable: {str(exc).splitlines()[0]}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    separator = "&" if "?" in base else "?"
    # libpq `options` sets search_path for every connection, so tables land in the fresh schema.
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path}/db.sqlite"
