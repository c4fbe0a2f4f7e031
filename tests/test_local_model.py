"""The embedded llama.cpp backend with the shipped SmolLM2-135M model: real inference, no mocks.

The model runs in its own child process (core.llama_server), started once for the module (it is
shared per process anyway), so a native crash of llama.cpp can never take pytest down with it;
every generation here is kept to a few short requests so the file stays well under two minutes
on 2 CPU cores.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from core.generator import Generator
from core.llm import LLMError, SchemaNotSupported, make_backend
from core.llm_local import LocalLlamaBackend
from core.local_model import shipped_model_path
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.engine_support import local_settings, loop_gaps

pytestmark = pytest.mark.local_model

# The shipped model's tokenizer is trained mostly on English, so English text splits into few
# tokens: measured 4.4-4.6 characters per token on English rows, 2.1 Polish, 2.8 German, 1.8 for
# word salad like "{i-key} | c }, { | 1,520.197".
MIN_ENGLISH_CHARS_PER_TOKEN = 3.0
SENTIMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "label": {"type": "string", "enum": ["positive", "negative"]}},
                "required": ["text", "label"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["examples"],
    "additionalProperties": False,
}


async def assert_english(backend: LocalLlamaBackend, texts: list[str]) -> None:
    assert all(text.strip() for text in texts), texts
    for text in texts:
        letters = [ch for ch in text if ch.isalpha()]
        assert sum(ch.isascii() for ch in letters) >= 0.9 * len(letters), f"not Latin script: {text!r}"
    joined = " | ".join(texts)
    tokens = await backend.tokenize(joined)
    assert len(joined) / len(tokens) >= MIN_ENGLISH_CHARS_PER_TOKEN, f"does not read as English: {texts}"


def seeded(backend: LocalLlamaBackend, seed: int = 7) -> LocalLlamaBackend:
    return LocalLlamaBackend(backend.model_path, description=backend.description, seed=seed)


@pytest.fixture(scope="module")
def backend() -> LocalLlamaBackend:
    return LocalLlamaBackend.from_settings(Settings(_env_file=None, openai_api_key=None, llm=None, local_model=None))


# --- backend selection ----------------------------------------------------------------------


def test_no_api_key_selects_the_embedded_model(tmp_path: Path) -> None:
    chosen = make_backend(local_settings(tmp_path))
    assert isinstance(chosen, LocalLlamaBackend)
    assert chosen.is_local and chosen.max_concurrency == 1 and chosen.batch_size
    assert chosen.description == "SmolLM2-135M-Instruct (embedded, CPU)"
    assert chosen.model_path == shipped_model_path().resolve()
    assert chosen.model_path.stat().st_size > 50_000_000  # the real weights, not a pointer file


def test_api_key_or_datagen_llm_openai_selects_the_openai_backend(tmp_path: Path) -> None:
    with_key = make_backend(local_settings(tmp_path, openai_api_key="sk-test"))
    forced = make_backend(local_settings(tmp_path, openai_api_key="sk-test", llm="openai"))
    assert type(with_key).__name__ == type(forced).__name__ == "OpenAIBackend"
    assert not forced.is_local
    # DATAGEN_LLM=local wins over a key.
    assert isinstance(make_backend(local_settings(tmp_path, openai_api_key="sk-test", llm="local")), LocalLlamaBackend)


def test_datagen_local_model_env_points_at_another_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAGEN_LOCAL_MODEL", str(shipped_model_path()))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("DATAGEN_LLM", raising=False)
    chosen = make_backend(Settings(_env_file=None))
    assert isinstance(chosen, LocalLlamaBackend)
    assert chosen.description == "SmolLM2-135M-Instruct.Q4_1.gguf (embedded, CPU)"


@pytest.mark.parametrize(
    ("make_path", "expected"),
    [
        (lambda tmp: tmp / "missing.gguf", "does not exist"),
        (lambda tmp: tmp, "is not a file"),
        (lambda tmp: _write(tmp / "model.bin", b"<html>not a model</html>"), "is not a GGUF model file"),
    ],
    ids=["missing", "directory", "not-gguf"],
)
def test_bad_datagen_local_model_gives_a_clear_error(tmp_path: Path, make_path, expected: str) -> None:
    bad = make_path(tmp_path)
    with pytest.raises(LLMError) as caught:
        make_backend(local_settings(tmp_path, local_model=bad))
    message = str(caught.value)
    assert message.startswith("DATAGEN_LOCAL_MODEL:") and expected in message and str(bad) in message
    assert "unset it to use the built-in" in message and "OPENAI_API_KEY" in message  # says what to do


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


async def test_schema_llama_cpp_cannot_convert_is_reported_not_ignored(backend: LocalLlamaBackend) -> None:
    # A pattern without ^...$ anchors is rejected by llama.cpp's converter; llama-cpp-python's
    # response_format path would silently fall back to "any JSON".
    with pytest.raises(SchemaNotSupported):
        await backend.complete([{"role": "user", "content": "hi"}], schema={"type": "string", "pattern": "[a-z]+"})


# --- real inference -------------------------------------------------------------------------


async def test_complete_with_a_classification_schema_returns_valid_json(backend: LocalLlamaBackend) -> None:
    messages = [
        {"role": "system", "content": "You write synthetic training data. Answer with JSON only."},
        {"role": "user", "content": 'Write 3 short English reviews of a coffee shop with the label "positive". '
                                    'Answer {"examples": [{"text": ..., "label": "positive"}]}.'},
    ]
    completion = await backend.complete(messages, schema=SENTIMENT_SCHEMA, max_tokens=300)
    answer = json.loads(completion.text)  # the grammar makes the tiny model's output parseable
    assert set(answer) == {"examples"} and answer["examples"]
    for example in answer["examples"]:
        assert set(example) == {"text", "label"}
        assert example["label"] in ("positive", "negative")
        assert isinstance(example["text"], str)
    assert completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 20 and completion.usage.completion_tokens > 5


async def test_complete_with_the_dialog_extraction_schema(backend: LocalLlamaBackend) -> None:
    from core.intake import EXTRACTION_SCHEMA  # nullable types, an enum with null, an array of strings

    messages = [
        {"role": "system", "content": "Extract the dataset order as JSON; use null for what the message does not say."},
        {"role": "user", "content": "I need 50 restaurant reviews labeled positive or negative, in English."},
    ]
    completion = await backend.complete(messages, schema=EXTRACTION_SCHEMA, max_tokens=200, temperature=0.0)
    answer = json.loads(completion.text)
    assert set(answer) == set(EXTRACTION_SCHEMA["properties"])
    assert answer["labels"] is None or all(isinstance(label, str) for label in answer["labels"])
    assert answer["count"] is None or isinstance(answer["count"], int)


async def test_calls_run_off_the_event_loop_and_are_serialised(backend: LocalLlamaBackend) -> None:
    await backend.load()
    async with loop_gaps() as gaps:
        started = time.perf_counter()
        prompt = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]
        # Two at once on one llama.cpp context: without the server's lock this corrupts the context or crashes.
        first, second = await asyncio.gather(*(backend.complete(prompt, max_tokens=40) for _ in range(2)))
        elapsed = time.perf_counter() - started
    assert first.text.strip() and second.text.strip()
    assert first.usage.completion_tokens > 0 and second.usage.completion_tokens > 0
    # A blocked loop would show one gap as long as a whole generation.
    assert elapsed > 0.2 and max(gaps) < elapsed / 2


async def test_generator_classification_order_ends_with_exact_counts(backend: LocalLlamaBackend, tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    store = Store.from_url(settings.database_url)
    try:
        # Same model, a fixed seed sequence: the order is reproducible, so the test is not a coin toss.
        generator = Generator(seeded(backend), store, settings)
        spec = DatasetSpec.from_data(
            {"task": "classification", "topic": "product reviews", "label_counts": {"positive": 3, "negative": 3}}
        )
        result = await asyncio.wait_for(generator.run(generator.create_job(spec)), timeout=150)
        assert result.status == "done", result.error
        assert result.accepted == {"positive": 3, "negative": 3}
        rows = store.accepted_rows(result.job_id)
        assert sorted(row.label for row in rows) == ["negative"] * 3 + ["positive"] * 3
        texts = [row.fields["text"] for row in rows]
        assert len({text.casefold() for text in texts}) == 6
        await assert_english(backend, texts)
        assert result.completion_tokens > 0
    finally:
        store.close()


async def test_generator_multiple_choice_order_ends_with_exact_counts(backend: LocalLlamaBackend, tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    store = Store.from_url(settings.database_url)
    try:
        # Same model, a fixed seed sequence: the order is reproducible, so the test is not a coin toss.
        generator = Generator(seeded(backend), store, settings)
        spec = DatasetSpec.from_data({"task": "multiple_choice", "topic": "world geography", "count": 3})
        result = await asyncio.wait_for(generator.run(generator.create_job(spec)), timeout=150)
        assert result.status == "done", result.error
        rows = store.accepted_rows(result.job_id)
        assert len(rows) == 3
        for row in rows:
            fields = row.fields
            assert fields["answer"] in ("a", "b", "c", "d")
            options = [fields[f"option_{letter}"].strip() for letter in "abcd"]
            assert fields["question"].strip() and all(options)
        await assert_english(backend, [row.fields["question"] for row in rows])
    finally:
        store.close()


def test_llama_cpp_never_loaded_in_the_test_process() -> None:
    # Every inference above ran in the model's own process: a SIGILL or segfault there fails one
    # test with a reason, instead of killing pytest before it prints the summary.
    assert "llama_cpp" not in sys.modules
