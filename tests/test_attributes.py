"""The order's own dimensions of variety (core/attributes.py) against the fake OpenAI server: asked
once per job (JSON schema, or the line template on a server without structured output), a
different combination in every generation request, stored so a resume asks nothing, the generic
lists when the answer is unusable, and a sample line under the chat's preview."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from core import attributes
from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from core.vocabulary import JobResult
from storage.store import Store
from tests.dialog_support import new_user, previews, wait_for_rows
from tests.fakes.openai_server import FakeOpenAI
from tests.test_generator_e2e import INTENTS, assert_exact_and_clean

HINT = re.compile(r"For this batch: sub-topic: (.+?); situation: (.+?); written by or about: (.+?); style: (.+?); length")


def prompt_of(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def attribute_requests(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [body for body in fake.requests if attributes.MARKER in prompt_of(body)]


def hints(fake: FakeOpenAI) -> list[tuple[str, ...]]:
    return [found.groups() for body in fake.generation_requests if (found := HINT.search(prompt_of(body)))]


async def run_job(settings: Settings, store: Store, spec: DatasetSpec, job_id: int | None = None) -> JobResult:
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        return await generator.run(job_id or generator.create_job(spec))
    finally:
        await llm.aclose()


async def test_one_request_for_the_orders_dimensions_and_a_different_combination_per_request(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"attributes": "on", "verify": "off"})
    spec = DatasetSpec.from_data(INTENTS)
    store = Store.from_url(settings.database_url)
    result = await run_job(settings, store, spec)
    assert_exact_and_clean(result, store, spec)
    job_id = result.job_id
    asked = attribute_requests(fake_llm)
    assert len(asked) == 1 and asked[0]["response_format"]["type"] == "json_schema"
    assert "an online shop's chatbot" in prompt_of(asked[0])
    stored, found = attributes.load(store.job_attributes(job_id))
    assert stored and found is not None and len(found.subtopics) >= attributes.MIN_VALUES
    used = hints(fake_llm)
    assert len(used) == len(fake_llm.generation_requests) - 1  # every generation request has one
    assert len(set(used)) == len(used), "two requests got the same combination"
    assert all(sub in found.subtopics and persona in found.personas for sub, _, persona, _ in used)
    job = store.get_job(job_id)
    assert job is not None and job.requests == len(fake_llm.requests)  # the attributes request is paid and counted


async def test_a_resumed_job_uses_the_stored_dimensions_without_asking_again(settings: Settings,
                                                                              fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"attributes": "on", "verify": "off", "concurrency": 2})
    fake_llm.latency = 0.1
    spec = DatasetSpec.from_data({**INTENTS, "count": 100})
    store = Store.from_url(settings.database_url)
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        job_id = generator.create_job(spec)
        task = asyncio.create_task(generator.run(job_id))
        assert await wait_for_rows(store, job_id, 10) >= 10
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await llm.aclose()
    assert store.get_job(job_id).status == "pending"  # type: ignore[union-attr]
    first_run = len(fake_llm.requests)
    assert len(attribute_requests(fake_llm)) == 1
    _, found = attributes.load(store.job_attributes(job_id))
    assert found is not None

    fake_llm.latency = 0.0
    await run_job(settings, store, spec, job_id)
    assert store.get_job(job_id).status == "done"  # type: ignore[union-attr]
    assert len(attribute_requests(fake_llm)) == 1, "the resume asked for the dimensions again"
    later = [found_hint.groups() for body in fake_llm.requests[first_run:]
             if (found_hint := HINT.search(prompt_of(body)))]
    assert later and all(sub in found.subtopics and style in found.styles for sub, _, _, style in later)


async def test_a_server_without_structured_output_answers_the_line_template(settings: Settings,
                                                                           fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"attributes": "on", "verify": "off"})
    fake_llm.reject_json_schema = True
    store = Store.from_url(settings.database_url)
    job_id = (await run_job(settings, store, DatasetSpec.from_data(INTENTS))).job_id
    _, found = attributes.load(store.job_attributes(job_id))
    assert found is not None and len(found.styles) >= attributes.MIN_VALUES
    assert "subtopic: <a sub-topic>" in prompt_of(attribute_requests(fake_llm)[-1])
    assert hints(fake_llm)


async def test_an_unusable_answer_falls_back_to_the_generic_lists(settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"attributes": "on", "verify": "off"})

    def one_value_each(body: dict[str, Any]) -> str | None:
        if attributes.MARKER not in prompt_of(body):
            return None
        return json.dumps({"subtopics": ["shoes"], "situations": ["a return"], "personas": ["a buyer"], "styles": [""]})

    fake_llm.responders.append(one_value_each)
    spec = DatasetSpec.from_data(INTENTS)
    store = Store.from_url(settings.database_url)
    job_id = (await run_job(settings, store, spec)).job_id
    assert store.get_job(job_id).status == "done"  # type: ignore[union-attr]
    assert attributes.load(store.job_attributes(job_id)) == (True, None)  # stored: a resume won't ask either
    assert not hints(fake_llm)
    assert all("For this batch: focus on" in prompt_of(body) for body in fake_llm.generation_requests
               if attributes.MARKER not in prompt_of(body))


async def test_the_preview_shows_what_will_vary_and_the_order_reuses_it(settings: Settings,
                                                                       fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"attributes": "on"})
    for order, line in (("generate 40 examples, 20 positive and 20 negative, about hotel stays",
                         "What will vary between requests, from your topic: e.g. "),
                        ("wygeneruj 40 przykładów, 20 pozytywnych i 20 negatywnych, o hotelach, po polsku",
                         "Co będzie się zmieniać między zapytaniami, według Twojego tematu: np. ")):
        fake_llm.requests.clear()
        user = await new_user(settings)
        try:
            shown = previews(await user.press(await user.send(order), "preview"))[0]
            assert line in shown.text, shown.text
            assert len(attribute_requests(fake_llm)) == 1
            await user.press([shown], "generate")
            assert len(attribute_requests(fake_llm)) == 1, "the order's job asked again instead of reusing the preview's"
            assert hints(fake_llm)
        finally:
            await user.dialog.aclose()
