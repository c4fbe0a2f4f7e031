"""The order's cost before "Generate all" (estimate under the preview, budget refusal) and what its delivery reports."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.events import Preview
from core.settings import Settings
from storage.store import Store
from tests.dialog_support import User, documents, find_choice, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI

ORDER = "generate 40 examples, 20 positive and 20 negative, about hotel stays"


@asynccontextmanager
async def previewed(settings: Settings, order: str) -> AsyncIterator[tuple[User, Preview]]:
    """A new user who sent `order` and pressed Preview: the user and the preview shown; the chat is closed after."""
    user = await new_user(settings)
    try:
        summary = await user.send(order)
        yield user, previews(await user.press(summary, "preview"))[0]
    finally:
        await user.dialog.aclose()


async def test_preview_shows_the_whole_orders_tokens_cost_and_time(settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": "fake-model=0.15/0.60"})
    async with previewed(settings, ORDER) as (user, shown):
        line = re.search(r"The whole order \(40 rows\): about ([\d,]+) tokens, about (\S+), (under a minute|about)", shown.text)
        assert line, shown.text
        assert int(line.group(1).replace(",", "")) > 0 and line.group(2).startswith(("$", "<$"))


async def test_polish_and_unpriced_model_shows_tokens_and_time_only(settings: Settings, fake_llm: FakeOpenAI) -> None:
    order = "wygeneruj 30 przykładów, 20 pozytywnych i 10 negatywnych, po polsku"
    async with previewed(settings, order) as (user, shown):  # "fake-model" has no price
        line = re.search(r"Całe zamówienie \(30 wierszy\): około [\d,]+ tokenów, (poniżej minuty|około)", shown.text)
        assert line, shown.text
        assert "$" not in shown.text


async def test_an_order_over_the_budget_is_refused_before_it_starts(settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": "fake-model=5000/5000", "max_cost_usd": 0.5})
    async with previewed(settings, ORDER) as (user, shown):
        assert "more than the limit of $0.50 per order" in shown.text  # warned under the preview already
        requests_before = len(fake_llm.requests)
        refused = await user.press([shown], "generate")
        said = texts(refused)
        assert "more than the limit of $0.50 per order" in said and "DATAGEN_MAX_COST_USD" in said
        assert not documents(refused) and len(fake_llm.requests) == requests_before  # nothing started, nothing spent
        store = user.dialog.store
        assert isinstance(store, Store)
        assert [job.kind for job in store.unfinished_jobs()] == []
        find_choice(refused, "generate")  # the order is kept: the user can still change it and go on


async def test_an_order_under_the_budget_runs(settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": "fake-model=0.15/0.60", "max_cost_usd": 5.0})
    async with previewed(settings, ORDER) as (user, shown):
        assert "limit" not in shown.text
        done = await user.press([shown], "generate")
        dataset, card, chart = documents(done)
        # The delivery message: the variety line and, labels being verified on a server model, agreement per label.
        assert re.search(r"Variety: (high|medium|low) variety: \d+% of 2-word phrases unique", dataset.caption), dataset.caption
        assert re.search(r"agreement: negative \d+%, positive \d+%", dataset.caption), dataset.caption
        assert "## Variety" in card.data.decode() and "Cost: " in card.data.decode()
        assert chart.mime_type == "image/png" and chart.data.startswith(b"\x89PNG\r\n\x1a\n")


#: What the card and the caption say about verification, variety and cost: none of it may stay English for a Polish order.
TRUST_KEYS = ("card_cost_usd", "card_model_verified", "card_cost_unknown", "card_language_unchecked", "card_verification",
              "card_verification_label", "card_verification_answer", "card_agreement_label_header", "card_variety",
              "card_distinct", "card_variety_duplicates", "card_similarity", "card_language_share",
              "card_lengths_header", "card_lengths_note", "caption_variety", "caption_agreement", "chart_caption",
              "variety_line", "card_cost", "card_requests", "card_tokens", "card_time")


def english_fragments() -> list[str]:
    from core.messages import TEXTS

    fragments = []
    for key in TRUST_KEYS:
        fragments += [part.strip(" |.:-()") for part in re.split(r"\{\w+\}", TEXTS[key]["en"])]
    return [fragment for fragment in fragments if len(fragment) >= 6]


async def test_a_polish_orders_card_and_caption_have_no_english_verification_variety_or_cost_text(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": "fake-model=0.15/0.60"})
    order = "wygeneruj 20 przykładów, 10 pozytywnych i 10 negatywnych, o hotelach, po polsku"
    async with previewed(settings, order) as (user, shown):
        dataset, card, chart = documents(await user.press([shown], "generate"))
        text = card.data.decode()
        assert "## Sprawdzenie etykiet" in text and "## Różnorodność" in text and "według cennika" in text
        assert re.search(r"Różnorodność: (wysoka|średnia|niska) różnorodność", dataset.caption), dataset.caption
        assert "zgodność: negatywny" in dataset.caption or "zgodność: negative" in dataset.caption, dataset.caption
        for fragment in english_fragments():
            assert fragment not in text, fragment
            assert fragment not in dataset.caption and fragment not in chart.caption, fragment
