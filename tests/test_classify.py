"""core.classify against the fake OpenAI-compatible server: rows labeled by id, whatever the
answer does to the ids (drops, repeats, reorders, invents), in both answer formats, through
429s; two samples that differ mark a row low-confidence."""

from __future__ import annotations

import random

import pytest

from core.classify import ClassifyTask, Classifier, Item, parse_answer, resolve
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from tests.fakes.openai_server import FakeOpenAI, marked_text

LABELS = ("greeting", "order_status", "complaint")
TASK = ClassifyTask(labels=LABELS, instructions="Messages to a shop's chatbot, by intent")


def _items(n: int, seed: int = 7) -> tuple[list[Item], dict[str, str]]:
    rng = random.Random(seed)
    truth = {str(i): LABELS[(i * 7) % 3] for i in range(n)}
    return [Item(i, marked_text(label, rng)) for i, label in truth.items()], truth


async def _classify(settings: Settings, items: list[Item], **options: object):
    llm = OpenAIBackend.from_settings(settings)
    try:
        classifier = Classifier(llm, seed=3, **options)  # type: ignore[arg-type]
        return await classifier.classify(items, TASK), classifier
    finally:
        await llm.aclose()


@pytest.mark.parametrize("template", [False, True])
async def test_every_row_gets_its_true_label(settings: Settings, fake_llm: FakeOpenAI, template: bool) -> None:
    fake_llm.reject_json_schema = template
    items, truth = _items(45)
    result, classifier = await _classify(settings, items, batch_size=10)
    assert {i: v.label for i, v in result.verdicts.items()} == truth
    assert result.unresolved == []
    assert classifier.structured is not template
    # Rows go out shuffled: the first request does not show them in the order given.
    first = next(b for b in fake_llm.requests if "Classify each" in b["messages"][-1]["content"]
                 and ("response_format" in b) is not template)
    shown = [line for line in first["messages"][-1]["content"].splitlines() if line.startswith("[")]
    assert [line.split("] ", 1)[1] for line in shown] != [item.text for item in items[:len(shown)]]


@pytest.mark.parametrize("fault", ["drop", "repeat", "reorder", "invent"])
@pytest.mark.parametrize("template", [False, True])
async def test_answers_that_spoil_ids_are_re_asked(settings: Settings, fake_llm: FakeOpenAI, fault: str,
                                                   template: bool) -> None:
    fake_llm.reject_json_schema = template
    items, truth = _items(20)
    # Two requests; a missing / ambiguous id is re-asked, so those faults can hit the re-asks too.
    fake_llm.inject_labeling(fault, times=3 if fault in ("drop", "repeat") else 2)
    result, _ = await _classify(settings, items, batch_size=10)
    assert {i: v.label for i, v in result.verdicts.items()} == truth
    assert fake_llm.pending_labeling_faults == 0
    extra = 3 if fault in ("drop", "repeat") else 0  # a missing / ambiguous id costs one more request each
    assert result.requests == 2 + extra


async def test_two_samples_that_differ_mark_low_confidence(settings: Settings, fake_llm: FakeOpenAI) -> None:
    rng = random.Random(5)
    items = [Item(str(i), marked_text(LABELS[i % 3], rng)) for i in range(12)]
    ambiguous = {"3", "8"}
    items = [Item(item.id, marked_text(["complaint", "order_status"], rng)) if item.id in ambiguous else item
             for item in items]
    result, _ = await _classify(settings, items, batch_size=12, samples=2)
    low = {i for i, v in result.verdicts.items() if v.confidence == "low"}
    assert low == ambiguous
    assert all(v.confidence == "high" for i, v in result.verdicts.items() if i not in ambiguous)
    assert result.verdicts["3"].label == "complaint" and result.verdicts["3"].other == "order_status"
    assert result.requests == 2


async def test_429s_are_retried(settings: Settings, fake_llm: FakeOpenAI) -> None:
    items, truth = _items(30)
    fake_llm.inject("429", times=3, retry_after=0)
    result, _ = await _classify(settings, items, batch_size=10)
    assert {i: v.label for i, v in result.verdicts.items()} == truth
    assert fake_llm.pending_faults == 0


def test_parsing_tolerates_what_models_write() -> None:
    local = {"1": "a", "2": "b", "3": "c"}
    labels = ["yes", "no"]
    assert resolve(parse_answer("1: Yes\n[2] - no\n#3: maybe", structured=False) or [], local, labels) == \
        {"a": "yes", "b": "no"}
    text = '```json\n{"labels": [{"id": "2", "label": "no"}, {"id": "2", "label": "yes"}, {"id": "3", "label": "no"}]}```'
    assert resolve(parse_answer(text, structured=True) or [], local, labels) == {"c": "no"}
    assert parse_answer("Sure, here you go!", structured=True) is None


async def test_a_refused_schema_does_not_use_up_a_round(settings: Settings, fake_llm: FakeOpenAI) -> None:
    # One batch: the 400 on json_schema, then three spoiled answers; the fourth round must still come.
    fake_llm.reject_json_schema = True
    items, truth = _items(10)
    fake_llm.inject_labeling("repeat", times=3)
    result, _ = await _classify(settings, items, batch_size=10, max_rounds=4)
    assert {i: v.label for i, v in result.verdicts.items()} == truth and result.requests == 4
    assert fake_llm.pending_labeling_faults == 0
