"""The engine under faults that used to stop a job or leave it in a wrong state: bursts of
broken HTTP bodies, a rejected row that cannot be encoded, many requests failing at once, a
server that never answers. The real openai client against the fake server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

from core.generator import Generator, JobProgress
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, FakeResponse
from tests.test_generator_e2e import INTENTS, SEED_ORDER, assert_exact_and_clean, generate


async def test_a_burst_of_empty_and_garbage_bodies_is_retried_like_a_5xx(
    settings: Settings, fake_llm: FakeOpenAI
) -> None:
    # More broken answers in a row than the job tolerates failed requests (5): each must be
    # retried inside the backend, as a 500 is, not turned into a failed request.
    for _ in range(4):
        fake_llm.inject("empty_body")
        fake_llm.inject("malformed_body")
    result, store, spec = await generate(settings.model_copy(update={"concurrency": 1}), SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.pending_faults == 0
    assert len(fake_llm.generation_requests) == 8 + 2


async def test_a_rejected_row_with_a_lone_surrogate_is_stored_not_fatal(
    settings: Settings, fake_llm: FakeOpenAI
) -> None:
    sent = False

    def broken_row(body: dict[str, Any]) -> str | None:
        nonlocal sent
        if sent:
            return None
        sent = True
        # JSON escapes a model may write: a lone high surrogate, in a row rejected for its label,
        # in a key, and in a row too short to keep.
        return ('{"examples": [{"text": "Great \\ud83d day out", "label": "happy\\ud83d"}, '
                '{"text\\udc00": "x", "label": "positive"}, {"text": "\\ud83d", "label": "positive"}]}')

    fake_llm.responders.append(broken_row)
    result, store, spec = await generate(settings, SEED_ORDER)
    assert sent
    assert_exact_and_clean(result, store, spec)
    assert result.rejected.get("bad label") == 1 and sum(result.rejected.values()) == 3
    from tests.test_generator_e2e import _rejected

    rejected = _rejected(store, result.job_id)
    bad_label = next(row for row in rejected if row.reason == "bad label")
    assert json.loads(bad_label.fields_json) == {"text": "Great \ufffd day out", "label": "happy\ufffd"}
    assert bad_label.label == "happy\ufffd"
    assert {row.reason for row in rejected} == {"bad label", "missing field", "too short"}


async def test_a_failing_job_leaves_no_task_exception_unretrieved(settings: Settings, fake_llm: FakeOpenAI) -> None:
    # Every request is refused at once (a revoked key): many requests fail in the same instant.
    fake_llm.responders.append(lambda body: FakeResponse(401, {"error": {"message": "Incorrect API key"}}))
    unretrieved: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context["message"]))
    try:
        result, _, _ = await generate(settings.model_copy(update={"concurrency": 16, "batch_size": 1}),
                                      {**INTENTS, "count": 200})
        await asyncio.sleep(0.05)
        gc.collect()  # a task whose exception nobody read complains when it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert result.status == "failed" and "rejected the API key" in (result.error or "")
    assert len(fake_llm.requests) >= 6  # several requests were in flight when the job failed
    assert unretrieved == []


async def test_a_server_that_never_answers_fails_soon_and_says_it_is_waiting(
    settings: Settings, fake_llm: FakeOpenAI
) -> None:
    fake_llm.inject("slow", times=50, delay=60)  # accepts the connection, never answers in time
    patient = settings.model_copy(update={"request_timeout": 60, "no_answer_timeout": 2.5, "concurrency": 2})
    seen: list[JobProgress] = []
    started = time.monotonic()
    result, store, _ = await generate(patient, SEED_ORDER, on_progress=seen.append)
    elapsed = time.monotonic() - started
    assert result.status == "failed"
    assert result.error is not None and "has not answered for" in result.error
    assert "DATAGEN_NO_ANSWER_TIMEOUT" in result.error
    assert elapsed < 10  # not 60 s per try times the retries
    waiting = [p.waiting_seconds for p in seen if p.waiting_seconds]
    assert waiting and max(waiting) >= 1.25 and seen[-1].waiting_limit == 2.5
    assert store.get_job(result.job_id).status == "failed"  # type: ignore[union-attr]


async def test_answers_reset_the_silence_clock(settings: Settings, fake_llm: FakeOpenAI) -> None:
    # Slow but steady answers (each well within the limit) never count as silence.
    fake_llm.latency = 0.6
    steady = settings.model_copy(update={"no_answer_timeout": 1.5, "concurrency": 1, "batch_size": 2})
    result, store, spec = await generate(steady, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert len(fake_llm.generation_requests) == 5  # 3 s in all: twice the limit, yet no failure


async def test_rate_limited_answers_are_not_silence(settings: Settings, fake_llm: FakeOpenAI) -> None:
    # A server that keeps saying "429, come back in 1 s" is busy, not dead: the job waits it out.
    fake_llm.inject("429", times=3, retry_after=1)
    busy = settings.model_copy(update={"no_answer_timeout": 1.5, "concurrency": 1})
    result, store, spec = await generate(busy, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.pending_faults == 0
