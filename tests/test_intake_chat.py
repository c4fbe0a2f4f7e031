"""Phrasings the intake used to read wrong, through the whole conversation against the fake
OpenAI-compatible server: what the user is told and what file they get."""

from __future__ import annotations

from core.settings import Settings
from tests.dialog_support import csv_rows, documents, find_choice, generation_prompts, label_counts, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI


async def test_spam_or_ham_as_a_list_item_gives_a_file_with_those_labels(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("100 messages, spam or ham, English, CSV, any topic")
        assert "Labels: spam, ham (equal split)" in texts(summary) and "Examples: 100" in texts(summary), texts(summary)
        shown = previews(await user.press(summary, "preview"))
        assert len(shown) == 1
        done = await user.press(shown, "generate")  # type: ignore[arg-type]
        assert label_counts(csv_rows(documents(done)[0])) == {"spam": 50, "ham": 50}
    finally:
        await user.dialog.aclose()


async def test_two_languages_in_one_order_take_the_first_and_say_how_to_get_the_next(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    """One order has one language: "5 po angielsku i 5 po polsku" never silently becomes 5 English
    rows: the bot says it took the first part and how to order the second, which then works."""
    user = await new_user(settings)
    try:
        summary = await user.send("sentyment, 5 po angielsku i 5 po polsku, CSV, dowolny temat")
        said = texts(summary)
        assert "Jeden zbiór jest w jednym języku" in said and "„5 po angielsku”" in said and "„5 po polsku”" in said, said
        find_choice(summary, "preview")
        shown = previews(await user.press(summary, "preview"))
        done = await user.press(shown, "generate")  # type: ignore[arg-type]
        assert len(csv_rows(documents(done)[0])) == 5
        assert not any("Write every example in Polish" in p for p in generation_prompts(fake_llm.requests))

        second = await user.send("5 po polsku")  # the next part, with the same settings
        assert "Liczba przykładów: 5" in texts(second) and "Język: polski" in texts(second), texts(second)
        shown = previews(await user.press(second, "preview"))
        done = await user.press(shown, "generate")  # type: ignore[arg-type]
        rows = csv_rows(documents(done)[0])
        assert len(rows) == 5 and set(label_counts(rows)) == {"positive", "negative"}
        assert any("Write every example in Polish" in p for p in generation_prompts(fake_llm.requests))
    finally:
        await user.dialog.aclose()


async def test_the_answer_to_how_many_of_the_favoured_label_is_of_that_label(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """ "mostly complaints" -> the bot asks how many complaints; "3 in 10 examples" answers it (a share
    of complaints), the total stays 20; then "8" answers a new balance question the same way (8 goodbyes,
    the other labels keep theirs: as "goodbye 8" typed out does)."""
    user = await new_user(settings)
    try:
        await user.send("20 support messages, intents: greeting, complaint, goodbye, English, CSV, any topic")
        asked = texts(await user.send("mostly complaints"))
        assert "How many “complaint” examples" in asked, asked
        summary = texts(await user.send("3 in 10 examples"))
        assert "Labels: greeting 7, complaint 6, goodbye 7" in summary and "Examples: 20" in summary, summary
        await user.send("more goodbye than anything else")
        summary = texts(await user.send("8"))
        assert "goodbye 8" in summary and "Examples: 8\n" not in summary, summary  # 8 goodbyes, never 8 rows
    finally:
        await user.dialog.aclose()


async def test_mostly_negative_then_70_percent(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        said = texts(await user.send("I'd like 250 product reviews for headphones, mostly negative, in Spanish"))
        assert "How many “negative” examples" in said and "Labels: positive, negative" in said, said
        summary = texts(await user.send("70%"))
        assert "Labels: positive 75, negative 175" in summary and "Examples: 250" in summary, summary
    finally:
        await user.dialog.aclose()
