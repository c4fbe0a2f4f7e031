"""One order run against the fake OpenAI-compatible server, shared by the benchmarks that compare
settings on the same order (attributes.py, quality.py, documents.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class OrderRun:
    """A finished order: its store (open until the `with` ends), job, engine result and wall time."""

    store: Any
    job_id: int
    job: Any
    result: Any
    elapsed: float


@asynccontextmanager
async def order_run(base_url: str, spec: Any, database_url: str, **settings: Any) -> AsyncIterator[OrderRun]:
    """Generate `spec` through the fake at `base_url` with the given Settings fields (concurrency 16,
    progress every 5 s and a 60 s timeout unless given); leaves with SystemExit when the job fails."""
    from core.generator import Generator
    from core.llm_openai import OpenAIBackend
    from core.settings import Settings
    from storage.store import Store

    options: dict[str, Any] = {"concurrency": 16, "progress_interval": 5, "request_timeout": 60, **settings}
    config = Settings(openai_api_key="bench", openai_base_url=base_url, llm="openai", database_url=database_url,
                      _env_file=None, **options)
    store = Store.from_url(config.database_url)
    try:
        llm = OpenAIBackend.from_settings(config)
        generator = Generator(llm, store, config)
        job_id = generator.create_job(spec)
        started = time.perf_counter()
        result = await generator.run(job_id)
        elapsed = time.perf_counter() - started
        await llm.aclose()
        if result.status != "done":
            raise SystemExit(f"job failed: {result.error}")
        job = store.get_job(job_id)
        assert job is not None
        yield OrderRun(store, job_id, job, result, elapsed)
    finally:
        store.close()
