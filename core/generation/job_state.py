"""What one run of one generation job keeps in memory (the quotas, what was accepted, the
duplicate index, requests in flight, rows waiting to be stored), and the limits that stop a job."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.attributes import DomainAttributes
from core.budget import RunBudget
from core.duplicates import DuplicateIndex
from core.llm import Usage
from core.rows.rules import RowRules
from core.spec import DatasetSpec
from core.job_lease import RunLease
from core.store_port import NewRow
from core.vocabulary import Guidance

if TYPE_CHECKING:
    from core.verify_queue import JudgeQueue

#: Consecutive requests without a single usable row before a job gives up ("acceptance collapse").
COLLAPSE_REQUESTS = 12
#: After this many rows, a job whose acceptance rate is below MIN_ACCEPTANCE gives up too.
COLLAPSE_MIN_ROWS = 200
MIN_ACCEPTANCE = 0.05
#: Consecutive LLMErrors (each already retried by the backend) before a job fails.
MAX_CONSECUTIVE_ERRORS = 5
#: Structured answers in a row that aren't JSON at all: the server ignores json_schema -> template.
MAX_STRUCTURED_PARSE_FAILURES = 3
#: Stored with a rejected "malformed output" row, so the card can show what came back.
MAX_RAW_CHARS = 2000
#: How often the loop wakes while every request is still waiting: checks the model's silence.
WAKE_SECONDS = 1.0
#: After this much silence the progress says "waiting for the model" (or half the limit, if less).
WAITING_NOTICE_SECONDS = 10.0
LETTERS = ("a", "b", "c", "d")


class JobFailed(Exception):
    """Stops a job with a message for the user."""


@dataclass
class Batch:
    label: str
    count: int
    index: int  # diversity hint number
    pins: dict[str, str] = field(default_factory=dict)  # columns this request fixes (core.rows.rules.plan)


@dataclass
class JobState:
    """Everything one run of one job keeps in memory. Only touched from the event loop."""

    job_id: int
    spec: DatasetSpec
    guidance: Guidance
    quotas: dict[str, int]
    accepted: dict[str, int]
    index: DuplicateIndex
    rules: RowRules  # validation, dedupe text, labels and shares of the spec's columns
    structured: bool = True
    batch_counter: int = 0
    requested_in_flight: Counter[str] = field(default_factory=Counter)
    recent: dict[str, deque[str]] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)  # this run, by reason
    rows_seen: int = 0
    rows_accepted: int = 0
    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    fruitless_requests: int = 0
    consecutive_errors: int = 0
    structured_parse_failures: int = 0
    last_error: str | None = None
    mc_position: int = 0  # next correct-answer position for multiple choice (balanced a..d)
    waiting: int = 0  # requests waiting for the server's answer (at most `concurrency`)
    asking: int = 0  # generation requests sent and not answered yet (the judge queue's "more rows may come")
    answer_seconds: float = 0.0  # how long a generation answer takes (moving average)
    judge: "JudgeQueue | None" = None  # label verification of this run's answers (DATAGEN_VERIFY)
    pending: list[NewRow] = field(default_factory=list)
    pending_usage: list[int] = field(default_factory=lambda: [0, 0, 0])  # requests, prompt, completion
    schema: dict = field(default_factory=dict)  # the answer's JSON schema, built once per job
    writer: asyncio.Task[None] | None = None  # commits pending rows in the background
    writes: set[asyncio.Future[None]] = field(default_factory=set)  # commits running in worker threads
    owner: str | None = None  # this run's lease on the job (storage.leases): no write without it
    lease: RunLease | None = None  # the run's claim on the job (core/job_lease.py): heartbeat, loss
    last_answer: float = field(default_factory=time.monotonic)  # when the model last answered a request
    stopped: bool = False  # the run was interrupted: its start must not be written any more (under _db_lock)
    budget: RunBudget | None = None  # DATAGEN_MAX_COST_USD with a priced model (core/budget.py)
    attributes: DomainAttributes | None = None  # the order's own dimensions of variety (core/attributes.py)

    def open(self, label: str) -> int:
        return self.quotas[label] - self.accepted.get(label, 0)

    @property
    def finished(self) -> bool:
        return all(self.open(label) <= 0 for label in self.quotas)

    @property
    def acceptance(self) -> float:
        # Optimistic until there is evidence; never below 0.2 so a bad patch can't flood the server.
        if self.rows_seen < 20:
            return 1.0
        return max(0.2, self.rows_accepted / self.rows_seen)

