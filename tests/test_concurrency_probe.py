"""The limiter's re-measures of the unqueued latency (ProbeRTT, core/concurrency.py), on a clock
the test moves: when one begins, how few requests go out meanwhile, what it changes, how often."""

from __future__ import annotations

from core.concurrency import MAX_PROBE_INTERVAL, PROBE_INTERVAL, PROBE_LIMIT, AdaptiveLimiter, Outcome
from tests.test_concurrency import Clock, fill, make, round_trip


def answer_mixed(limiter: AdaptiveLimiter, clock: Clock, latencies: list[float]) -> int:
    """Send as many requests as allowed; they are answered with `latencies` in turn."""
    tickets = fill(limiter)
    clock.now += max(latencies)
    for n, ticket in enumerate(tickets):
        limiter.release(ticket, Outcome.SUCCESS, latency=latencies[n % len(latencies)])
    return len(tickets)


def cold_start_then_overshoot(clock: Clock) -> AdaptiveLimiter:
    """A first round slowed to 0.6 s (cold connections), a second round in which a third of the
    answers take the server's real 0.2 s and the rest queue, then slow start's overshoot."""
    limiter = make(clock, initial=8)
    round_trip(limiter, clock, 0.6)
    answer_mixed(limiter, clock, [0.2, 0.6, 0.6])  # median 0.6: within tolerance, slow start goes on
    assert limiter.current == 92 and limiter.baseline == 0.6
    round_trip(limiter, clock, 2.4)  # four times slower at 92: the server queues
    return limiter


def test_a_cold_first_round_is_re_measured_at_once_with_few_in_flight() -> None:
    clock = Clock()
    limiter = cold_start_then_overshoot(clock)
    assert limiter.learned == 46 and not limiter.slow_start  # halved, as before
    # ... and the baseline is re-measured at once: only PROBE_LIMIT requests go out meanwhile.
    assert limiter.probing and limiter.current == PROBE_LIMIT
    assert answer_mixed(limiter, clock, [0.2]) == PROBE_LIMIT
    assert not limiter.probing and limiter.current == 46
    assert limiter.baseline == 0.2, "the probe's median replaced the cold first round's 0.6"
    # Against the true baseline, 0.5 s at 46 is a queue (against 0.6 it looked fine, and grew).
    round_trip(limiter, clock, 0.5)
    assert limiter.current == 23


def test_probes_come_every_interval_and_less_often_while_they_find_nothing() -> None:
    clock = Clock()
    limiter = make(clock, initial=8)
    for latency in (0.3, 0.3, 1.2):
        round_trip(limiter, clock, latency)
    ended = clock.now
    # Slower at 92, but nothing ever answered faster than the first round: the baseline is not in
    # doubt, and against a server (or a client) that is simply full a probe costs about two round
    # trips of sending little. No probe at the end of slow start: the first waits PROBE_INTERVAL.
    assert limiter.decreases == 1 and limiter.probes == 0
    assert limiter.learned == 46 and answer_mixed(limiter, clock, [0.3]) == 46
    while not limiter.probing:
        round_trip(limiter, clock, 0.3)
    assert PROBE_INTERVAL <= clock.now - ended < PROBE_INTERVAL + 1
    assert limiter.current == PROBE_LIMIT and limiter.learned > 100, "the learned limit is kept meanwhile"
    round_trip(limiter, clock, 0.3)  # the same latency: no queue, no inflated baseline
    assert not limiter.probing and limiter.current == limiter.learned
    gaps = []
    for _ in range(3):
        probed = clock.now
        while not limiter.probing:
            round_trip(limiter, clock, 0.3)
        gaps.append(clock.now - probed)
        round_trip(limiter, clock, 0.3)
    assert [round(gap / PROBE_INTERVAL) for gap in gaps] == [2, 4, 8]
    assert 8 * PROBE_INTERVAL == MAX_PROBE_INTERVAL


def test_a_probe_replaces_a_baseline_that_has_become_too_low() -> None:
    """The server got slower for everyone (longer prompts, a busier provider): windows measured
    against the old baseline would keep backing off toward the floor; the next probe sets the
    baseline to the new unqueued latency and the limit grows again."""
    clock = Clock()
    limiter = make(clock, initial=8)
    round_trip(limiter, clock, 0.3)
    ticket = limiter.try_acquire()
    assert ticket is not None
    limiter.release(ticket, Outcome.RATE_LIMITED)  # slow start ends (a 429)
    while not limiter.probing:
        round_trip(limiter, clock, 0.6)  # twice as slow at any load, from now on
    assert limiter.baseline == 0.3 and limiter.learned == limiter.floor, "backed off all the way down"
    while limiter.probing:  # at the floor: no dip, two answers at 1 in flight
        round_trip(limiter, clock, 0.6)
    assert limiter.baseline == 0.6
    before = limiter.current
    for _ in range(5):
        round_trip(limiter, clock, 0.6)
    assert limiter.current > before


def test_a_straggler_in_the_drain_does_not_cut_the_limit() -> None:
    """The limit after a probe comes from the pace at which the requests sent before it were
    answered; one slow answer among them (a long generation, a retry) must not make a server
    that keeps up look like one that serves a few at once."""
    clock = Clock()
    limiter = make(clock, initial=8)
    round_trip(limiter, clock, 0.6)
    answer_mixed(limiter, clock, [0.2, 0.6, 0.6])
    first = fill(limiter)
    clock.now += 2.4
    for ticket in first[:46]:
        limiter.release(ticket, Outcome.SUCCESS, latency=2.4)
    tickets = fill(limiter)  # 46 more go out in their place
    for ticket in first[46:]:  # four times slower at 92: the window ends, the probe begins
        limiter.release(ticket, Outcome.SUCCESS, latency=2.4)
    assert limiter.probing and len(tickets) == 46, "requests still in flight when the probe began"
    learned = limiter.learned
    straggler = tickets.pop()
    clock.now += 0.05
    for ticket in tickets:  # the rest answer at once: the server keeps up
        limiter.release(ticket, Outcome.SUCCESS, latency=2.45)
    clock.now += 3.0
    limiter.release(straggler, Outcome.SUCCESS, latency=5.45)
    assert answer_mixed(limiter, clock, [0.2]) == PROBE_LIMIT
    assert not limiter.probing and limiter.learned == learned, "no cut: half the drain came in 0.05 s"
