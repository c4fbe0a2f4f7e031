"""The adaptive concurrency controller's decisions (core/concurrency.py), on a clock the test moves."""

from __future__ import annotations

import asyncio

import pytest

from core.concurrency import MAX_PAUSE, AdaptiveLimiter, Outcome, Ticket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, **options: object) -> AdaptiveLimiter:
    return AdaptiveLimiter(clock=clock, **options)  # type: ignore[arg-type]


def fill(limiter: AdaptiveLimiter) -> list[Ticket]:
    """Take every free slot, as the engine does."""
    tickets = []
    while (ticket := limiter.try_acquire()) is not None:
        tickets.append(ticket)
    return tickets


def round_trip(limiter: AdaptiveLimiter, clock: Clock, latency: float) -> None:
    """Send as many requests as allowed, all answered after `latency`."""
    tickets = fill(limiter)
    clock.now += latency
    for ticket in tickets:
        limiter.release(ticket, Outcome.SUCCESS, latency=latency)


def test_slow_start_quadruples_while_latency_stays_flat() -> None:
    clock = Clock()
    limiter = make(clock, initial=8, ceiling=256)
    seen = [limiter.current]
    for _ in range(6):
        round_trip(limiter, clock, 0.3)
        seen.append(limiter.current)
    # Three more slots per answer, from the fourth answer of the first round trip on (its first
    # four give a provisional baseline): 8 + 5 x 3 = 23, then x4.
    assert seen == [8, 23, 92, 256, 256, 256, 256]
    doubling = make(clock, initial=8, ceiling=256, slow_start_step=1)  # TCP's pace, for comparison
    for _ in range(3):
        round_trip(doubling, clock, 0.3)
    assert doubling.current == 52
    round_trip(limiter, clock, 0.3)
    assert limiter.current == 256, "never above the ceiling"


def test_a_429_decreases_multiplicatively_once_per_round_trip() -> None:
    clock = Clock()
    limiter = make(clock, initial=40)
    tickets = fill(limiter)
    assert len(tickets) == 40
    # Ten of the forty sent together come back 429: one decrease, not ten.
    for ticket in tickets[:10]:
        limiter.release(ticket, Outcome.RATE_LIMITED)
    assert limiter.current == 30 and limiter.decreases == 1 and not limiter.slow_start
    assert limiter.rate_limited == 10
    # A request sent after the decrease that gets a 429 decreases again.
    for ticket in tickets[10:]:
        limiter.release(ticket, Outcome.SUCCESS, latency=0.3)
    later = limiter.try_acquire()
    assert later is not None
    limiter.release(later, Outcome.RATE_LIMITED)
    assert limiter.current == 22 and limiter.decreases == 2


def test_after_a_decrease_growth_is_additive() -> None:
    clock = Clock()
    limiter = make(clock, initial=20)
    ticket = limiter.try_acquire()
    assert ticket is not None
    limiter.release(ticket, Outcome.OVERLOADED)  # a timeout or a 503
    assert limiter.current == 15
    sizes = []
    for _ in range(4):
        round_trip(limiter, clock, 0.3)
        sizes.append(limiter.current)
    assert sizes == [16, 17, 18, 19]


def test_retry_after_pauses_every_request_of_the_backend() -> None:
    clock = Clock()
    limiter = make(clock, initial=4)
    first = limiter.try_acquire()
    assert first is not None
    limiter.release(first, Outcome.RATE_LIMITED, retry_after=2.0)
    assert limiter.try_acquire() is None, "nobody sends during the pause"
    clock.now += 1.9
    assert limiter.try_acquire() is None
    clock.now += 0.2
    assert limiter.try_acquire() is not None
    # A Retry-After of an hour is a quota, not a pause: capped.
    limiter.pause(3600)
    assert limiter.paused_for() == pytest.approx(MAX_PAUSE)


def test_latency_growth_backs_off_a_server_that_queues() -> None:
    clock = Clock()
    limiter = make(clock, initial=8)
    round_trip(limiter, clock, 0.3)  # baseline 0.3 at 8
    assert limiter.current == 23
    round_trip(limiter, clock, 0.6)  # twice as slow at 23: the server queues
    assert limiter.current == 14 and not limiter.slow_start  # x (0.3 * 1.3 / 0.6)
    round_trip(limiter, clock, 0.35)  # within tolerance: grow again, additively
    assert limiter.current == 15
    round_trip(limiter, clock, 3.0)  # ten times slower: halved, not more
    assert limiter.current == 7


def test_noise_within_tolerance_does_not_back_off() -> None:
    clock = Clock()
    limiter = make(clock, initial=8, tolerance=1.3)
    for latency in (0.30, 0.36, 0.33):
        round_trip(limiter, clock, latency)
    assert limiter.decreases == 0 and limiter.current == 256


def test_sustained_429s_never_go_below_the_floor_and_keep_sending() -> None:
    clock = Clock()
    limiter = make(clock, initial=64, floor=2)
    for _ in range(50):
        tickets = fill(limiter)
        assert len(tickets) >= 2, "the floor is always available once the pause is over"
        for ticket in tickets:
            limiter.release(ticket, Outcome.RATE_LIMITED, retry_after=1.0)
        clock.now += 1.0
    assert limiter.current == 2


def test_an_unused_limit_does_not_grow() -> None:
    clock = Clock()
    limiter = make(clock, initial=32)
    for _ in range(10):  # a job with 3 requests at a time, far below the limit
        tickets = [limiter.try_acquire() for _ in range(3)]
        clock.now += 0.3
        for ticket in tickets:
            assert ticket is not None
            limiter.release(ticket, Outcome.SUCCESS, latency=0.3)
    assert limiter.current == 32


def test_errors_that_say_nothing_about_load_change_nothing() -> None:
    clock = Clock()
    limiter = make(clock, initial=10)
    ticket = limiter.try_acquire()
    assert ticket is not None
    limiter.release(ticket, Outcome.ERROR)
    assert limiter.current == 10 and limiter.decreases == 0 and limiter.in_flight == 0


def test_a_fixed_limit_never_moves_but_still_honours_retry_after() -> None:
    clock = Clock()
    limiter = make(clock, floor=16, ceiling=16, adaptive=False)
    tickets = fill(limiter)
    assert len(tickets) == 16
    for ticket in tickets:
        limiter.release(ticket, Outcome.RATE_LIMITED, retry_after=1.0)
    assert limiter.current == 16
    assert limiter.try_acquire() is None
    clock.now += 1.01
    assert len(fill(limiter)) == 16


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        AdaptiveLimiter(floor=0)
    with pytest.raises(ValueError):
        AdaptiveLimiter(floor=10, ceiling=5)


async def test_acquire_waits_for_a_released_slot_in_order() -> None:
    limiter = AdaptiveLimiter(floor=1, ceiling=1, adaptive=False)
    held = await limiter.acquire()
    order: list[str] = []

    async def take(name: str) -> None:
        ticket = await limiter.acquire()
        order.append(name)
        await asyncio.sleep(0.01)
        limiter.release(ticket, Outcome.SUCCESS, latency=0.01)

    waiters = [asyncio.create_task(take(name)) for name in ("first", "second")]
    await asyncio.sleep(0.05)
    assert order == [], "no slot while one is held"
    limiter.release(held, Outcome.SUCCESS, latency=0.05)
    await asyncio.wait_for(asyncio.gather(*waiters), 2)
    assert order == ["first", "second"]


async def test_acquire_waits_out_a_shared_pause() -> None:
    limiter = AdaptiveLimiter(initial=4)
    ticket = await limiter.acquire()
    limiter.release(ticket, Outcome.RATE_LIMITED, retry_after=0.3)
    started = asyncio.get_running_loop().time()
    await limiter.acquire()
    assert asyncio.get_running_loop().time() - started >= 0.28


async def test_an_urgent_request_waits_ahead_of_the_queued_background_ones() -> None:
    """A reply the user waits for (the intake's reading of an order, a preview) is not stuck
    behind a job's queued requests; the limit still holds for it."""
    from core.concurrency import urgent

    limiter = AdaptiveLimiter(initial=2, adaptive=False, ceiling=2)
    held = [limiter.try_acquire(), limiter.try_acquire()]
    order: list[str] = []

    async def request(name: str, is_urgent: bool = False) -> None:
        if is_urgent:
            with urgent():
                ticket = await limiter.acquire()
        else:
            ticket = await limiter.acquire()
        order.append(name)
        assert limiter.in_flight <= 2
        await asyncio.sleep(0.01)
        limiter.release(ticket, Outcome.SUCCESS, latency=0.01)

    background = [asyncio.create_task(request(f"job{n}")) for n in range(6)]
    await asyncio.sleep(0.01)  # the job's requests are queued first
    reply = asyncio.create_task(request("reply", is_urgent=True))
    await asyncio.sleep(0.01)
    for ticket in held:
        assert ticket is not None
        limiter.release(ticket, Outcome.SUCCESS, latency=0.01)
    await asyncio.gather(reply, *background)
    assert order.index("reply") == 0, order
