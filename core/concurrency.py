"""How many requests one LLM server gets at once, learned from its answers (AIMD, as TCP does).

    limiter = AdaptiveLimiter(floor=1, ceiling=256)
    ticket = await limiter.acquire()          # waits for a free slot and for any shared pause
    ...send the request...
    limiter.release(ticket, Outcome.SUCCESS, latency=0.31)   # or RATE_LIMITED / OVERLOADED / ERROR

The decisions, made once per "window" (as many finished requests as the current limit, about
one round trip; sooner when more than half of them are already slow):
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
- the baseline is re-measured with few requests in flight (ProbeRTT, as TCP BBR and Envoy's
  adaptive concurrency do): at most PROBE_LIMIT (4) go out until the ones sent before have
  drained, the median of the next answers replaces the baseline, and the limit comes down to
  twice what the server drained at once (rate x baseline, Little's law) if it was above. When:
  at once if slow start ends far slower (> tolerance^2) after answers came back faster than the
  first round (a cold first round: its inflated baseline let slow start overshoot a server that
  queues, and every later window had the queue in it; the limit stayed at ~29 against 8 slots);
  then every PROBE_INTERVAL (10 s) after slow start has ended, doubling to 80 s while probes
  find neither a queue nor an inflated baseline (against a server that does not queue a probe
  costs about two round trips of sending little; against one that does, about one answer's
  time). The job's own concurrency (`JobConcurrency`) keeps the learned limit meanwhile;
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
(tests/test_concurrency*.py).
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
from dataclasses import dataclass, field
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
#: Requests in flight while the unqueued latency is re-measured (ProbeRTT, below): few enough
#: that a server with a handful of slots answers them without queueing.
PROBE_LIMIT = 4
#: Seconds between two re-measures (BBR's min-RTT window), once slow start has ended; doubled
#: (up to MAX_PROBE_INTERVAL) each time a probe finds neither a queue nor an inflated baseline.
PROBE_INTERVAL = 10.0
MAX_PROBE_INTERVAL = 80.0

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


@dataclass
class _Probe:
    """One re-measure of the unqueued latency (AdaptiveLimiter._start_probe)."""

    cap: int  # requests allowed in flight meanwhile
    seq: int  # requests from this one on were sent with at most `cap` in flight
    started: float
    in_flight: int  # when it began
    full: bool  # the limit was in use when it began (else the drain rate says nothing about the server)
    drained: int = 0  # answers to requests sent before it
    half_drained: float = 0.0  # when half of `in_flight` had been answered (a straggler aside)
    answers: list[float] = field(default_factory=list)  # latencies of requests sent during it


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
        probe_interval: float = PROBE_INTERVAL,
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
        self.probe_interval = probe_interval
        self._clock = clock
        self._probe: _Probe | None = None  # set while re-measuring the baseline
        self._next_probe: float | None = None  # None: still in slow start, no probe due
        self._probe_every = probe_interval  # longer while probes find no queue
        self._fastest = float("inf")  # the fastest answer in slow start after its first window
        start = initial if initial is not None else (min(INITIAL, ceiling) if adaptive else ceiling)
        self.limit = float(min(ceiling, max(floor, start)))
        self.in_flight = 0
        self.paused_until = 0.0
        self.slow_start = adaptive
        self.rate_limited = 0  # 429s seen (for the benchmark and the logs)
        self.answered = 0  # successful requests (for the benchmark and the logs)
        self.decreases = 0
        self.probes = 0  # re-measures of the unqueued latency begun (for the tests and the logs)
        self._seq = 0
        self._decrease_seq = 0  # requests with seq below this were sent before the last decrease
        self._measure_seq = 0  # ... before the last change of the limit
        self._window: list[float] = []
        self._window_peak = 0
        self._window_slow = 0
        self._window_limit = self.current  # the limit when the window began: its size
        self._history: deque[float] = deque(maxlen=baseline_windows)
        #: (time, limit) after every change: what the tests and the benchmark look at.
        self.changes: deque[tuple[float, int]] = deque([(clock(), self.current)], maxlen=10_000)
        self._waiters: deque[asyncio.Future[None]] = deque()

    # --- state ------------------------------------------------------------------------------

    @property
    def learned(self) -> int:
        """The limit learned from the server's answers (a probe in progress aside)."""
        return max(self.floor, min(self.ceiling, int(self.limit)))

    @property
    def current(self) -> int:
        """Requests allowed in flight now."""
        return self.learned if self._probe is None else min(self.learned, self._probe.cap)

    @property
    def probing(self) -> bool:
        """True while the unqueued latency is re-measured with few requests in flight."""
        return self._probe is not None

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
            probe = self._probe
            if probe is not None and ticket.seq < probe.seq:  # sent before the probe: its pace is the server's
                probe.drained += 1
                if not probe.half_drained and 2 * probe.drained >= probe.in_flight:
                    probe.half_drained = self._clock()
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
        if self._probe is not None:
            self._probe_answer(self._probe, latency)
            return
        if self._next_probe is not None and self._clock() >= self._next_probe:
            self._start_probe()  # the baseline is stale: the queue may have become the norm
            return
        self._window.append(latency)
        if self.slow_start and self._history:
            self._fastest = min(self._fastest, latency)
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
        size = max(4, self._window_limit)
        if self.baseline is not None and latency > self.baseline * self.tolerance:
            self._window_slow += 1
        # A window decides once it is complete, or as soon as more than half of it is slow (its
        # median can only be slow then): against a server that queues, the window after slow
        # start's last step takes several answer times to complete (92 answers at 8 at once).
        if len(self._window) < size and 2 * self._window_slow <= size:
            return
        median = statistics.median(self._window)
        used = self._window_peak >= 0.8 * self.current
        baseline = self.baseline
        self._history.append(median)
        if baseline is not None and median > baseline * self.tolerance:
            # The server queues: more in flight only makes answers slower. Back off in proportion
            # to the slowdown (at least x`backoff`, at most x0.5), so a large overshoot from
            # slow start is undone in a round trip or two, not one step at a time.
            decreased = self._decrease(ticket, factor=max(0.5, min(self.backoff, baseline * self.tolerance / median)))
            if (decreased and self.probes == 0 and median > baseline * self.tolerance ** 2
                    and self._fastest * self.tolerance < baseline):
                # The end of slow start, far slower, and answers since the first round came back
                # faster than it: its answers were slow for another reason (cold connections, a
                # busy machine), and the inflated baseline let slow start overshoot a server that
                # queues. Re-measure now, not in probe_interval: against such a server the probe
                # costs about one answer's time (its queue keeps it busy meanwhile). Without that
                # evidence (a client or server that is simply full), wait: there a probe costs
                # about two round trips of sending little.
                self._start_probe()
        elif used and not self.slow_start:
            self._set(min(float(self.ceiling), self.limit + max(1.0, self.limit * 0.05)))
        else:
            self._new_window()

    def _start_probe(self) -> None:
        """ProbeRTT (TCP BBR; Envoy's adaptive concurrency does the same): a few requests in
        flight, once the ones sent before have drained, show the latency of a server that is not
        queueing; their median replaces the baseline, so no old or inflated one can stick."""
        now, before = self._clock(), self.current
        self._next_probe = now + self._probe_every
        # At most PROBE_LIMIT, and at most half the limit (a server near the floor may queue at
        # the limit itself); at the floor, no dip, but the measure still replaces the baseline.
        cap = max(self.floor, min(PROBE_LIMIT, before // 2))
        self.probes += 1
        self._probe = _Probe(cap=cap, seq=self._seq + 1, started=now, in_flight=self.in_flight,
                             full=self.in_flight >= 0.8 * before)
        self._measure_seq = self._probe.seq  # only requests sent with few in flight count
        if self.current != before:
            self.changes.append((now, self.current))

    def _probe_answer(self, probe: "_Probe", latency: float) -> None:
        probe.answers.append(latency)
        if len(probe.answers) < max(2, probe.cap):
            return
        self._probe = None
        baseline, before = statistics.median(probe.answers), self.baseline
        self._history.clear()
        self._history.append(baseline)
        now = self._clock()
        queued = False
        if probe.full and probe.in_flight >= 8 and probe.half_drained > probe.started:
            # The requests sent before the probe drained at the server's pace: that rate times
            # the unqueued latency is how many it serves at once (Little's law; BBR's
            # bandwidth-delay product). An inflated limit comes down to twice that (BBR's cwnd
            # gain) at once, not window after window of queued answers; the windows do the rest.
            # The first half of the drain gives the rate: one straggler must not make it look slow.
            served_at_once = probe.in_flight / 2 / (probe.half_drained - probe.started) * baseline
            queued = served_at_once * self.tolerance < probe.in_flight
            self.limit = min(self.limit, max(float(probe.cap), 2 * served_at_once))
        # Probe often where it pays, rarely where it costs: against a server that queues a probe
        # costs about one answer's time; against one that does not, about two round trips of
        # sending little (the drain, then the probe's own answers).
        if queued or (before is not None and baseline * self.tolerance < before):
            self._probe_every = self.probe_interval
        else:
            self._probe_every = min(MAX_PROBE_INTERVAL, 2 * self._probe_every)
        self._next_probe = now + self._probe_every
        self._measure_seq = self._seq + 1
        self._new_window()
        self.changes.append((now, self.current))

    def _new_window(self) -> None:
        self._window, self._window_peak, self._window_limit = [], self.in_flight, self.current
        self._window_slow = 0  # answers slower than tolerance x baseline

    def _decrease(self, ticket: Ticket, factor: float | None = None) -> bool:
        if not self.adaptive or ticket.seq < self._decrease_seq:
            return False  # one decrease per round trip
        if self._next_probe is None:  # the end of slow start: the server has a limit, re-measure now and then
            self._next_probe = self._clock() + self._probe_every
        self.slow_start = False
        self.decreases += 1
        self._decrease_seq = self._seq + 1
        self._set(max(float(self.floor), self.limit * (factor or self.backoff)))
        return True

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
        # The learned limit, not a probe's brief dip: the job's requests wait in the limiter's
        # line meanwhile and go out the moment it ends.
        return self.limiter.learned if self.limiter is not None else self.fixed

    @property
    def fixed_at_one(self) -> bool:
        """One request at a time, always (the embedded model)."""
        return self.limiter is None and self.fixed == 1
