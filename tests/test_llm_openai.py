"""OpenAIBackend against the fake server: request shape, usage, and errors a user can act on."""

from __future__ import annotations

from typing import Any

import pytest

from core.llm import LLMError, SchemaNotSupported
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, FakeResponse

MESSAGES = [{"role": "user", "content": "Produce exactly 2 examples."}]
SCHEMA = {
    "title": "demo schema",
    "type": "object",
    "properties": {"examples": {"type": "array", "items": {"type": "string"}}},
    "required": ["examples"],
    "additionalProperties": False,
}


async def test_structured_request_and_usage(settings: Settings, fake_llm: FakeOpenAI) -> None:
    backend = OpenAIBackend.from_settings(settings)
    try:
        completion = await backend.complete(MESSAGES, schema=SCHEMA, max_tokens=300, temperature=0.5)
        again = await backend.complete(MESSAGES)
    finally:
        await backend.aclose()
    body = fake_llm.requests[0]
    assert body["model"] == "fake-model" and body["max_tokens"] == 300 and body["temperature"] == 0.5
    assert body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "demo_schema", "schema": SCHEMA, "strict": True}}
    assert "response_format" not in fake_llm.requests[1]
    assert completion.text.startswith('{"examples": [') and completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert backend.usage.total == completion.usage.total + again.usage.total
    assert backend.description == "fake-model via 127.0.0.1"  # users see the host, not the URL


def test_description_names_the_model_and_only_the_host() -> None:
    assert OpenAIBackend(model="gpt-4o-mini", api_key="sk-secret").description == "gpt-4o-mini via api.openai.com"
    gateway = OpenAIBackend(
        model="llama3", api_key="sk-secret", base_url="https://alice:hunter2@gateway.example.com:8443/team-a/v1"
    )
    assert gateway.description == "llama3 via gateway.example.com"
    assert "hunter2" not in gateway.description and "team-a" not in gateway.description
    assert OpenAIBackend(model="m", api_key=None, base_url="http://[::1/v1").description == "m via an OpenAI-compatible server"


async def test_loose_schema_is_sent_non_strict(settings: Settings, fake_llm: FakeOpenAI) -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    backend = OpenAIBackend.from_settings(settings)
    try:
        await backend.complete(MESSAGES, schema=loose)
    finally:
        await backend.aclose()
    assert fake_llm.requests[0]["response_format"]["json_schema"]["strict"] is False


async def test_schema_refusal_is_schema_not_supported(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.reject_json_schema = True
    backend = OpenAIBackend.from_settings(settings)
    try:
        with pytest.raises(SchemaNotSupported, match="JSON-schema"):
            await backend.complete(MESSAGES, schema=SCHEMA)
        assert (await backend.complete(MESSAGES)).text  # the same server without a schema is fine
    finally:
        await backend.aclose()
    assert len(fake_llm.requests) == 2  # a 400 is not retried


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (401, "Incorrect API key provided", "rejected the API key"),
        (404, "The model `nope` does not exist", "not found"),
        (400, "maximum context length is 8192 tokens", r"refused the request \(400\): maximum context length"),
    ],
)
async def test_final_errors_say_what_to_fix(
    settings: Settings, fake_llm: FakeOpenAI, status: int, message: str, expected: str
) -> None:
    def refuse(body: dict[str, Any]) -> FakeResponse:
        return FakeResponse(status=status, body={"error": {"message": message, "type": "invalid_request_error"}})

    fake_llm.responders.append(refuse)
    backend = OpenAIBackend.from_settings(settings)
    try:
        with pytest.raises(LLMError, match=expected) as caught:
            await backend.complete(MESSAGES)
    finally:
        await backend.aclose()
    assert not isinstance(caught.value, SchemaNotSupported)
    assert len(fake_llm.requests) == 1  # client errors are final: no retries burnt


async def test_persistent_server_errors_give_up_after_the_retries(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.inject("500", times=10)
    backend = OpenAIBackend.from_settings(settings.model_copy(update={"max_retries": 1}))
    try:
        with pytest.raises(LLMError, match="answered 500 after 1 retries"):
            await backend.complete(MESSAGES)
    finally:
        await backend.aclose()
    assert len(fake_llm.requests) == 2


async def test_answer_without_choices_is_empty_text(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.responders.append(lambda body: FakeResponse(body={"id": "x", "object": "chat.completion", "choices": []}))
    backend = OpenAIBackend.from_settings(settings)
    try:
        completion = await backend.complete(MESSAGES)
    finally:
        await backend.aclose()
    assert completion.text == "" and completion.usage.total == 0


def test_backend_can_be_reused_under_a_new_event_loop(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """E.g. built once, then used by two asyncio.run() calls (CLI helpers, tests)."""
    import asyncio
    import warnings

    backend = OpenAIBackend.from_settings(settings)
    first = asyncio.run(backend.complete(MESSAGES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the first loop's session can't be closed any more
        second = asyncio.run(backend.complete(MESSAGES))
    asyncio.run(backend.aclose())
    assert first.text and second.text and len(fake_llm.requests) == 2


async def test_reasoning_model_parameters_are_adapted_once(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """OpenAI's reasoning models refuse `max_tokens` and a non-default temperature."""

    def strict_model(body: dict[str, Any]) -> FakeResponse | None:
        if "max_tokens" in body:
            return FakeResponse(400, {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with "
                                                           "this model. Use 'max_completion_tokens' instead.",
                                                "param": "max_tokens"}})
        if "temperature" in body:
            return FakeResponse(400, {"error": {"message": "Unsupported value: 'temperature' does not support 0.9 "
                                                           "with this model.", "param": "temperature"}})
        return None

    fake_llm.responders.append(strict_model)
    backend = OpenAIBackend.from_settings(settings)
    try:
        first = await backend.complete(MESSAGES, schema=SCHEMA, max_tokens=100)
        second = await backend.complete(MESSAGES, schema=SCHEMA, max_tokens=100)
    finally:
        await backend.aclose()
    assert first.text and second.text
    assert len(fake_llm.requests) == 4  # two refusals, then every request goes through at once
    assert fake_llm.requests[-1]["max_completion_tokens"] == 100 and "temperature" not in fake_llm.requests[-1]
