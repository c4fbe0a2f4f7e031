"""A job that fails for a reason other than label disagreements or the budget (the model answers
garbage, the server keeps answering 500, the server is gone): the chat says why in the user's
language, with what to do next, and never the engine's English text in a Polish chat
(core/stop_reasons.py). The order is kept: its button is offered again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import stop_reasons
from core.settings import Settings
from tests.dialog_support import User, find_choice, new_user, previews, progress, texts
from tests.fakes.openai_server import FakeOpenAI, FakeResponse
from tests.test_annotate_chat import as_txt, tickets
from tests.test_workers import start_worker, workers  # noqa: F401 (a fixture)

# The engine's English (the stored job.error) that must not reach a Polish chat.
ENGINE_ENGLISH = ("stopped", "the LLM", "kept failing", "requests in a row", "cannot reach", "the model",
                  "usable", "server", "Generation failed", "[stop:", "internal error", "had an error",
                  "Connect", "refused", "try again")
POLISH_ORDER = "wygeneruj 40 przykładów, 20 pozytywnych i 20 negatywnych, o hotelach, po polsku"
ENGLISH_ORDER = "generate 40 examples, 20 positive and 20 negative, about hotel stays"


def no_english(said: str) -> None:
    for english in ENGINE_ENGLISH:
        assert english not in said, (english, said)


def quick(settings: Settings, fake: FakeOpenAI | None = None) -> Settings:
    """No retries inside the backend: five failed requests in a row fail the job at once."""
    update: dict[str, Any] = {"max_retries": 0}
    if fake is not None:
        update["openai_base_url"] = fake.base_url
    return settings.model_copy(update=update)


def always_500(fake: FakeOpenAI) -> None:
    fake.responders.append(lambda body: FakeResponse(500, {"error": {"message": "The server had an error",
                                                                     "type": "server_error"}}))


async def preview_then_generate(user: User, order: str, fault: Any) -> str:
    """Order, preview (the model is fine), then the fault, then Generate all: what the chat said."""
    summary = await user.send(order)
    shown = previews(await user.press(summary, "preview"))[0]
    fault()
    ended = await user.press([shown], "generate")
    find_choice(ended, "generate")  # the order is kept: Generate all is offered again
    failed = progress(ended)[-1]
    assert failed.finished, texts(ended)
    return texts(ended)


async def test_polish_chat_whose_model_answers_garbage(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        said = await preview_then_generate(user, POLISH_ORDER,
                                           lambda: fake_llm.inject("malformed", times=10_000, style="prose"))
        assert fake_llm.pending_faults < 10_000  # the garbage was served
        assert "zbyt wiele błędnych odpowiedzi modelu" in said, said
        assert "nie dało się odczytać odpowiedzi modelu" in said  # the commonest reason, in Polish
        assert "Generowanie nie powiodło się" in said and "Generuj całość" in said
        no_english(said)
    finally:
        await user.dialog.aclose()


async def test_english_chat_whose_model_answers_garbage(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        said = await preview_then_generate(user, ENGLISH_ORDER,
                                           lambda: fake_llm.inject("malformed", times=10_000, style="prose"))
        assert "too many invalid answers from the model" in said, said
        assert "the model's answer could not be read" in said
        assert "press Generate all to try again" in said
        assert "[stop:" not in said and "×" not in said  # not the engine's stored text
    finally:
        await user.dialog.aclose()


async def test_polish_chat_whose_server_keeps_answering_500(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(quick(settings))
    try:
        served = len(fake_llm.requests)
        said = await preview_then_generate(user, POLISH_ORDER, lambda: always_500(fake_llm))
        assert len(fake_llm.requests) - served >= 5  # the 500s were served
        assert f"serwer modelu pod adresem {fake_llm.base_url} wciąż odpowiadał błędem (500" in said, said
        assert "spróbuj później" in said and "Generuj całość" in said
        no_english(said)
    finally:
        await user.dialog.aclose()


async def test_polish_chat_whose_server_is_gone(settings: Settings) -> None:
    with FakeOpenAI() as fake:
        user = await new_user(quick(settings, fake))
        try:
            said = await preview_then_generate(user, POLISH_ORDER, fake.stop)  # the server goes away
            assert f"nie udało się połączyć z serwerem modelu pod adresem {fake.base_url}" in said, said
            assert "OPENAI_BASE_URL" in said
            no_english(said)
        finally:
            await user.dialog.aclose()


async def test_english_chat_whose_server_is_gone(settings: Settings) -> None:
    with FakeOpenAI() as fake:
        user = await new_user(quick(settings, fake))
        try:
            said = await preview_then_generate(user, ENGLISH_ORDER, fake.stop)
            assert f"the model server at {fake.base_url} could not be reached" in said, said
            assert "check that it is running and that OPENAI_BASE_URL points at it" in said
            assert "press Generate all to try again" in said and "[stop:" not in said
        finally:
            await user.dialog.aclose()


async def test_polish_preview_when_the_server_is_gone_from_the_start(settings: Settings) -> None:
    with FakeOpenAI() as fake:
        url = fake.base_url
    user = await new_user(quick(settings).model_copy(update={"openai_base_url": url}))
    try:
        summary = await user.send(POLISH_ORDER)
        replies = await user.press(summary, "preview")
        said = texts(replies)
        find_choice(replies, "preview")  # the order is kept: Generate preview is offered again
        assert "Nie udało się przygotować podglądu" in said, said
        assert f"nie udało się połączyć z serwerem modelu pod adresem {url}" in said
        no_english(said)
    finally:
        await user.dialog.aclose()


async def label_all_after_a_good_preview(user: User, fake: FakeOpenAI, first: str) -> str:
    rows, _ = tickets(30, seed=3)
    await user.send(first)
    await user.upload("zgloszenia.txt", as_txt(rows))
    shown = await user.send("complaint, order_status, greeting")
    assert previews(shown), texts(shown)
    always_500(fake)
    ended = await user.press(shown, "labelall")
    find_choice(ended, "labelall")  # the rows and labels are kept: Label all is offered again
    return texts(ended)


async def test_polish_labeling_whose_server_keeps_answering_500(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(quick(settings))
    try:
        said = await label_all_after_a_good_preview(user, fake_llm, "oznacz moje dane")
        assert "Oznaczanie nie powiodło się" in said, said
        assert f"serwer modelu pod adresem {fake_llm.base_url} wciąż odpowiadał błędem (500" in said
        assert "Oznacz wszystkie" in said
        no_english(said)
    finally:
        await user.dialog.aclose()


async def test_english_labeling_whose_server_keeps_answering_500(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(quick(settings))
    try:
        said = await label_all_after_a_good_preview(user, fake_llm, "label my rows")
        assert "Labeling failed: the model server at" in said, said
        assert "kept answering with an error (500" in said and "press Label all" in said
        assert "Generate all" not in said and "[stop:" not in said
    finally:
        await user.dialog.aclose()


def test_a_stored_stop_reads_back_in_either_language() -> None:
    """What a worker stores, a chat process (any language) reads: the tag survives any English detail."""
    stored = stop_reasons.stop("llm_server_error", "the LLM kept failing (5 requests in a row): "
                               "the LLM server answered 503 after 0 retries: busy [x] ]", requests=5,
                               url="http://h:1/v1", status=503)
    assert stop_reasons.plain(stored).endswith("busy [x] ]")
    assert stop_reasons.describe(stored, "pl").startswith("serwer modelu pod adresem http://h:1/v1 wciąż "
                                                          "odpowiadał błędem (503, 5 zapytań z rzędu)")
    assert stop_reasons.describe("something odd", "en") == "something odd"  # an untagged error: its own words
    assert "dzienniku" in stop_reasons.describe("something odd", "pl")


@pytest.mark.postgres
async def test_polish_chat_following_a_worker_whose_server_keeps_answering_500(
        postgres_url: str, fake_llm: FakeOpenAI, tmp_path: Path, workers: list, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DATAGEN_WORKERS=external: a `datagen worker` process fails the job and stores its error; the
    chat process that follows the job reads it from the database and says it in Polish."""
    monkeypatch.setenv("DATAGEN_MAX_RETRIES", "0")  # the worker's backend: 5 failed requests fail the job
    start_worker(workers, postgres_url, fake_llm, tmp_path)
    user = await new_user(quick(settings).model_copy(update={"database_url": postgres_url, "workers": "external"}))
    try:
        said = await preview_then_generate(user, POLISH_ORDER, lambda: always_500(fake_llm))
        assert f"serwer modelu pod adresem {fake_llm.base_url} wciąż odpowiadał błędem (500" in said, said
        no_english(said)
        log = (tmp_path / "worker0.log").read_text()
        assert "request failed: the LLM server answered 500" in log, f"a worker ran it; its log:\n{log}"
    finally:
        await user.dialog.aclose()


def test_the_embedded_model_s_crash_keeps_its_words_in_english_only() -> None:
    from core.llm import BackendDied

    stored = stop_reasons.llm_stop(BackendDied("the embedded model crashed (killed by SIGSEGV (invalid memory "
                                               "access)); or use a server model (OPENAI_API_KEY / OPENAI_BASE_URL)"))
    assert stop_reasons.describe(stored, "en").startswith("the embedded model crashed (killed by SIGSEGV")
    polish = stop_reasons.describe(stored, "pl")
    assert polish.startswith("wbudowany model przestał działać") and "OPENAI_API_KEY" in polish
    no_english(polish)


@pytest.mark.parametrize("lang", ["pl", "en"])
async def test_a_model_that_cannot_start_is_explained_in_the_chat_s_language(
    settings: Settings, tmp_path: Path, lang: str
) -> None:
    """No job yet: the embedded model's file (DATAGEN_LOCAL_MODEL) is not a model. The preview
    press says so in the chat's language, and again on a second press (the order is kept)."""
    not_a_model = tmp_path / "model.gguf"
    not_a_model.write_text("not a model")
    user = await new_user(settings.model_copy(update={"llm": "local", "local_model": not_a_model}))
    try:
        summary = await user.send(POLISH_ORDER if lang == "pl" else ENGLISH_ORDER)
        said = await user.press(summary, "preview")
        text = texts(said)
        assert str(not_a_model) in text, text
        if lang == "pl":
            assert "Model językowy jest niedostępny: plik modelu" in text and "DATAGEN_LOCAL_MODEL" in text
            no_english(text)
            assert "is not a GGUF" not in text
        else:
            assert "The language model is not available: DATAGEN_LOCAL_MODEL" in text and "is not a GGUF" in text
        assert texts(await user.press(summary, "preview")) == text  # the order is kept: its button still works
        again = texts(await user.send("/new"))  # a new order names the model, or why there is none
        assert ("plik modelu" if lang == "pl" else "is not a GGUF") in again, again
    finally:
        await user.dialog.aclose()
