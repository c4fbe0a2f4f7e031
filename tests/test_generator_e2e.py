"""The engine end to end: the real openai client against the fake OpenAI-compatible server on
127.0.0.1, with every fault the issue lists. Each job must end with exactly the ordered counts,
only allowed labels, and no duplicates."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from typing import Any

import pytest

from core.generator import Generator, Guidance, JobProgress, JobResult
from core.llm_openai import OpenAIBackend
from core.quality import dedupe_key, row_text
from core.settings import Settings
from core.spec import DatasetSpec, TaskType
from storage.store import Store
from tests.engine_support import run_job
from tests.fakes.openai_server import FakeOpenAI

SEED_ORDER = {"task": "classification", "topic": "everyday life", "labels": ["positive", "negative"],
              "label_counts": {"positive": 8, "negative": 2}}
INTENTS = {"task": "classification", "topic": "an online shop's chatbot",
           "labels": ["greeting", "order_status", "cancel_order", "complaint", "goodbye"], "count": 60}


async def generate(
    settings: Settings,
    spec_data: dict[str, Any],
    guidance: Guidance | None = None,
    on_progress: Any = None,
) -> tuple[JobResult, Store, DatasetSpec]:
    spec = DatasetSpec.from_data(spec_data)
    store = Store.from_url(settings.database_url)
    result = await run_job(settings, store, spec, guidance, on_progress)
    return result, store, spec


def assert_exact_and_clean(result: JobResult, store: Store, spec: DatasetSpec) -> None:
    assert result.status == "done", result.error
    rows = store.accepted_rows(result.job_id, sources=["synthetic", "kept"])
    counts = Counter(row.label for row in rows)
    assert dict(counts) == {label: n for label, n in spec.quotas().items() if n}
    assert result.accepted == spec.quotas()
    keys = [dedupe_key(row_text(spec.task, row.fields)) for row in store.accepted_rows(result.job_id)]
    assert len(keys) == len(set(keys)), "duplicate rows were accepted"
    for row in rows:
        assert tuple(row.fields) == spec.columns
        if spec.task == TaskType.classification:
            assert row.fields["label"] in spec.labels and row.label == row.fields["label"]


async def test_seed_order_exact_counts_in_few_batched_requests(settings: Settings, fake_llm: FakeOpenAI) -> None:
    result, store, spec = await generate(settings, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    # Batches, not one row per request: one request per label here, and the verification of both
    # answers (DATAGEN_VERIFY is on for server models) in one judge request, or in one each when the
    # second answer came later than the first waited for it (core/verify_queue.py).
    judge_requests = len(fake_llm.requests) - len(fake_llm.generation_requests)
    assert len(fake_llm.generation_requests) == 2 and judge_requests in (1, 2)
    body = fake_llm.generation_requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["examples"]["items"]["properties"]["label"][
        "enum"] == ["positive", "negative"]
    job = store.get_job(result.job_id)
    assert job is not None and job.status == "done"
    assert job.prompt_tokens > 0 and job.completion_tokens > 0 and job.requests == len(fake_llm.requests)
    assert result.prompt_tokens == job.prompt_tokens


async def test_language_and_tone_reach_the_prompt(settings: Settings, fake_llm: FakeOpenAI) -> None:
    order = {**SEED_ORDER, "language": "Polish", "tone": "sarcastic"}
    result, store, spec = await generate(settings, order)
    assert_exact_and_clean(result, store, spec)
    prompts = [body["messages"][-1]["content"] for body in fake_llm.generation_requests]
    assert all("Write every example in Polish." in p and "Tone: sarcastic." in p for p in prompts)


async def test_rate_limit_with_retry_after_is_honoured(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("429", retry_after=1)
    started = time.monotonic()
    result, store, spec = await generate(settings, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert time.monotonic() - started >= 0.95  # waited as the server asked
    assert len(fake_llm.generation_requests) == 3  # the 429 and two good answers


async def test_server_errors_are_retried(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("500", times=3)
    result, store, spec = await generate(settings, INTENTS)
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.pending_faults == 0


async def test_slow_answers_time_out_and_are_retried(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fast_timeout = settings.model_copy(update={"request_timeout": 0.5})
    fake_llm.inject("slow", delay=5)
    started = time.monotonic()
    result, store, spec = await generate(fast_timeout, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert time.monotonic() - started < 4  # gave up on the slow answer instead of waiting 5 s


@pytest.mark.parametrize("style", ["truncated", "prose"])
async def test_malformed_answers_are_reasked(settings: Settings, fake_llm: FakeOpenAI, style: str) -> None:
    fake_llm.inject("malformed", times=2, style=style)
    result, store, spec = await generate(settings, INTENTS)
    assert_exact_and_clean(result, store, spec)
    if style == "prose":
        assert result.rejected.get("malformed output") == 2


async def test_malformed_http_body_is_retried(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("malformed_body", times=2)
    result, store, spec = await generate(settings, SEED_ORDER)
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.pending_faults == 0  # both broken bodies were served ...
    assert len(fake_llm.generation_requests) == 4  # ... and retried: two broken, two good answers (one per label)
    assert result.rejected == {}  # a broken body is a transport fault, not a rejected answer


async def test_wrong_labels_are_rejected_never_relabelled(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("wrong_labels", times=3, fraction=0.5)
    result, store, spec = await generate(settings, INTENTS)
    assert_exact_and_clean(result, store, spec)
    assert result.rejected.get("bad label", 0) >= 3
    # The rejected rows keep the label the model wrote.
    wrong = {row.label for row in _rejected(store, result.job_id) if row.reason == "bad label"}
    assert wrong and all(label.startswith("not-") for label in wrong)


@pytest.mark.parametrize("kind", ["duplicates", "near_duplicates"])
async def test_duplicates_are_dropped_and_replaced(settings: Settings, fake_llm: FakeOpenAI, kind: str) -> None:
    # The first batches are fine; later ones repeat texts the engine has already accepted.
    order = {**INTENTS, "count": 100}
    original = fake_llm.responders

    injected = False

    def inject_after_first(body: dict[str, Any]) -> None:
        nonlocal injected
        if not injected and len(fake_llm.requests) >= 3:
            injected = True
            fake_llm.inject(kind, times=4)
        return None

    original.append(inject_after_first)
    result, store, spec = await generate(settings, order)
    assert_exact_and_clean(result, store, spec)
    reason = "duplicate" if kind == "duplicates" else "near-duplicate"
    assert result.rejected.get(reason, 0) >= 4 and result.duplicates >= 4


async def test_server_without_json_schema_gets_the_line_template(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.reject_json_schema = True
    result, store, spec = await generate(settings, INTENTS)
    assert_exact_and_clean(result, store, spec)
    later = [body for body in fake_llm.generation_requests if "response_format" not in body]
    assert later and all("Q: <sentence>\nA: <label>" in body["messages"][-1]["content"] for body in later)


@pytest.mark.parametrize("order", [
    {"task": "multiple_choice", "topic": "the French Revolution", "count": 23},
    {"task": "qa", "topic": "astronomy", "count": 23},
])
@pytest.mark.parametrize("reject_schema", [False, True])
async def test_quiz_and_qa(settings: Settings, fake_llm: FakeOpenAI, order: dict[str, Any], reject_schema: bool) -> None:
    fake_llm.reject_json_schema = reject_schema
    result, store, spec = await generate(settings, order)
    assert_exact_and_clean(result, store, spec)
    if spec.task == TaskType.multiple_choice:
        rows = store.accepted_rows(result.job_id)
        positions = Counter(row.fields["answer"] for row in rows)
        assert set(positions) == {"a", "b", "c", "d"}
        assert max(positions.values()) - min(positions.values()) <= 1  # correct answers spread evenly
        for row in rows:
            options = [row.fields[f"option_{letter}"] for letter in "abcd"]
            assert len(set(options)) == 4 and all(options)


async def test_acceptance_collapse_stops_with_a_reason(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("wrong_labels", times=10_000)
    result, store, _ = await generate(settings, INTENTS)
    assert result.status == "failed"
    assert result.error is not None and "labels that are not in the order" in result.error
    assert len(fake_llm.requests) < 60  # gave up instead of burning the budget
    assert store.get_job(result.job_id).status == "failed"  # type: ignore[union-attr]


async def test_unreachable_server_fails_with_a_clear_error(settings: Settings) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = settings.model_copy(update={"openai_base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 0})
    result, _, _ = await generate(dead, SEED_ORDER)
    assert result.status == "failed"
    assert result.error is not None and "cannot reach" in result.error and str(port) in result.error


async def test_requests_run_concurrently_up_to_the_limit(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.latency = 0.1
    # Generation requests only (verification shares the slots: tests/test_verify.py checks that).
    limited = settings.model_copy(update={"concurrency": 6, "batch_size": 5, "verify": "off"})
    started = time.monotonic()
    result, store, spec = await generate(limited, {**INTENTS, "count": 150})
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.peak_in_flight == 6
    # 30 requests of 0.1 s, 6 at a time: about 0.5 s; sequential would be 3 s.
    assert time.monotonic() - started < 2.0
    assert all(body["max_tokens"] > 0 for body in fake_llm.requests)


async def test_guidance_keep_existing_and_avoid(settings: Settings, fake_llm: FakeOpenAI) -> None:
    keep = [{"text": "What a lovely morning walk!", "label": "positive"}]
    existing = [{"text": "The bus was late again.", "label": "negative"}]
    guidance = Guidance(keep=keep, existing=existing, avoid=[{"text": "ok", "label": "positive"}],
                        few_shot=keep, feedback=["mention weather"])

    sent_copy = False

    def repeat_uploaded_row(body: dict[str, Any]) -> dict[str, Any] | None:
        nonlocal sent_copy
        if sent_copy or '"negative"' not in body["messages"][-1]["content"].split("Produce exactly")[1]:
            return None
        sent_copy = True  # the model copies the uploaded row once: it must be rejected as a duplicate
        return {"examples": [{"text": "The bus was LATE again!", "label": "negative"}]}

    fake_llm.responders.append(repeat_uploaded_row)
    result, store, spec = await generate(settings, SEED_ORDER, guidance)
    assert_exact_and_clean(result, store, spec)
    sources = Counter(row.source for row in store.accepted_rows(result.job_id))
    assert sources == {"synthetic": 9, "kept": 1, "uploaded": 1}
    assert sent_copy and result.duplicates == 1
    prompt = fake_llm.requests[0]["messages"][-1]["content"]
    assert "mention weather" in prompt and "What a lovely morning walk!" in prompt


async def test_progress_is_reported_and_a_broken_callback_is_harmless(settings: Settings) -> None:
    seen: list[JobProgress] = []

    async def on_progress(progress: JobProgress) -> None:
        seen.append(progress)
        if len(seen) == 1:
            raise RuntimeError("chat channel hiccup")

    result, store, spec = await generate(settings, {**INTENTS, "count": 40}, on_progress=on_progress)
    assert_exact_and_clean(result, store, spec)
    assert seen[-1].done == seen[-1].total == 40
    assert seen[-1].prompt_tokens > 0 and seen[-1].requests >= 5
    assert [p.done for p in seen] == sorted(p.done for p in seen)


async def test_running_a_finished_job_again_adds_nothing(settings: Settings, fake_llm: FakeOpenAI) -> None:
    result, store, spec = await generate(settings, SEED_ORDER)
    requests_before = len(fake_llm.requests)
    llm = OpenAIBackend.from_settings(settings)
    again = await Generator(llm, store, settings).run(result.job_id)
    await llm.aclose()
    assert_exact_and_clean(again, store, spec)
    assert len(fake_llm.requests) == requests_before


def _rejected(store: Store, job_id: int) -> list[Any]:
    from sqlmodel import Session, select

    from storage.models import Example

    with Session(store.engine) as session:
        return list(session.exec(select(Example).where(Example.job_id == job_id, Example.accepted == False)).all())  # noqa: E712


def test_fake_server_is_usable_from_sync_code(fake_llm: FakeOpenAI) -> None:
    """Other helpers call the fake from sync code and other loops; make sure that works."""
    import openai

    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="x", max_retries=0)
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content
    assert asyncio.run(_async_call(fake_llm.base_url))


async def _async_call(base_url: str) -> str:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    answer = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    await client.close()
    return answer.choices[0].message.content or ""
