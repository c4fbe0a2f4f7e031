"""A job that label verification stops because the text does not show the checked column (e.g. a
sales channel): the chat says what happened and what to do, in the user's language, and keeps the order."""

from __future__ import annotations

import re

from core.settings import Settings
from tests.dialog_support import csv_rows, documents, find_choice, new_user, previews, progress, texts
from tests.fakes.openai_server import FakeOpenAI


async def test_a_column_the_text_does_not_show_is_explained_when_verification_stops_the_job(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("40 rows with columns customer_message, sales_channel (web/phone/store), "
                                  "about a shoe shop, in English, CSV")
        assert "sales_channel (web/phone/store) ⚖" in texts(summary), texts(summary)
        shown = previews(await user.press(summary, "preview"))[0]
        # From here the judge places nearly every row under another channel, as a real judge does
        # when nothing in a message says where it was sent from.
        fake_llm.mislabel_share = 0.99
        ended = await user.press([shown], "generate")
        said = texts(ended)
        assert fake_llm.mislabeled and fake_llm.labeling_requests  # the fault was served, and checked
        assert not documents(ended)
        assert "stopped: a second model checks each row by reading it without its sales_channel" in said, said
        assert "does not show the sales_channel" in said and "every message mentions the sales_channel" in said
        assert "DATAGEN_VERIFY=off" in said and "/new starts a new order" in said
        assert "Generation failed" not in said and "label disagreement ×" not in said  # not the engine's words
        assert "most rows were checked as another sales_channel" in progress(ended)[-1].text
        find_choice(ended, "generate")  # the order is kept: Generate all is offered again
    finally:
        await user.dialog.aclose()


async def test_in_polish_for_labels(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("wygeneruj 40 przykładów, 20 pozytywnych i 20 negatywnych, o hotelach, po polsku")
        shown = previews(await user.press(summary, "preview"))[0]
        fake_llm.mislabel_share = 0.99
        ended = await user.press([shown], "generate")
        said = texts(ended)
        assert "zatrzymane: drugi model sprawdza każdy wiersz, czytając go bez wartości „etykieta”" in said, said
        assert "DATAGEN_VERIFY=off" in said and "/new zaczyna nowe zamówienie" in said
        for english in ("stopped", "label disagreement", "Generation failed", "second look"):
            assert english not in said, english
        find_choice(ended, "generate")
    finally:
        await user.dialog.aclose()


async def test_a_job_stopped_for_another_reason_keeps_the_plain_failure(settings: Settings,
                                                                       fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("generate 40 examples, 20 positive and 20 negative, about hotel stays")
        shown = previews(await user.press(summary, "preview"))[0]
        fake_llm.inject("wrong_labels", times=1000)  # labels outside the order: the model, not the check
        said = texts(await user.press([shown], "generate"))
        assert "Generation failed" in said and "second model checks" not in said, said
    finally:
        await user.dialog.aclose()


async def test_a_delivered_job_whose_check_rejected_most_rows_says_what_that_may_mean(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("30 rows with columns customer_message, sales_channel (web/phone/store), "
                                  "about a shoe shop, in English, CSV")
        shown = previews(await user.press(summary, "preview"))[0]
        fake_llm.mislabel_share = 0.6  # most rows fail the check, but enough pass for the job to finish
        done = await user.press([shown], "generate")
        dataset = documents(done)[0]
        assert len(csv_rows(dataset)) == 30, texts(done)
        said = texts(done)
        found = re.search(r"The check rejected (\d+) of the (\d+) rows it read", said)
        assert found, said
        assert int(found.group(1)) >= int(found.group(2)) / 2
        assert "may not show the sales_channel" in said and "DATAGEN_VERIFY=off" in said
    finally:
        await user.dialog.aclose()


async def test_a_delivered_job_with_few_disagreements_says_nothing_more(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("30 rows with columns customer_message, sales_channel (web/phone/store), "
                                  "about a shoe shop, in English, CSV")
        shown = previews(await user.press(summary, "preview"))[0]
        fake_llm.mislabel_share = 0.2
        done = await user.press([shown], "generate")
        assert documents(done) and fake_llm.mislabeled
        assert "The check rejected" not in texts(done)
    finally:
        await user.dialog.aclose()
