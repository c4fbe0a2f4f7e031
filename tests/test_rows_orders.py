"""core.rows.orders: row-model orders read from chat text, English and Polish (the rules the chat
side uses; what they miss goes to the LLM extraction)."""

from __future__ import annotations

import pytest

from core.intake import interpret
from core.tasks import TaskType
from core.rows.orders import complete_counts, read_order
from core.spec import DatasetSpec


def test_the_issues_custom_order() -> None:
    order = read_order("50 rows with columns product_name, complaint, urgency (low/medium/high), 20 high")
    changes = order.changes
    assert changes["task"] == "custom" and changes["labels"] == ["low", "medium", "high"]
    assert [(c["name"], c["type"], c["stratified"]) for c in changes["columns"]] == [
        ("product_name", "text", False), ("complaint", "text", False), ("urgency", "category", True)]
    counts = complete_counts(changes["labels"], changes["label_counts_partial"], 50)
    assert counts == {"low": 15, "medium": 15, "high": 20}
    spec = DatasetSpec.from_data({"task": "custom", "columns": changes["columns"], "label_counts": counts})
    assert spec.quotas() == counts and spec.count == 50


def test_polish_columns_get_ascii_names_and_keep_their_values() -> None:
    changes = read_order("30 wierszy z kolumnami produkt, opis, pilność (niska/średnia/wysoka), 10 wysoka").changes
    assert [c["name"] for c in changes["columns"]] == ["produkt", "opis", "pilnosc"]
    assert changes["label_counts_partial"] == {"wysoka": 10}


def test_several_categories_ask_which_to_balance() -> None:
    order = read_order("columns: name, age (number), vip (yes/no), tier (gold/silver), channel (web/app)")
    assert order.to_ask == ["tier", "channel"]
    assert [c["type"] for c in order.changes["columns"]] == ["text", "number", "boolean", "category", "category"]
    assert not any(c["stratified"] for c in order.changes["columns"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I need 40 test prompts that try to make our banking chatbot leak customer data", {"task": "red_team"}),
        ("red-team prompts for our HR assistant", {"task": "red_team"}),
        ("40 promptów do testów bezpieczeństwa naszego czatbota", {"task": "red_team"}),
        ("entity extraction data, types PERSON, ORG and DATE, 100 examples",
         {"task": "entities", "entity_types": ["PERSON", "ORG", "DATE"]}),
        ("wygeneruj 50 zdań z encjami: PERSON, ORG, LOC", {"task": "entities", "entity_types": ["PERSON", "ORG", "LOC"]}),
        ("100 translation pairs from English into Polish", {"task": "translation", "target_language": "Polish", "language": "English"}),
        ("100 par tłumaczeń z angielskiego na niemiecki", {"task": "translation", "target_language": "German", "language": "English"}),
        ("50 paraphrases in English", {"task": "translation", "target_language": None}),
        ("60 simulated user messages for a food delivery app", {"task": "simulated_users"}),
        ("symulowani użytkownicy aplikacji bankowej, 30 wiadomości", {"task": "simulated_users"}),
        ("200 support tickets, make 20% of the rows messy", {"noise_share": 0.2}),
        ("100 opinii, 15% z literówkami", {"noise_share": 0.15}),
        ("40 sentiment examples, positive and negative", {}),
        ("translate my mood: 10 happy sentences", {"task": "translation"}),  # a known over-reading (see report)
    ],
)
def test_preset_words(text: str, expected: dict) -> None:
    assert read_order(text).changes == expected


def test_the_same_language_as_a_translation_target_reads_without_error() -> None:
    # Found by test_intake_properties: "ten sam (parafrazy)" raised KeyError: 'language' (the
    # no-target check compared None with the absent data language and popped it).
    assert interpret("ten sam (parafrazy)").changes == {"task": TaskType.translation, "target_language": "same"}
