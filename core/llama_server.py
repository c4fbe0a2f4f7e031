"""The embedded model's own process: llama.cpp behind a small OpenAI-compatible HTTP API on 127.0.0.1.

`core.llm_local` starts it (`python -m core.llama_server MODEL ...`) and talks to it with the
ordinary OpenAI backend, so a native crash of llama.cpp (SIGILL on a CPU it was not built for,
a segfault, the OOM killer) ends this process only, never the bot.

Written on aiohttp (already a dependency) rather than `llama_cpp.server`: that one needs
fastapi, uvicorn, sse-starlette and starlette-context, and when a JSON schema cannot be turned
into a grammar it silently answers "any JSON"; here that is a 400 naming `response_format`, which
the engine reads as "no structured output" and falls back to the line template.

Protocol with the parent: once the model is loaded and the socket listens, one JSON line on
stdout, `{"port": N}` (or `{"error": "..."}` and exit 1); the process exits when its stdin closes,
so it never outlives the bot, even one killed with SIGKILL.

Endpoints: POST /v1/chat/completions (messages, response_format json_schema, max_tokens,
temperature, seed), POST /tokenize ({"content": text} -> {"tokens": [...]}, as llama.cpp's own
server), GET /health.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from llama_cpp import Llama, LlamaGrammar

log = logging.getLogger("datagen.llama_server")

#: Discourages the looping ("great great great ...") that a 135M model falls into; JSON
#: punctuation is forced by the grammar, so the penalty only bites on free text.
REPEAT_PENALTY = 1.1
#: Test hook: "SIGILL@2" makes this process kill itself with that signal on its 2nd chat
#: completion, the way a CPU without the compiled-in instructions would.
CRASH_HOOK_ENV = "DATAGEN_TEST_LOCAL_MODEL_CRASH"


class SchemaError(ValueError):
    """The JSON schema cannot be turned into a llama.cpp grammar."""


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


@functools.lru_cache(maxsize=64)  # one schema per task + label set; bounded for a long-running bot
def grammar_from_json(schema_json: str) -> "LlamaGrammar":
    """The GBNF grammar for a JSON schema (as JSON text, in declaration order: the grammar emits
    properties in that order, and a quiz's answer letter must come after its options).

    Built here rather than by llama-cpp-python's `response_format`, which silently falls back to
    "any JSON" when a schema cannot be converted; we'd rather say so."""
    from llama_cpp import LlamaGrammar

    try:
        return LlamaGrammar.from_json_schema(json.dumps(grammar_schema(json.loads(schema_json))), verbose=False)
    except Exception as exc:  # the converter raises assorted errors (KeyError, ValueError, AssertionError ...)
        raise SchemaError(f"llama.cpp cannot turn this json_schema response_format into a grammar: {exc!r}") from exc


def _error(status: int, message: str, *, param: str | None = None) -> web.Response:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return web.json_response({"error": {"message": message, "type": kind, "param": param}}, status=status)


def _crash_plan() -> tuple[signal.Signals, int] | None:
    value = os.environ.get(CRASH_HOOK_ENV)
    if not value:
        return None
    name, _, nth = value.partition("@")
    return signal.Signals[name], int(nth or 1)


class ModelServer:
    """One loaded model; requests are answered one at a time (a llama.cpp context is not
    thread-safe) in a worker thread, so /health answers while the CPU generates."""

    def __init__(self, llama: "Llama", context_tokens: int) -> None:
        self.llama = llama
        self.context_tokens = context_tokens
        self._lock = asyncio.Lock()
        self._completions = 0
        self._crash = _crash_plan()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_post("/tokenize", self.tokenize)
        app.router.add_get("/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def tokenize(self, request: web.Request) -> web.Response:
        try:
            content = (await request.json())["content"]
        except (ValueError, KeyError, TypeError):
            return _error(400, 'expected a JSON body {"content": "..."}')
        async with self._lock:
            tokens = await asyncio.to_thread(self.llama.tokenize, str(content).encode("utf-8"), False)
        return web.json_response({"tokens": tokens})

    async def chat_completions(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            messages = body["messages"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "expected a JSON body with messages", param="messages")
        grammar = None
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            schema = (response_format.get("json_schema") or {}).get("schema")
            try:
                grammar = grammar_from_json(json.dumps(schema))
            except SchemaError as exc:
                return _error(400, str(exc), param="response_format")
        arguments: dict[str, Any] = {
            "messages": messages,
            "grammar": grammar,
            "max_tokens": body.get("max_tokens"),
            "temperature": float(body.get("temperature", 0.8)),
            "repeat_penalty": REPEAT_PENALTY,
        }
        if body.get("seed") is not None:
            arguments["seed"] = int(body["seed"])
        async with self._lock:
            if request.transport is None or request.transport.is_closing():
                return _error(499, "the client went away while the request waited")  # nobody reads it
            self._completions += 1
            if self._crash and self._completions >= self._crash[1]:
                os.kill(os.getpid(), self._crash[0])
            try:
                answer = await asyncio.to_thread(self.llama.create_chat_completion, **arguments)
            except ValueError as exc:
                if "exceed context window" in str(exc):
                    return _error(400, f"the prompt is too long for the local model's context window "
                                       f"({self.context_tokens} tokens): {exc}", param="messages")
                return _error(400, f"the local model refused the request: {exc}")
            except RuntimeError as exc:  # llama_decode errors
                return _error(500, f"the local model failed: {exc}")
        return web.json_response(answer)


def load_model(path: Path, context_tokens: int, threads: int) -> "Llama":
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=context_tokens,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,  # also sets llama.cpp's own log callback to errors only
    )


async def serve(llama: "Llama", context_tokens: int) -> None:
    runner = web.AppRunner(ModelServer(llama, context_tokens).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port}), flush=True)
    try:
        # Until the parent closes our stdin (it exited, or was killed: the pipe closes with it).
        await asyncio.to_thread(sys.stdin.buffer.read)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="llama_server: %(message)s")
    try:
        llama = load_model(args.model, args.context, args.threads)
    except (ImportError, ValueError, RuntimeError, OSError) as exc:
        print(json.dumps({"error": f"llama.cpp could not load {args.model} ({exc})"}), flush=True)
        return 1
    try:
        asyncio.run(serve(llama, args.context))
    finally:
        llama.close()  # while the interpreter is intact (left to shutdown, llama_cpp prints a TypeError)
    return 0


if __name__ == "__main__":
    sys.exit(main())
