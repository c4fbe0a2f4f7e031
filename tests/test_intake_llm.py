"""LLM extraction against the fake OpenAI-compatible server (real HTTP, real OpenAIBackend):
what the model fills is cleaned and merged under the rules; any failure gives {}."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.intake import EXTRACTION_SCHEMA, SpecDraft, apply, extract_with_llm, interpret, merge_llm
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import TaskType
from tests.fakes.openai_server import FakeOpenAI, FakeResponse


@pytest.fixture
async def llm(settings: Settings) -> AsyncIterator[OpenAIBackend]:
    backend = OpenAIBackend.from_settings(settings.model_copy(update={"max_retries": 0}))
    yield backend
    await backend.aclose()


def answer_with(fake: FakeOpenAI, answer: Any) -> None:
    fake.responders.append(lambda body: answer if "dataset_order" in json.dumps(body.get("response_format")) else None)


async def test_extraction_sends_one_schema_call_and_cleans_the_answer(fake_llm: FakeOpenAI, llm: OpenAIBackend) -> None:
    answer_with(fake_llm, {
        "task": "classification", "topic": "hotel reviews", "labels": ["pozytywne", "negatywne", "neutralne"],
        "count": 120, "language": "niemiecki", "tone": "sarcastic", "instructions": None,
    })
    text = "sarkastyczne recenzje hoteli, 120 sztuk"
    fields = await extract_with_llm(llm, text, SpecDraft())
    assert fields == {
        "task": TaskType.classification, "topic": "hotel reviews", "labels": ["positive", "negative", "neutral"],
        "count": 120, "language": "German", "tone": "sarcastic",
    }
    assert len(fake_llm.requests) == 1
    request = fake_llm.requests[0]
    assert request["response_format"]["json_schema"]["schema"] == EXTRACTION_SCHEMA
    assert text in request["messages"][-1]["content"]


async def test_rules_win_where_both_speak(fake_llm: FakeOpenAI, llm: OpenAIBackend) -> None:
    answer_with(fake_llm, {
        "task": "qa", "topic": "hotel reviews", "labels": ["good", "bad"], "count": 999,
        "language": None, "tone": "formal", "instructions": "Mention the city.",
    })
    text = "200 reviews, positive or negative, in Polish"
    draft = SpecDraft()
    rules = interpret(text, draft)
    merged = merge_llm(rules, await extract_with_llm(llm, text, draft))
    result = apply(draft, merged)
    assert result.task == TaskType.classification  # rules said classification (labels), not the LLM's "qa"
    assert result.labels == ["positive", "negative"]
    assert result.count == 200
    assert result.language == "Polish"
    # What only the LLM said is taken.
    assert (result.topic, result.tone, result.instructions) == ("hotel reviews", "formal", "Mention the city.")
    assert result.to_spec().quotas() == {"positive": 100, "negative": 100}


async def test_fenced_json_is_read(fake_llm: FakeOpenAI, llm: OpenAIBackend) -> None:
    answer_with(fake_llm, 'Sure!\n```json\n{"topic": "banking", "tone": null, "count": 0}\n```')
    assert await extract_with_llm(llm, "about banking", SpecDraft()) == {"topic": "banking"}  # count 0 dropped


@pytest.mark.parametrize(
    "answer",
    [
        "this is not JSON at all",
        '{"topic": "trunc',
        '["a", "list"]',
        {"task": "poetry", "labels": "not a list", "count": "many", "language": 7, "topic": 12},
        FakeResponse(status=500, body={"error": {"message": "boom"}}),
        FakeResponse(status=200, raw="<html>not json</html>"),
    ],
    ids=["prose", "truncated", "list", "wrong-types", "500", "body-not-json"],
)
async def test_garbage_gives_nothing(fake_llm: FakeOpenAI, llm: OpenAIBackend, answer: Any) -> None:
    answer_with(fake_llm, answer)
    assert await extract_with_llm(llm, "200 reviews", SpecDraft()) == {}
    assert len(fake_llm.requests) == 1  # one call, no retries configured here


async def test_server_without_json_schema_gives_nothing(settings: Settings) -> None:
    with FakeOpenAI(reject_json_schema=True) as fake:
        backend = OpenAIBackend.from_settings(settings.model_copy(update={"openai_base_url": fake.base_url, "max_retries": 0}))
        try:
            assert await extract_with_llm(backend, "200 reviews", SpecDraft()) == {}
        finally:
            await backend.aclose()


async def test_unreachable_server_gives_nothing(settings: Settings) -> None:
    with FakeOpenAI() as fake:
        url = fake.base_url
    backend = OpenAIBackend.from_settings(settings.model_copy(update={"openai_base_url": url, "max_retries": 0}))
    try:
        assert await extract_with_llm(backend, "200 reviews", SpecDraft()) == {}
    finally:
        await backend.aclose()


async def test_one_malformed_field_drops_only_itself(fake_llm: FakeOpenAI, llm: OpenAIBackend) -> None:
    answer_with(fake_llm, {"task": "qa", "count": "many", "labels": [1, 2], "topic": "trains", "tone": None, "extra": 1})
    assert await extract_with_llm(llm, "trains", SpecDraft()) == {"task": TaskType.qa, "topic": "trains"}


async def test_a_long_label_list_is_kept_whole(fake_llm: FakeOpenAI, llm: OpenAIBackend) -> None:
    labels = [f"label_{i}" for i in range(60)]
    answer_with(fake_llm, {"labels": labels})
    assert (await extract_with_llm(llm, "60 labels", SpecDraft()))["labels"] == labels


def test_the_schema_is_strict_structured_output() -> None:
    # Every key required, no other keys, nullable as a type list: what OpenAI's strict mode and
    # llama.cpp's grammar need, and the same schema the hand-written one was.
    assert set(EXTRACTION_SCHEMA["required"]) == set(EXTRACTION_SCHEMA["properties"])
    assert EXTRACTION_SCHEMA["additionalProperties"] is False
    assert EXTRACTION_SCHEMA["title"] == "dataset_order"
    assert EXTRACTION_SCHEMA["properties"] == {
        "task": {"type": ["string", "null"], "enum": ["classification", "multiple_choice", "qa", None]},
        "topic": {"type": ["string", "null"]},
        "labels": {"type": ["array", "null"], "items": {"type": "string"}},
        "count": {"type": ["integer", "null"]},
        "language": {"type": ["string", "null"]},
        "tone": {"type": ["string", "null"]},
        "instructions": {"type": ["string", "null"]},
    }


@pytest.mark.parametrize(
    ("text", "answer"),
    [("I need -10 examples", {"count": 10}), ("make it 10,000,000", {"count": 10_000_000}),
     ("can you do part-of-speech tagging?", {"task": "classification", "labels": ["noun", "verb"]}),
     ("3 in 10 examples", {"count": 3})],  # a share of which label? (asked), never 3 rows
)
async def test_what_the_rules_refused_the_llm_cannot_set(
    fake_llm: FakeOpenAI, llm: OpenAIBackend, text: str, answer: dict[str, Any]
) -> None:
    answer_with(fake_llm, answer)
    draft = SpecDraft(task=TaskType.qa, count=20)
    merged = merge_llm(interpret(text, draft, max_count=10_000), await extract_with_llm(llm, text, draft))
    result = apply(draft, merged)
    assert (result.task, result.count, result.labels) == (TaskType.qa, 20, None)
    assert merged.remarks
