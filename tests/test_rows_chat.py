"""Row-model orders by chat, English and Polish, through the real Dialog against the fake
OpenAI-compatible server: typed orders and buttons, the summary, a preview with 👍, the file with
exact counts, valid rows and no duplicates."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from core.intake import SpecDraft, apply, interpret
from core.events import Document
from core.rows.presets import validate
from core.settings import Settings
from core.spec import RED_TEAM_CATEGORIES, DatasetSpec
from tests.dialog_support import User, csv_rows, documents, find_choice, last_choices, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI


async def to_file(user: User, replies: list, *, rate: bool = True) -> tuple[list[Document], str]:
    """Summary -> preview (👍 on the first row) -> generate -> the delivered files."""
    replies = await user.press(replies, "preview")
    shown = previews(replies)
    assert len(shown) == 1, texts(replies)
    if rate:
        await user.send("+1")
    done = await user.press([shown[0]], "generate")
    files = documents(done)
    assert len(files) == 3, texts(done)
    assert files[2].filename.endswith(".chart.png") and files[2].data.startswith(b"\x89PNG")  # the chart follows
    return files[:2], texts(replies)


async def test_custom_columns_order_in_english(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("50 rows with columns product_name, complaint, urgency (low/medium/high), 20 high, "
                                  "about a home appliance store, in English, CSV")
        assert "urgency (low/medium/high) ⚖" in texts(summary) and "high 20" in texts(summary)
        (dataset, card), preview_text = await to_file(user, summary)
        assert "product_name:" in preview_text and "urgency:" in preview_text
        rows = csv_rows(dataset)
        assert list(rows[0]) == ["product_name", "complaint", "urgency"]
        assert Counter(row["urgency"] for row in rows) == {"low": 15, "medium": 15, "high": 20}
        assert len({(row["product_name"], row["complaint"]) for row in rows}) == 50
        assert "| high | 20 | 20 |" in card.data.decode()
    finally:
        await user.dialog.aclose()


async def test_several_category_columns_ask_which_to_balance_in_polish(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("20 wierszy z kolumnami klient, poziom (złoty/srebrny), kanał (web/aplikacja), "
                                  "po polsku, temat: bank, csv")
        assert "Która ma mieć dokładne" in texts(replies), texts(replies)
        assert [c.label for c in last_choices(replies)] == ["poziom", "kanal", "Żadna"]
        summary = await user.send("2")  # the typed equivalent of the second button
        assert "kanal (web/aplikacja) ⚖" in texts(summary), texts(summary)
        (dataset, _), _ = await to_file(user, summary, rate=False)
        rows = csv_rows(dataset)
        assert Counter(row["kanal"] for row in rows) == {"web": 10, "aplikacja": 10}
    finally:
        await user.dialog.aclose()


async def test_red_team_order_in_polish(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("potrzebuję 12 promptów red-team dla czatbota obsługi klienta banku, po angielsku, csv")
        assert "prompty red-team" in texts(summary)
        (dataset, _), _ = await to_file(user, summary)
        rows = csv_rows(dataset)
        assert Counter(row["category"] for row in rows) == {category: 2 for category in RED_TEAM_CATEGORIES}
        spec = DatasetSpec.from_data({"task": "red_team", "count": 12})
        assert all(validate(spec, row)[1] is None for row in rows)
    finally:
        await user.dialog.aclose()


async def test_entities_by_buttons_in_english(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("I need a dataset")
        task = next(c for c in last_choices(replies) if c.value == "entities")
        replies = await user.send(task.label)  # typing the button's label works like pressing it
        assert "Which entity types" in texts(replies), texts(replies)
        replies = await user.send("PERSON, ORG, DATE")
        for answer in ("20", "English", "emails to a travel agency", "JSONL"):
            if find_summary(replies):
                break
            replies = await user.send(answer)
        assert find_summary(replies), texts(replies)
        assert "Entity types: PERSON, ORG, DATE" in texts(replies)
        (dataset, card), preview_text = await to_file(user, replies)
        lines = [json.loads(line) for line in dataset.data.decode().splitlines()]
        assert len(lines) == 20 and all(set(line) == {"text", "entities"} for line in lines)
        assert all(line["text"][e["start"]:e["end"]] for line in lines for e in line["entities"])
        assert sum(not line["entities"] for line in lines) <= 2  # default empty share 0.1
    finally:
        await user.dialog.aclose()


def find_summary(replies: list) -> bool:
    try:
        find_choice(replies, "preview")
        return True
    except AssertionError:
        return False


async def test_translation_with_the_target_language_button_in_polish(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("10 par tłumaczeń, temat: paczki, format csv, po angielsku")
        assert "Na jaki język?" in texts(replies), texts(replies)
        polish = next(c for c in last_choices(replies) if c.value == "target_language=Polish")
        summary = await user.send(polish.label)
        assert "Język docelowy: Polish" in texts(summary), texts(summary)
        (dataset, _), _ = await to_file(user, summary)
        rows = csv_rows(dataset)
        assert len(rows) == 10 and list(rows[0]) == ["source", "target"]
        assert all(row["source"] != row["target"] for row in rows)
    finally:
        await user.dialog.aclose()


async def test_simulated_users_and_messy_rows_in_english(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        # (A label list runs to the end of the sentence in the intake's rules: "intents: a, b, in English"
        # would take "in English" as an intent, so the list comes last here.)
        summary = await user.send("20 simulated user messages for a food delivery app in English, make 20% of the rows "
                                  "messy, csv, intents: track_order and refund")
        assert "Messy rows: 20%" in texts(summary), texts(summary)
        (dataset, _), _ = await to_file(user, summary)
        rows = csv_rows(dataset)
        assert list(rows[0]) == ["message", "persona", "intent", "noise"]
        assert Counter(row["intent"] for row in rows) == {"track_order": 10, "refund": 10}
        assert sum(row["noise"] != "clean" for row in rows) == 4
    finally:
        await user.dialog.aclose()


@pytest.mark.parametrize(
    ("text", "task", "quotas", "extra"),
    [
        ("entity extraction, 40 shop messages, types PERSON, PRODUCT, ORDER_ID and DATE", "entities", {"": 40},
         {"entity_types": ["PERSON", "PRODUCT", "ORDER_ID", "DATE"]}),
        ("30 translation pairs from English into Polish", "translation", {"": 30},
         {"language": "English", "target_language": "Polish"}),
        ("100 par tłumaczeń z angielskiego na niemiecki", "translation", {"": 100},
         {"language": "English", "target_language": "German"}),
        ("36 test prompts that try to make our banking chatbot leak customer data", "red_team",
         {category: 6 for category in RED_TEAM_CATEGORIES}, {}),
        ("40 simulated user messages for a food delivery app, intents: track_order, refund, change_address and "
         "complaint", "simulated_users", {"track_order": 10, "refund": 10, "change_address": 10, "complaint": 10}, {}),
        ("50 rows with columns product_name, complaint, urgency (low/medium/high), 20 high", "custom",
         {"low": 15, "medium": 15, "high": 20}, {}),
        ("100 support tickets, labels: billing, bug, make 20% of the rows messy", "classification",
         {"billing": 50, "bug": 50}, {"noise_share": 0.2}),
        ("100 zgłoszeń, etykiety: płatności, błąd, 20% z błędami", "classification",
         {"płatności": 50, "błąd": 50}, {"noise_share": 0.2}),
    ],
)
def test_the_readmes_orders_read_as_whole_orders(text: str, task: str, quotas: dict, extra: dict) -> None:
    draft = apply(SpecDraft(), interpret(text))
    assert draft.missing() == []
    spec = draft.to_spec()
    assert (spec.task.value, spec.quotas()) == (task, quotas)
    assert {name: getattr(spec, name) for name in extra} == extra


async def test_can_you_do_ner_starts_an_entities_order_and_questions_stay_questions(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("can you do NER?")
        assert "Which entity types" in texts(replies), texts(replies)
        replies = await user.send("how long will this take?")  # a question, not the entity types
        assert "Entity types: how long" not in texts(replies)
        replies = await user.send("PERSON, ORG")
        assert "Entity types" not in texts(replies) or "PERSON, ORG" in texts(replies)
    finally:
        await user.dialog.aclose()
