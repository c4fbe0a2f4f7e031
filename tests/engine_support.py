"""Helpers shared by the engine's tests: run one job on the fake server, settings for the embedded
model, and watch the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from core.generator import Generator, Guidance, JobResult
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store


async def run_job(settings: Settings, store: Store, spec: DatasetSpec, guidance: Guidance | None = None,
                  on_progress: Any = None) -> JobResult:
    """Create the job of `spec` and run it to its end on the settings' OpenAI-compatible server."""
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        job_id = generator.create_job(spec, guidance)
        return await generator.run(job_id, on_progress=on_progress)
    finally:
        await llm.aclose()


def local_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for the embedded model in `tmp_path`; explicit None values beat whatever the
    developer's environment sets."""
    values: dict[str, object] = {
        "openai_api_key": None, "llm": None, "local_model": None,
        "database_url": f"sqlite:///{tmp_path}/local.db", "progress_interval": 0, "output_dir": tmp_path,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def loop_gaps() -> AsyncIterator[list[float]]:
    """The gaps between 10 ms ticks of the event loop while the block runs: a loop blocked by the
    block's work shows as one gap as long as that work."""
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    try:
        yield gaps
    finally:
        ticking.cancel()
