"""How many requests one LLM server gets at once, learned from its answers (AIMD, as TCP does).

    limiter = AdaptiveLimiter(floor=1, ceiling=256)
    ticket = await limiter.acquire()          # waits for a free slot and for any shared pause
    ...send the request...
    limiter.release(ticket, Outcome.SUCCESS, latency=0.31)   # or RATE_LIMITED / OVERLOADED / ERROR

The decisions, made once per "window" (as many finished requests as the current limit, about
one round trip):
- slow start from INITIAL (8): `slow_start_step` (3) more slots per fast answer (from the first
  round's fourth answer on: 8, 23, 92, 256; the limit about quadruples every round trip) while
  latency stays flat, until the first sign of trouble; after that, additive increase per window
  (+1, or +5% when large). The first round of 8 is the probe: a server that refuses or slows down
  at 8 never sees more, and its answers give the latency baseline of a server that is not
  queueing. Crediting the first round's first four answers too (8, 32, 128) overshot a server
  that queues above 8 further (to ~56) and it took seconds of queued round trips to come down;
- multiplicative decrease (x0.75) on a 429, a timeout, a 502/503/504/529, or when the window's
  median latency exceeds `tolerance` x the baseline (the lowest window median of the recent
  past; then in proportion to the slowdown, down to x0.5): servers such as vLLM queue requests
  instead of refusing them, so latency is their only signal. At most one decrease per round
  trip: trouble reported by requests sent before the last decrease says nothing new, and a
  window only measures requests sent under the current limit;
- a 429's `Retry-After` pauses the whole backend (every job sharing it), not one request;
- never below `floor` (>= 1) and never above `ceiling`: under sustained 429s the backend keeps
  sending `floor` requests after each pause, so a job progresses or fails with a reason, it
  never waits forever with nothing in flight;
- the limit only grows when it is used (a job with 3 requests left does not inflate it);
- a request someone waits for in the chat (the intake's reading of an order: `with urgent():`)
  waits at the front of the line, ahead of the background jobs' requests: the provider's limit
  still holds, but a burst of generation does not delay a reply by seconds.

Written by hand rather than taken from a library: the Python ports of Netflix's
concurrency-limits are unmaintained, and the decisions here are few and unit-tested
(tests/test_concurrency.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import statistics
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.llm import LLMBackend
    from core.settings import Settings

#: Longest shared pause honoured from one Retry-After (a longer one is a quota, not a rate limit).
MAX_PAUSE = 60.0
#: Where an adaptive limit starts. Starting at 32 made a 5,000-row job against the unlimited fake
#: ~0.5 s faster (of ~2.9 s), but a server that queues above 8 then never showed its unqueued
#: latency: the baseline came from queued answers and the limit settled at ~25 instead of ~8
#: (tests/test_adaptive_e2e.py). The first round must be one any server answers unqueued.
INITIAL = 8

#: True inside `urgent()`: the requests made there go to the front of the line.
_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("datagen_urgent_request", default=False)


@contextlib.contextmanager
def urgent() -> Iterator[None]:
    """Requests made inside (in this task) wait ahead of everyone else's for a slot."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class Outcome(enum.Enum):
    SUCCESS = "success"
    RATE_LIMITED = "rate_limited"  # 429
    OVERLOADED = "overloaded"  # timeout, 502/503/504/529: the server is past its capacity
    ERROR = "error"  # anything else (a 400, a refused connection): says nothing about load


@dataclass(frozen=True)
class Ticket:
    """One request's slot: its sequence number tells whether it was sent before a decrease."""

    seq: int
    started: float


class AdaptiveLimiter:
    def __init__(
        self,
        *,
        floor: int = 1,
        ceiling: int = 256,
        initial: int | None = None,
        adaptive: bool = True,
        tolerance: float = 1.3,
        backoff: float = 0.75,
        baseline_windows: int = 30,
        slow_start_step: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if floor < 1 or ceiling < floor:
            raise ValueError(f"need 1 <= floor <= ceiling, got floor={floor}, ceiling={ceiling}")
        self.floor = floor
        self.ceiling = ceiling
        self.adaptive = adaptive
        self.tolerance = tolerance
        self.backoff = backoff
        self.slow_start_step = slow_start_step
        self._clock = clock
        start = initial if initial is not None else (min(INITIAL, ceiling) if adaptive else ceiling)
        self.limit = float(min(ceiling, max(floor, start)))
        self.in_flight = 0
        self.paused_until = 0.0
        self.slow_start = adaptive
        self.rate_limited = 0  # 429s seen (for the benchmark and the logs)
        self.answered = 0  # successful requests (for the benchmark and the logs)
        self.decreases = 0
        self._seq = 0
        self._decrease_seq = 0  # requests with seq below this were sent before the last decrease
        self._measure_seq = 0  # ... before the last change of the limit
        self._window: list[float] = []
        self._window_peak = 0
        self._window_limit = self.current  # the limit when the window began: its size
        self._history: deque[float] = deque(maxlen=baseline_windows)
        #: (time, limit) after every change: what the tests and the benchmark look at.
        self.changes: deque[tuple[float, int]] = deque([(clock(), self.current)], maxlen=10_000)
        self._waiters: deque[asyncio.Future[None]] = deque()

    # --- state ------------------------------------------------------------------------------

    @property
    def current(self) -> int:
        """Requests allowed in flight now."""
        return max(self.floor, min(self.ceiling, int(self.limit)))

    @property
    def baseline(self) -> float | None:
        return min(self._history) if self._history else None

    def paused_for(self) -> float:
        return max(0.0, self.paused_until - self._clock())

    # --- slots ------------------------------------------------------------------------------

    def try_acquire(self) -> Ticket | None:
        """A slot now, or None (all slots taken, or the backend is paused)."""
        if self.in_flight >= self.current or self.paused_for() > 0:
            return None
        self.in_flight += 1
        self._window_peak = max(self._window_peak, self.in_flight)
        self._seq += 1
        return Ticket(self._seq, self._clock())

    async def acquire(self) -> Ticket:
        """Wait for a slot (FIFO among waiters, `urgent()` ones first) and for the end of any shared pause."""
        loop = asyncio.get_running_loop()
        while True:
            pause = self.paused_for()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            ticket = self.try_acquire()
            if ticket is not None:
                return ticket
            waiter: asyncio.Future[None] = loop.create_future()
            if _URGENT.get():
                self._waiters.appendleft(waiter)
            else:
                self._waiters.append(waiter)
            # Woken by a release; the timer re-checks a pause or a limit that changed meanwhile.
            timer = loop.call_later(0.5, _wake_one, waiter)
            try:
                await waiter
            finally:
                timer.cancel()

    def release(self, ticket: Ticket, outcome: Outcome, *, latency: float | None = None,
                retry_after: float | None = None) -> None:
        """Give the slot back and learn from how the request went."""
        self.in_flight = max(0, self.in_flight - 1)
        if outcome is Outcome.SUCCESS:
            self.answered += 1
            self._on_success(ticket, latency if latency is not None else self._clock() - ticket.started)
        elif outcome is Outcome.RATE_LIMITED:
            self.rate_limited += 1
            if retry_after is not None and retry_after > 0:
                self.pause(retry_after)
            self._decrease(ticket)
        elif outcome is Outcome.OVERLOADED:
            self._decrease(ticket)
        self._wake()

    def pause(self, seconds: float) -> None:
        """No new request to this backend for `seconds` (capped at MAX_PAUSE): a Retry-After."""
        self.paused_until = max(self.paused_until, self._clock() + min(seconds, MAX_PAUSE))

    # --- decisions --------------------------------------------------------------------------

    def _on_success(self, ticket: Ticket, latency: float) -> None:
        if not self.adaptive or ticket.seq < self._measure_seq:
            return  # sent before the last change: measured a load that no longer exists
        self._window.append(latency)
        baseline = self.baseline
        if baseline is None and len(self._window) >= 4:
            # Until the first round trip is complete, its first answers stand for the baseline
            # (so slow start begins a round earlier); only growth is gated by it, never a decrease.
            baseline = statistics.median(self._window[:4])
        if (self.slow_start and baseline is not None and latency <= baseline * self.tolerance
                and self._window_peak >= 0.8 * self._window_limit):
            # More slots per fast answer (the limit quadruples every round trip; TCP's slow start
            # doubles it, but a round trip here is 0.3 s, not 30 ms); the window below decides
            # about slow ones.
            self.limit = min(float(self.ceiling), self.limit + self.slow_start_step)
            if self.current != self.changes[-1][1]:
                self.changes.append((self._clock(), self.current))
        if len(self._window) < max(4, self._window_limit):
            return
        median = statistics.median(self._window)
        used = self._window_peak >= 0.8 * self.current
        baseline = self.baseline
        self._history.append(median)
        if baseline is not None and median > baseline * self.tolerance:
            # The server queues: more in flight only makes answers slower. Back off in proportion
            # to the slowdown (at least x`backoff`, at most x0.5), so a large overshoot from
            # slow start is undone in a round trip or two, not one step at a time.
            self._decrease(ticket, factor=max(0.5, min(self.backoff, baseline * self.tolerance / median)))
        elif used and not self.slow_start:
            self._set(min(float(self.ceiling), self.limit + max(1.0, self.limit * 0.05)))
        else:
            self._new_window()

    def _new_window(self) -> None:
        self._window, self._window_peak, self._window_limit = [], self.in_flight, self.current

    def _decrease(self, ticket: Ticket, factor: float | None = None) -> None:
        if not self.adaptive or ticket.seq < self._decrease_seq:
            return  # one decrease per round trip
        self.slow_start = False
        self.decreases += 1
        self._decrease_seq = self._seq + 1
        self._set(max(float(self.floor), self.limit * (factor or self.backoff)))

    def _set(self, limit: float) -> None:
        # A new window measures only requests sent under the new limit.
        self._measure_seq = self._seq + 1
        before = self.current
        self.limit = limit
        self._new_window()
        if self.current != before:
            self.changes.append((self._clock(), self.current))

    # --- waking waiters ---------------------------------------------------------------------

    def _wake(self) -> None:
        free = self.current - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                _wake_one(waiter)
                free -= 1


def _wake_one(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        try:
            waiter.set_result(None)
        except RuntimeError:  # its event loop is closed (a backend reused under a new loop)
            pass


class JobConcurrency:
    """How many requests one job (a dataset, an annotation) may have waiting for its backend now.
    A server backend sizes its own concurrency (its AdaptiveLimiter, shared by every job using
    it); a backend without a limiter (the embedded model), or one fixed by DATAGEN_CONCURRENCY,
    gives a fixed number."""

    def __init__(self, llm: "LLMBackend", settings: "Settings") -> None:
        self.limiter: AdaptiveLimiter | None = getattr(llm, "limiter", None) if not llm.max_concurrency else None
        self.fixed = max(1, llm.max_concurrency or settings.concurrency or 16)

    @property
    def current(self) -> int:
        return self.limiter.current if self.limiter is not None else self.fixed

    @property
    def fixed_at_one(self) -> bool:
        """One request at a time, always (the embedded model)."""
        return self.limiter is None and self.fixed == 1
