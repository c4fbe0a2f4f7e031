"""The words the engine, the prompts and the channels share: what a job is told beyond its spec
(`Guidance`), how far it is (`JobProgress`) and how it ended (`JobResult`).

A module of its own so that `core.prompts` (which renders guidance) and `core.generator` (which
runs jobs) both import it instead of each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


class Guidance(BaseModel):
    """What the user told us beyond the spec; stored with the job (Job.guidance_json)."""

    # Rows are dicts of column -> value: text mostly, entity lists, numbers, booleans (core.rows).
    few_shot: list[dict[str, Any]] = []  # rows to imitate (👍 preview rows, uploaded rows)
    avoid: list[dict[str, Any]] = []  # rows NOT to imitate (👎); never delivered, nor their near-copies
    feedback: list[str] = []  # free-text feedback folded into the instructions
    keep: list[dict[str, Any]] = []  # rows already approved (👍): stored accepted (source="kept"), count toward quotas
    existing: list[dict[str, Any]] = []  # uploaded rows: dedupe against them; exported with source="uploaded"; not counted


@dataclass
class JobProgress:
    job_id: int
    accepted: dict[str, int]
    quotas: dict[str, int]
    rejected: int
    duplicates: int
    prompt_tokens: int
    completion_tokens: int
    requests: int
    #: Seconds since the model last answered anything, when that is long enough to tell the user
    #: ("waiting for the model"); 0 while answers keep coming.
    waiting_seconds: float = 0.0
    #: After this much silence the job fails (the DATAGEN_NO_ANSWER_TIMEOUT setting).
    waiting_limit: float = 0.0

    @property
    def done(self) -> int:
        return sum(min(self.accepted.get(label, 0), quota) for label, quota in self.quotas.items())

    @property
    def total(self) -> int:
        return sum(self.quotas.values())


@dataclass
class JobResult:
    job_id: int
    status: str  # "done" | "failed" | "cancelled"
    error: str | None
    accepted: dict[str, int]
    rejected: dict[str, int]  # by reason
    duplicates: int
    prompt_tokens: int
    completion_tokens: int
    elapsed: float


ProgressCallback = Callable[[JobProgress], Awaitable[None] | None]
