"""The judge queue (core/verify_queue.py): the rows of several answers of one job go to the judge
in one request, each answer still gets exactly its own verdicts, nothing waits for rows that
cannot come, and a judge that cannot answer lets no row through. Against the fake server,
which answers the judge with each text's true class (a marker word in the text)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import pytest

from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from core.verify import DISAGREEMENT, JUDGE_BATCH, NOT_VERIFIED, Verifier
from core.verify_queue import JudgeQueue
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, FakeResponse, marked_text
from tests.test_generator_e2e import INTENTS, assert_exact_and_clean

SPEC = DatasetSpec.from_data({"task": "classification", "topic": "reviews", "labels": ["positive", "negative"],
                              "count": 100})


def answer(rng: random.Random, rows: int, wrong: int = 0) -> list[dict[str, Any]]:
    """One answer's rows, all meant to be positive; the first `wrong` are truly negative."""
    return [{"text": marked_text("negative" if n < wrong else "positive", rng), "label": "positive"}
            for n in range(rows)]


def make_queue(settings: Settings, *, idle: bool = False, wait: float = 30.0) -> tuple[JudgeQueue, OpenAIBackend]:
    judge = OpenAIBackend.from_settings(settings)
    queue = JudgeQueue(Verifier(judge, concurrency=64), SPEC, idle=lambda: idle, max_wait=lambda: wait)
    return queue, judge


async def test_answers_share_a_judge_request_and_keep_their_own_verdicts(settings: Settings,
                                                                       fake_llm: FakeOpenAI) -> None:
    queue, judge = make_queue(settings)  # more rows may come and the timer is far: sent only when full
    rng = random.Random(1)
    answers = [answer(rng, 10), answer(rng, 10, wrong=3), answer(rng, 10), answer(rng, 10, wrong=1)]
    try:
        results = await asyncio.gather(*(queue.screen(rows) for rows in answers))
    finally:
        await queue.aclose()
        await judge.aclose()
    assert sum(len(rows) for rows in answers) == JUDGE_BATCH
    assert fake_llm.labeling_requests == 1
    for rows, screened, wrong in zip(answers, results, [0, 3, 0, 1]):
        assert screened.kept == rows[wrong:]  # its own rows, in their order, the truly negative ones out
        assert [row.reason for row in screened.rejected] == [DISAGREEMENT] * wrong
        assert [row.fields["text"] for row in screened.rejected] == [row["text"] for row in rows[:wrong]]
        assert all(row.fields["verified_label"] == "negative" for row in screened.rejected)
    assert sum(screened.requests for screened in results) == 1  # the request's tokens are charged once
    assert sum(screened.usage.prompt_tokens for screened in results) > 0


async def test_an_idle_job_does_not_wait_for_more_rows(settings: Settings, fake_llm: FakeOpenAI) -> None:
    queue, judge = make_queue(settings, idle=True)  # nothing else asked: the timer (30 s) never matters
    try:
        started = time.monotonic()
        screened = await asyncio.wait_for(queue.screen(answer(random.Random(2), 4, wrong=1)), 10)
    finally:
        await queue.aclose()
        await judge.aclose()
    assert time.monotonic() - started < 5
    assert len(screened.kept) == 3 and len(screened.rejected) == 1 and fake_llm.labeling_requests == 1


async def test_a_partial_request_goes_out_after_the_wait(settings: Settings, fake_llm: FakeOpenAI) -> None:
    queue, judge = make_queue(settings, wait=0.2)
    rng = random.Random(3)
    try:
        started = time.monotonic()
        first = asyncio.create_task(queue.screen(answer(rng, 5)))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(queue.screen(answer(rng, 5, wrong=2)))
        results = await asyncio.wait_for(asyncio.gather(first, second), 10)
    finally:
        await queue.aclose()
        await judge.aclose()
    assert 0.15 <= time.monotonic() - started < 5
    assert fake_llm.labeling_requests == 1  # both answers, in one request
    assert [len(screened.kept) for screened in results] == [5, 3]


async def test_an_answer_that_would_overfill_the_request_starts_the_next(settings: Settings,
                                                                        fake_llm: FakeOpenAI) -> None:
    queue, judge = make_queue(settings, wait=0.2)
    rng = random.Random(4)
    try:
        results = await asyncio.gather(*(queue.screen(answer(rng, 15)) for _ in range(3)))
    finally:
        await queue.aclose()
        await judge.aclose()
    assert [len(screened.kept) for screened in results] == [15, 15, 15]
    assert fake_llm.labeling_requests == 2  # 30 rows, then 15: never more than JUDGE_BATCH in one


async def test_a_judge_that_cannot_answer_leaves_every_answer_in_the_request_unverified(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    def judge_down(body: dict[str, Any]) -> FakeResponse | None:
        if "Classify each" in body["messages"][-1]["content"]:
            return FakeResponse(status=503, body={"error": {"message": "judge overloaded"}})
        return None

    fake_llm.responders.append(judge_down)
    queue, judge = make_queue(settings.model_copy(update={"max_retries": 0}), wait=0.1)
    rng = random.Random(5)
    try:
        results = await asyncio.gather(queue.screen(answer(rng, 6)), queue.screen(answer(rng, 6)))
    finally:
        await queue.aclose()
        await judge.aclose()
    for screened in results:
        assert screened.kept == [] and [row.reason for row in screened.rejected] == [NOT_VERIFIED] * 6


async def test_a_caller_that_stops_waiting_does_not_stop_the_others(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.latency = 0.2
    queue, judge = make_queue(settings, wait=0.05)
    rng = random.Random(6)
    try:
        gone = asyncio.create_task(queue.screen(answer(rng, 5)))
        stays = asyncio.create_task(queue.screen(answer(rng, 5, wrong=1)))
        await asyncio.sleep(0.1)  # the request is out
        gone.cancel()
        screened = await asyncio.wait_for(stays, 10)
    finally:
        await queue.aclose()
        await judge.aclose()
    assert gone.cancelled()
    assert len(screened.kept) == 4 and screened.requests == 1  # the cancelled one is not charged


@pytest.mark.parametrize("concurrency", [None, 8], ids=["adaptive", "fixed 8"])
async def test_a_job_sends_fewer_judge_requests_than_generation_requests(
        settings: Settings, fake_llm: FakeOpenAI, concurrency: int | None) -> None:
    """The engine end to end: exact counts, no mislabeled row delivered, and the judge's requests
    (one per answer before the queue) fewer than half the generation requests. 1,000 rows: the
    end of a job, where the few answers replacing rejected rows come one at a time and each is
    judged at once (nothing else is asked), is a small part of it."""
    fake_llm.latency = 0.05
    fake_llm.mislabel_share = 0.2
    settings = settings.model_copy(update={"verify": "on", "concurrency": concurrency, "batch_size": 10})
    spec = DatasetSpec.from_data({**INTENTS, "count": 1000})
    store = Store.from_url(settings.database_url)
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        result = await generator.run(generator.create_job(spec))
    finally:
        await llm.aclose()
    assert_exact_and_clean(result, store, spec)
    delivered = {" ".join(row.fields["text"].split()) for row in store.accepted_rows(result.job_id)}
    assert fake_llm.mislabeled and not delivered & fake_llm.mislabeled
    kinds = Counter("judge" if "Classify each" in body["messages"][-1]["content"] else "writer"
                    for body in fake_llm.requests)
    assert kinds["judge"] == fake_llm.labeling_requests and kinds["writer"] >= 100
    assert kinds["judge"] * 2 <= kinds["writer"], kinds


async def test_closing_stops_a_judge_request_nobody_waits_for(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """At the end of a run (quotas met, or the job stopped) the rows still waiting for the judge
    are dropped with their requests: closing does not wait a judge's round trip for them."""
    fake_llm.latency = 3.0
    queue, judge = make_queue(settings, wait=0.01)
    rng = random.Random(7)
    try:
        waiting = [asyncio.create_task(queue.screen(answer(rng, 5))) for _ in range(2)]
        await asyncio.sleep(0.3)  # the request is out, its answer 3 s away
        assert fake_llm.in_flight == 1
        for task in waiting:
            task.cancel()
        started = time.monotonic()
        await asyncio.wait_for(queue.aclose(), 10)
    finally:
        await judge.aclose()
    assert time.monotonic() - started < 1.0
    assert all(task.cancelled() for task in waiting)

