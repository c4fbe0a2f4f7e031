"""Label verification in the engine, against the fake server writing 20% of its rows with another
allowed label (it knows each row's true class and answers verification requests truthfully):
on, the delivered rows are exact and none is mislabeled; off, mislabeled rows get through."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from core.export import render_card
from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from core.verify import agreement, verification_enabled
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, FakeResponse
from tests.test_generator_e2e import INTENTS, _rejected, assert_exact_and_clean, generate

QUIZ = {"task": "multiple_choice", "topic": "the French Revolution", "count": 40}


def delivered_keys(store: Store, job_id: int) -> list[str]:
    rows = store.accepted_rows(job_id)
    return [" ".join((row.fields.get("text") or row.fields["question"]).split()) for row in rows]


@pytest.mark.parametrize("order", [INTENTS, QUIZ], ids=["labels", "quiz"])
@pytest.mark.parametrize("template", [False, True], ids=["json", "template"])
async def test_verification_rejects_and_replaces_mislabeled_rows(settings: Settings, fake_llm: FakeOpenAI,
                                                                 order: dict[str, Any], template: bool) -> None:
    if template and order is QUIZ:
        pytest.skip("the fake writes mislabeled rows in structured answers only")
    fake_llm.mislabel_share = 0.2
    fake_llm.reject_json_schema = template
    result, store, spec = await generate(settings.model_copy(update={"verify": "on"}), order)
    assert_exact_and_clean(result, store, spec)
    delivered = set(delivered_keys(store, result.job_id))
    assert fake_llm.mislabeled, "the fake wrote no mislabeled row: the test would prove nothing"
    assert not delivered & fake_llm.mislabeled
    assert fake_llm.labeling_requests > 0
    # Only mislabeled rows were rejected (an answer cancelled at the end of the job may leave some
    # mislabeled rows the engine never saw, so the two sets need not be equal).
    disagreed = {" ".join((fields.get("text") or fields["question"]).split())
                 for fields in (json.loads(row.fields_json) for row in _rejected(store, result.job_id)
                                if row.reason == "label disagreement")}
    assert disagreed and disagreed <= fake_llm.mislabeled
    shares = agreement(store, result.job_id)
    assert shares and all(share > 0.5 for share in shares.values()) and min(shares.values()) < 1.0
    card = render_card(store, result.job_id)
    assert "## Label verification" in card and "label disagreement" in card


@pytest.mark.parametrize("order", [INTENTS, QUIZ], ids=["labels", "quiz"])
async def test_without_verification_mislabeled_rows_get_through(settings: Settings, fake_llm: FakeOpenAI,
                                                                order: dict[str, Any]) -> None:
    fake_llm.mislabel_share = 0.2
    result, store, spec = await generate(settings.model_copy(update={"verify": "off"}), order)
    assert_exact_and_clean(result, store, spec)
    leaked = set(delivered_keys(store, result.job_id)) & fake_llm.mislabeled
    assert len(leaked) >= spec.count * 0.1  # type: ignore[operator]
    assert fake_llm.labeling_requests == 0
    assert "## Label verification" not in render_card(store, result.job_id)


async def test_a_judge_model_answers_the_verification(settings: Settings, fake_llm: FakeOpenAI) -> None:
    fake_llm.mislabel_share = 0.2
    result, store, spec = await generate(settings.model_copy(update={"judge_model": "judge-model"}), INTENTS)
    assert_exact_and_clean(result, store, spec)
    models = Counter(("judge" if "Classify each" in body["messages"][-1]["content"] else "writer", body["model"])
                     for body in fake_llm.requests)
    assert set(models) == {("judge", "judge-model"), ("writer", "fake-model")}
    assert "labels verified by judge-model" in render_card(store, result.job_id)


async def test_a_judge_that_cannot_answer_never_lets_a_row_through(settings: Settings, fake_llm: FakeOpenAI) -> None:
    def judge_down(body: dict[str, Any]) -> FakeResponse | None:
        if "Classify each" in body["messages"][-1]["content"]:
            return FakeResponse(status=503, body={"error": {"message": "judge overloaded"}})
        return None

    fake_llm.responders.append(judge_down)
    result, store, _ = await generate(settings.model_copy(update={"max_retries": 0}), INTENTS)
    assert result.status == "failed" and result.error is not None and "could not be verified" in result.error
    assert store.accepted_rows(result.job_id) == []
    assert result.rejected.get("not verified", 0) > 0


async def test_verification_requests_count_against_the_concurrency_limit(settings: Settings,
                                                                         fake_llm: FakeOpenAI) -> None:
    fake_llm.latency = 0.05
    limited = settings.model_copy(update={"concurrency": 4, "batch_size": 5})
    # The judge checks the rows of several answers per request (core/verify_queue.py), at most
    # JUDGE_BATCH (40): 640 rows send it at least 16 requests alongside the generation ones.
    result, store, spec = await generate(limited, {**INTENTS, "count": 640})
    assert_exact_and_clean(result, store, spec)
    assert fake_llm.labeling_requests >= 16 and fake_llm.peak_in_flight == 4


def test_auto_is_on_for_servers_and_off_for_the_embedded_model(settings: Settings) -> None:
    server = OpenAIBackend.from_settings(settings)

    class Embedded:  # the one attribute the decision reads; loading llama.cpp would prove nothing more
        is_local = True

    assert verification_enabled(settings, server)
    assert not verification_enabled(settings, Embedded())  # type: ignore[arg-type]
    assert verification_enabled(settings.model_copy(update={"verify": "on"}), Embedded())  # type: ignore[arg-type]
    assert not verification_enabled(settings.model_copy(update={"verify": "off"}), server)
    assert Generator(server, Store.from_url("sqlite://"), settings.model_copy(update={"verify": "off"})).verifier is None
    assert DatasetSpec.from_data(INTENTS).count == 60
