"""A fake OpenAI-compatible chat-completions server for tests and benchmarks.

It is a real HTTP server (aiohttp) on 127.0.0.1, on a random port, running in a
background thread with its own event loop, so sync code, other event loops and
subprocesses can all talk to it through the real `openai` client.

    with FakeOpenAI(latency=0.05) as fake:          # or fake.start() / fake.stop()
        settings = Settings(openai_base_url=fake.base_url, ...)   # "http://127.0.0.1:PORT/v1"
        fake.inject("429", retry_after=1)           # next request gets 429 + Retry-After: 1
        fake.inject("500", times=2)                 # the two after that get 500
        ...
        fake.requests                               # every received JSON body, in order

Default behaviour: a cooperative LLM. It reads the request:
- with `response_format` json_schema it walks the schema generically and answers JSON that
  matches it: the top-level array gets as many items as the prompt asks for
  ("Produce exactly N ..."), else maxItems/minItems; a string enum named like the prompt's
  label ('... the label "positive"') gets that label, other enums a random member; optional
  or nullable fields are null; every generated string is unique and varied (random words from
  a large pseudo-word vocabulary, so near-duplicate detectors don't fire either);
- without a schema it answers in the line template the prompt shows (core/prompts.py):
  `Q: <text>` / `A: <label>` for classification, `Q:` + `A) .. D)` + `Answer: <letter>` for
  multiple choice, `Q: <question>` / `A: <answer>` for qa.
Usage is reported as len(text) // 4 tokens.

Faults (`inject(kind, times=1, **params)`), consumed one per request, first in first out:
- "429"            status 429 with `Retry-After: retry_after` (default 1 second)
- "500"            status 500 (`status=` to pick another 5xx)
- "slow"           sleeps `delay` seconds (default 30, longer than any test's client timeout)
                   before answering normally
- "malformed"      200 whose message content is truncated mid-way (JSON or template);
                   `style="prose"` answers chatty prose instead
- "malformed_body" 200 whose HTTP body itself is not JSON
- "empty_body"     200 with an empty body
- "wrong_labels"   a normal answer whose labels are NOT the allowed ones ("not-<label>"; for multiple
                   choice an answer that is not a-d), for the first `fraction` of the rows (default 1.0)
- "duplicates"     a normal-shaped answer whose texts repeat texts already sent
- "near_duplicates" texts already sent (of 11+ words) with one word added
- "empty"          a normal-shaped answer with zero rows
Mode `reject_json_schema=True`: any request with response_format json_schema gets a 400
like servers that don't support structured output.
Capacity modes, `max_concurrent=N` with `over_limit=`:
- "429"   a request arriving while N others are being answered gets 429 at once (with
          `Retry-After: over_limit_retry_after` when that is set), like a provider's concurrency cap;
- "queue" at most N are answered at once, the others wait for a free slot, like vLLM: no error,
          only latency grows.
`over_limit_count` counts the 429s sent; `peak_served` is the most requests answered at once.

Scripting: `fake.responders` is a list of callables `(request_body) -> dict | str | FakeResponse | None`,
asked in order before the default behaviour; the first non-None answer wins. A `str` is the
assistant message content, a `dict` is serialised as JSON content, a `FakeResponse` gives full
control of status, body and headers. Responders run on the server thread.

Labeling and verification (core/classify.py's "Classify each row ... [id] text" requests): it
answers every id with the row's true class, which it knows
- for texts it wrote itself (or a responder wrote): the label it was asked for (`true_labels`),
  the correct option of a quiz question (`true_answers`), even when `mislabel_share` made it
  write a share of rows with the neighbouring allowed label (`mislabeled`; exactly round(n*share)
  of the first n rows; classification in both formats, quizzes in structured answers);
- for texts made by `marked_text(label)`: a marker word the text carries (works across processes);
  a text with two markers is ambiguous: asked again, it alternates between them;
- otherwise: the first allowed label.
`inject_labeling(kind, times=1)` spoils the next labeling answers: "drop" (one id missing),
"repeat" (one id twice, with two labels), "reorder" (ids in reverse), "invent" (an unknown id).

Document questions (core/documents: a prompt with 'Passage N (source):' ... 'End of passages.'):
answers are runs of words copied from the passages shown (one run per passage, joined by "; "; "not in the
documents" when the question_type pinned is unanswerable); `ungrounded_share` makes exactly
round(k*share) of the first k rows of each question type wrong: an answer of words in no passage, or an
"unanswerable" question that copies words of its passage (`ungrounded` holds those questions).
The grounding judge (rows with 'Passage N: ... Question: ... Proposed answer: ...') answers the
truth: supported when every run of the answer is in the passages, not_answerable when neither
the answer nor the question comes from them, not_supported otherwise. For an order in a language
of `_LANGUAGE_WORDS` other than English ('Write every example in Polish.'), questions are real
words of it; `wrong_language_share` makes exactly round(n*share) of the first n rows English (the
question, or every other time the answer of an answerable row; `wrong_language_rows` holds
their questions).

Stats: `requests`, `in_flight`, `peak_in_flight`, `issued_texts`, `labeling_requests`.

Run standalone (benchmarks, manual tries): `python -m tests.fakes.openai_server --latency 0.3`
prints the base URL and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from tests.fakes.loopback import ThreadedLoopbackServer

Responder = Callable[[dict[str, Any]], "dict[str, Any] | str | FakeResponse | None"]

_COUNT_RE = re.compile(r"Produce exactly (\d+)")
_LABEL_RE = re.compile(r'the label "([^"]*)"')
_CLASSIFY_RE = re.compile(r"Classify each .*? Allowed labels: (\[.*?\])\.")
_ROW_RE = re.compile(r"^\[([^\]]+)\] (.*)$", re.MULTILINE)
_ALLOWED_RE = re.compile(r'"([^"]+)"')
_MARKER_RE = re.compile(r"\bzz([0-9a-z]{4})\b")
_QUIZ_RE = re.compile(r"^(.*?) a\) (.*?) b\) (.*?) c\) (.*?) d\) (.*)$")
LABELING_FAULTS = ("drop", "repeat", "reorder", "invent")
# Row-model prompts (core/rows/prompting.py): a column pinned to a value, a column's language.
_PIN_RE = re.compile(r'the ([a-z_]+) "([^"]*)"')
_COLUMN_LANGUAGE_RE = re.compile(r'Write the "([a-z_]+)" column in ([A-Z][a-z]+)')
_EXAMPLE_LANGUAGE_RE = re.compile(r"Write every example in ([A-Z][a-z]+)")
_TEMPLATE_LINE_RE = re.compile(r"^([a-z_]+): <(.*)>$", re.M)
# Real words for columns the prompt wants in a language (a language detector checks them).
_LANGUAGE_WORDS = {
    "English": "the order parcel arrived late yesterday and my refund still has not come back please check "
               "where it is because I need it before the weekend thank you very much for your help with this".split(),
    "Polish": "zamówienie paczka przyszła wczoraj spóźniona i mój zwrot pieniędzy wciąż nie wrócił proszę sprawdzić "
              "gdzie jest bo potrzebuję go przed weekendem dziękuję bardzo za pomoc w tej sprawie".split(),
    "German": "die Bestellung das Paket kam gestern verspätet an und meine Rückerstattung ist immer noch nicht "
              "zurück bitte prüfen Sie wo sie ist weil ich sie vor dem Wochenende brauche vielen Dank".split(),
    "French": "la commande le colis est arrivé hier en retard et mon remboursement n'est toujours pas revenu "
              "merci de vérifier où il est car j'en ai besoin avant le week-end merci beaucoup".split(),
    "Spanish": "el pedido el paquete llegó ayer tarde y mi reembolso todavía no ha vuelto por favor compruebe "
               "dónde está porque lo necesito antes del fin de semana muchas gracias por su ayuda".split(),
}


@dataclass
class FakeResponse:
    """A full answer: status, JSON (or raw text) body and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # sent verbatim instead of JSON(body)


@dataclass
class _Fault:
    kind: str
    params: dict[str, Any]


def _make_vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    # Pseudo-words from syllables: a vocabulary big enough that random sentences never collide.
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "st", "tr"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3))))
    return sorted(words)


class FakeOpenAI(ThreadedLoopbackServer):
    label = "OpenAI"
    # handler_cancellation: a "slow" handler stops when the client gives up on it.
    runner_options = {"handler_cancellation": True, "shutdown_timeout": 0.5}

    def __init__(
        self,
        *,
        latency: float = 0.0,
        reject_json_schema: bool = False,
        seed: int = 1234,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_requests: bool = True,
        max_concurrent: int | None = None,
        over_limit: str = "429",
        over_limit_retry_after: float | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        if over_limit not in ("429", "queue"):
            raise ValueError(f"over_limit must be '429' or 'queue', not {over_limit!r}")
        self.max_concurrent = max_concurrent
        self.over_limit = over_limit
        self.over_limit_retry_after = over_limit_retry_after
        self.over_limit_count = 0
        self.served = 0  # requests being answered now (capacity modes)
        self.peak_served = 0
        self._queue_slots: asyncio.Semaphore | None = None
        self.latency = latency
        self.reject_json_schema = reject_json_schema
        self.keep_requests = keep_requests  # the benchmark turns it off (100,000-row jobs)
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[tuple[float, str]] = []  # (time.monotonic(), API key) of each kept request
        self.responders: list[Responder] = []
        self.issued_texts: list[str] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        #: (time.monotonic(), in_flight) after each change: how many requests the server held at once
        #: (answered or queued) over time, the server's own view of a client's concurrency.
        self.in_flight_changes: deque[tuple[float, int]] = deque(maxlen=100_000)
        self.request_count = 0
        self._rng = random.Random(seed)
        self._vocabulary = _make_vocabulary(self._rng)
        self._issued: set[str] = set()
        self._issued_rows: deque[dict[str, Any]] = deque(maxlen=500)  # row-model rows, for "duplicates"
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._init_labeling()
        self._init_documents()

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        return app

    # --- test controls --------------------------------------------------------------------

    def inject(self, kind: str, *, times: int = 1, **params: Any) -> None:
        known = {"429", "500", "slow", "malformed", "malformed_body", "empty_body", "wrong_labels", "duplicates",
                 "near_duplicates", "empty"}
        if kind not in known:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(known)}")
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault(kind, dict(params)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    # --- HTTP -----------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        self.in_flight_changes.append((time.monotonic(), self.in_flight))
        try:
            try:
                body = await request.json()
            except json.JSONDecodeError:
                return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
            self.request_count += 1
            if self.keep_requests:
                self.requests.append(body)
                # Who asked and when (parallel to `requests`): processes sharing this server are told
                # apart by their API keys (the worker tests).
                self.arrivals.append((time.monotonic(), request.headers.get("Authorization", "").removeprefix("Bearer ")))
            if self.max_concurrent is None:
                if self.latency:
                    await asyncio.sleep(self.latency)
                return await self._answer(body)
            return await self._answer_within_capacity(body)
        finally:
            self.in_flight -= 1
            self.in_flight_changes.append((time.monotonic(), self.in_flight))

    async def _answer_within_capacity(self, body: dict[str, Any]) -> web.StreamResponse:
        assert self.max_concurrent is not None
        if self.over_limit == "429" and self.served >= self.max_concurrent:
            self.over_limit_count += 1
            headers = {} if self.over_limit_retry_after is None else {"Retry-After": f"{self.over_limit_retry_after:g}"}
            return web.json_response(
                {"error": {"message": f"Too many concurrent requests (limit {self.max_concurrent})",
                           "type": "rate_limit_error", "code": "rate_limit_exceeded"}},
                status=429, headers=headers,
            )
        if self._queue_slots is None:  # created on the server's own loop
            self._queue_slots = asyncio.Semaphore(self.max_concurrent)
        async with self._queue_slots:
            self.served += 1
            self.peak_served = max(self.peak_served, self.served)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
                return await self._answer(body)
            finally:
                self.served -= 1

    async def _answer(self, body: dict[str, Any]) -> web.StreamResponse:
        schema = _json_schema_of(body)
        if self.reject_json_schema and schema is not None:
            return web.json_response(
                {"error": {"message": "response_format json_schema is not supported by this server",
                           "type": "invalid_request_error", "param": "response_format", "code": None}},
                status=400,
            )
        fault = self._next_fault()
        if fault is not None:
            early = await self._apply_transport_fault(fault)
            if early is not None:
                return early
        for responder in list(self.responders):
            answer = responder(body)
            if answer is None:
                continue
            if isinstance(answer, FakeResponse):
                if answer.raw is not None:
                    return web.Response(status=answer.status, text=answer.raw, headers=answer.headers,
                                        content_type="application/json")
                return web.json_response(answer.body, status=answer.status, headers=answer.headers)
            content = answer if isinstance(answer, str) else json.dumps(answer)
            self._note_scripted(body, answer)
            return web.json_response(self._completion(body, content))
        content = self._default_content(body, schema, fault)
        return web.json_response(self._completion(body, content))

    async def _apply_transport_fault(self, fault: _Fault) -> web.StreamResponse | None:
        if fault.kind == "429":
            retry_after = fault.params.get("retry_after", 1)
            return web.json_response(
                {"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit"}},
                status=429, headers={"Retry-After": str(retry_after)},
            )
        if fault.kind == "500":
            return web.json_response(
                {"error": {"message": "The server had an error", "type": "server_error"}},
                status=int(fault.params.get("status", 500)),
            )
        if fault.kind == "slow":
            await asyncio.sleep(float(fault.params.get("delay", 30.0)))
            return None
        if fault.kind == "malformed_body":
            return web.Response(status=200, text='{"id": "chatcmpl-x", "choices": [{"mess',
                                content_type="application/json")
        if fault.kind == "empty_body":
            return web.Response(status=200, text="", content_type="application/json")
        return None

    def _completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        prompt_tokens = max(1, prompt_chars // 4)
        completion_tokens = max(1, len(content) // 4)
        return {
            "id": f"chatcmpl-{self.request_count}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    # --- the cooperative LLM ----------------------------------------------------------------

    def _default_content(self, body: dict[str, Any], schema: dict[str, Any] | None, fault: _Fault | None) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        count_match = _COUNT_RE.search(prompt)
        count = int(count_match.group(1)) if count_match else None
        label_match = _LABEL_RE.search(prompt)
        label = label_match.group(1) if label_match else None
        if _CLASSIFY_RE.search(prompt):
            return self._labeling_answer(prompt, schema is not None)
        kind = fault.kind if fault else None
        if kind == "empty":
            count = 0
        self._pins = dict(_PIN_RE.findall(prompt))
        self._passages = _passages_in(prompt)
        self._languages = dict(_COLUMN_LANGUAGE_RE.findall(prompt))
        example_language = _EXAMPLE_LANGUAGE_RE.search(prompt)
        self._example_language = example_language.group(1) if example_language else "English"
        if schema is not None:
            data = self._walk(schema, schema, name="", count=count, label=label, top=True)
            data = self._corrupt(data, kind, fault)
            self._note_truth(data, schema, label)
            text = json.dumps(data, ensure_ascii=False)
        else:
            text = self._template_answer(prompt, count if count is not None else 5, label, kind, fault)
            allowed = _ALLOWED_RE.findall(prompt.split("allowed labels are:", 1)[-1].split(".", 1)[0])
            text = self._note_template_truth(text, label, allowed)
        if kind == "malformed":
            # Truncated mid-way, as when the model hits max_tokens or the stream breaks.
            return text[: max(5, len(text) // 2)] if fault and fault.params.get("style") != "prose" else \
                "Sure! Here are some great examples for you."
        return text

    def _text(self, *, question: bool = False) -> str:
        while True:
            words = self._rng.sample(self._vocabulary, self._rng.randint(7, 14))
            text = " ".join(words).capitalize() + ("?" if question else ".")
            if text not in self._issued:
                self._issued.add(text)
                self.issued_texts.append(text)
                return text

    def _walk(self, node: dict[str, Any], root: dict[str, Any], *, name: str, count: int | None,
              label: str | None, top: bool = False) -> Any:
        if "$ref" in node:
            ref = node["$ref"]
            target: Any = root
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            return self._walk(target, root, name=name, count=count, label=label, top=top)
        for key in ("anyOf", "oneOf"):
            if key in node:
                options = [o for o in node[key] if o.get("type") != "null"]
                return self._walk(options[0], root, name=name, count=count, label=label, top=top) if options else None
        node_type = node.get("type")
        if isinstance(node_type, list):
            non_null = [t for t in node_type if t != "null"]
            if "null" in node_type and name not in ("", "examples"):
                return None
            node_type = non_null[0] if non_null else "null"
        if "enum" in node:
            members = node["enum"]
            if self._pins.get(name) in members:
                return self._pins[name]
            if label is not None and label in members:
                return label
            return self._rng.choice(members) if members else None
        if "const" in node:
            return node["const"]
        if node_type == "object" or "properties" in node:
            required = set(node.get("required", node.get("properties", {}).keys()))
            result = {}
            for prop, sub in node.get("properties", {}).items():
                if prop not in required:
                    result[prop] = None
                    continue
                result[prop] = self._walk(sub, root, name=prop, count=count, label=label, top=top)
            return self._finish_row(result, node) if not top else result
        if node_type == "array":
            low, high = node.get("minItems", 0), node.get("maxItems")
            n = count if (top and count is not None) else (high if high is not None else max(low, 1))
            if high is not None:
                n = min(n, high)
            n = max(n, low)
            return [self._walk(node.get("items", {}), root, name=name, count=count, label=label) for _ in range(n)]
        if node_type == "string":
            if self._passages and name in ("question", "answer"):
                return self._document_text(name)
            if name in self._languages:
                return self._words_in(self._languages[name])
            return self._text(question="question" in name)
        if node_type == "integer":
            return 0
        if node_type == "number":
            return 0.0
        if node_type == "boolean":
            return False
        return None

    # --- rows of any column schema (core/rows) ------------------------------------------------

    _pins: dict[str, str] = {}
    _languages: dict[str, str] = {}

    def _words_in(self, language: str) -> str:
        words = _LANGUAGE_WORDS.get(language, _LANGUAGE_WORDS["English"])
        return " ".join(self._rng.sample(words, self._rng.randint(8, 14))).capitalize() + "."

    def _finish_row(self, row: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
        """Spans copied from the row's first text (0-2 whole words, as a model would pick entities);
        a messy row made messy the way its `noise` says."""
        texts = [key for key, value in row.items() if isinstance(value, str) and "enum" not in node["properties"][key]]
        for key, sub in node.get("properties", {}).items():
            items = sub.get("items", {}) if sub.get("type") == "array" else {}
            if {"text", "type"} <= set(items.get("properties", {})) and texts:
                words = [word.strip(".?") for word in str(row[texts[0]]).split()]
                chosen = self._rng.sample(words, min(len(words), self._rng.randint(0, 2)))
                row[key] = [{"text": word, "type": self._rng.choice(items["properties"]["type"]["enum"])}
                            for word in chosen]
        noise = row.get("noise")
        if texts and noise == "all caps":
            row[texts[0]] = row[texts[0]].upper()
        elif texts and noise == "no punctuation":
            row[texts[0]] = re.sub(r"[^\w\s]", "", row[texts[0]])
        if not {"text", "question"} & set(row):
            self._issued_rows.append(dict(row))  # for the "duplicates" fault
        return row

    def _template_row_with_truth(self, columns: list[tuple[str, str]]) -> list[str]:
        lines = self._template_row(columns)
        row = dict(line.split(": ", 1) for line in lines)
        what = dict(columns)
        stratified = next(iter(self._pins), "")
        members = what.get(stratified, "").removeprefix("one of: ").split(" | ")
        texts = [row[name] for name, kind in columns if name != stratified and name in row and not kind.startswith(
            ("one of: ", "a number", "true or false", "TYPE")) and name not in self._pins]
        if self._note_row_model_truth(row, members if what.get(stratified, "").startswith("one of: ") else [], texts):
            lines = [f"{name}: {value}" for name, value in row.items()]
        return lines

    def _template_row(self, columns: list[tuple[str, str]]) -> list[str]:
        lines, first_text = [], None
        for column, what in columns:
            if what.startswith("one of: "):
                value = self._pins.get(column) or self._rng.choice(what.removeprefix("one of: ").split(" | "))
            elif what == "a number":
                value = str(self._rng.randint(1, 5))
            elif what == "true or false":
                value = self._rng.choice(["true", "false"])
            elif what.startswith("TYPE: "):
                types = what.split("TYPE one of: ")[-1].split(" | ")
                word = (first_text or "none").split()[-1].strip(".?")
                value = f"{self._rng.choice(types)}: {word}" if first_text else "none"
            elif self._passages and column in ("question", "answer"):
                value = self._document_text(column)
            else:
                value = self._words_in(self._languages[column]) if column in self._languages else self._text()
                first_text = first_text or value
            lines.append(f"{column}: {value}")
        return lines

    def _wrong_label(self, label: str | None) -> str:
        return f"not-{label or 'a-label'}"

    def _corrupt(self, data: Any, kind: str | None, fault: _Fault | None) -> Any:
        rows = _rows_of(data)
        if kind is None or rows is None:
            return data
        if kind == "wrong_labels":
            fraction = float(fault.params.get("fraction", 1.0)) if fault else 1.0
            for i, row in enumerate(rows):
                if i < round(len(rows) * fraction):
                    for key in ("label", "answer", *(k for k in self._pins if k not in ("label", "noise"))):
                        if key in row:
                            row[key] = self._wrong_label(row[key])
        elif kind in ("duplicates", "near_duplicates"):
            text_keys = [k for k in ("text", "question") if rows and k in rows[0]]
            for row in rows:
                for key in text_keys:
                    row[key] = self._repeat(row[key], near=kind == "near_duplicates")
                if not text_keys and self._issued_rows:  # any other columns: an earlier row again
                    earlier = self._rng.choice(list(self._issued_rows)[:-len(rows)] or list(self._issued_rows))
                    row.update({k: v for k, v in earlier.items() if k not in self._pins})
        return data

    def _repeat(self, fallback: str, *, near: bool) -> str:
        # Texts sent before (so the engine must already have seen them), else repeat this batch's.
        earlier = self.issued_texts[:-50] or self.issued_texts
        text = self._rng.choice(earlier) if earlier else fallback
        if near:
            longer = [t for t in earlier[-200:] if len(t.split()) >= 11]  # one more word barely changes these
            text = (self._rng.choice(longer) if longer else text).rstrip(".?") + " indeed."
        return text

    def _template_answer(self, prompt: str, count: int, label: str | None, kind: str | None,
                         fault: _Fault | None) -> str:
        lines: list[str] = ["Here you go:"]
        wrong_until = round(count * float(fault.params.get("fraction", 1.0))) if kind == "wrong_labels" and fault else 0
        columns = _TEMPLATE_LINE_RE.findall(prompt)
        for i in range(count):
            wrong = i < wrong_until
            if columns:  # a row-model template: `column: <what>` lines
                lines += self._template_row_with_truth(columns)
            elif "Answer: <letter>" in prompt:
                question = self._text(question=True)
                if kind in ("duplicates", "near_duplicates"):
                    question = self._repeat(question, near=kind == "near_duplicates")
                lines.append(f"Q: {question}")
                for letter in "ABCD":
                    lines.append(f"{letter}) {self._text()}")
                lines.append(f"Answer: {'E' if wrong else self._rng.choice('ABCD')}")
            elif "A: <label>" in prompt:
                text = self._text()
                if kind in ("duplicates", "near_duplicates"):
                    text = self._repeat(text, near=kind == "near_duplicates")
                lines.append(f"Q: {text}")
                lines.append(f"A: {self._wrong_label(label) if wrong else label}")
            else:
                question = self._text(question=True)
                if kind in ("duplicates", "near_duplicates"):
                    question = self._repeat(question, near=kind == "near_duplicates")
                lines.append(f"Q: {question}")
                lines.append(f"A: {self._text()}")
            lines.append("")
        return "\n".join(lines)

    # --- labeling and verification (core/classify.py) ---------------------------------------

    def _init_labeling(self) -> None:
        self.mislabel_share = 0.0  # share of classification/quiz rows written with another allowed label
        self.true_labels: dict[str, str] = {}  # text it wrote -> the label it was asked for
        self.true_answers: dict[str, str] = {}  # quiz question it wrote -> the correct option's text
        self.mislabeled: set[str] = set()  # texts / questions written with a wrong label
        self.labeling_requests = 0
        self._rows_written = 0
        self._label_asks: dict[str, int] = {}
        self._labeling_faults: deque[str] = deque()

    def inject_labeling(self, kind: str, *, times: int = 1) -> None:
        if kind not in LABELING_FAULTS:
            raise ValueError(f"unknown labeling fault {kind!r}; known: {list(LABELING_FAULTS)}")
        with self._lock:
            self._labeling_faults.extend([kind] * times)

    @property
    def pending_labeling_faults(self) -> int:
        """Labeling faults injected but not yet served (`pending_faults` counts the HTTP ones)."""
        with self._lock:
            return len(self._labeling_faults)

    def _mislabel_next(self) -> bool:
        # Deterministic: exactly round(n * share) of the first n rows come out mislabeled.
        self._rows_written += 1
        n, share = self._rows_written, self.mislabel_share
        return int(n * share + 1e-9) > int((n - 1) * share + 1e-9)

    def _note_truth(self, data: Any, schema: dict[str, Any], asked: str | None) -> None:
        rows = _rows_of(data) or []
        enum = _label_enum(schema)
        self._enums = set(_enum_properties(schema))
        for row in rows:
            if not isinstance(row, dict):
                continue
            if isinstance(row.get("text"), str) and isinstance(row.get("label"), str):
                truth = asked if asked is not None else row["label"]
                key = _flat(row["text"])
                self.true_labels[key] = truth
                if truth in enum and len(enum) > 1 and self._mislabel_next():
                    row["label"] = enum[(enum.index(truth) + 1) % len(enum)]  # the neighbouring class
                    self.mislabeled.add(key)
            elif self._note_row_model_truth(row, _property_enum(schema, next(iter(self._pins), ""))):
                pass
            elif isinstance(row.get("question"), str) and row.get("answer") in ("a", "b", "c", "d"):
                key = _flat(row["question"])
                self.true_answers[key] = _flat(str(row.get(f"option_{row['answer']}", "")))
                if self._mislabel_next():
                    row["answer"] = "abcd"["abcd".index(row["answer"]) - 1]
                    self.mislabeled.add(key)

    def _note_row_model_truth(self, row: dict[str, Any], members: list[str], texts: list[str] | None = None) -> bool:
        """A row-model row whose stratified column (the first one the prompt pins: "the intent "..."")
        holds the pinned value: its texts' truth is that value; `mislabel_share` of them get the next
        member instead. The judge sees the key columns' texts (one, or all of them joined)."""
        stratified = next(iter(self._pins), None)
        if stratified is None or stratified in ("label", "noise") or not isinstance(row.get(stratified), str):
            return False
        truth = row[stratified]
        if texts is None:
            texts = [value for name, value in row.items() if isinstance(value, str) and name != stratified
                     and name not in self._enums and name not in self._pins]
        keys = {_flat(text) for text in texts if len(_flat(text)) >= 20}  # found inside the judge's row text
        for key in keys:
            self.true_labels[key] = truth
        if truth in members and len(members) > 1 and self._mislabel_next():
            row[stratified] = members[(members.index(truth) + 1) % len(members)]
            self.mislabeled.update(keys)
        return True

    _enums: set[str] = set()  # the schema's category properties: not texts the judge reads

    def _note_scripted(self, body: dict[str, Any], answer: Any) -> None:
        """Rows a responder wrote are texts the fake wrote too: their labels are the truth."""
        if isinstance(answer, dict):
            for row in _rows_of(answer) or []:
                if isinstance(row, dict) and isinstance(row.get("text"), str) and isinstance(row.get("label"), str):
                    self.true_labels.setdefault(_flat(row["text"]), row["label"])

    @property
    def generation_requests(self) -> list[dict[str, Any]]:
        """The requests that are not labeling/verification requests."""
        return [body for body in self.requests
                if not _CLASSIFY_RE.search("\n".join(str(m.get("content", "")) for m in body.get("messages", [])))]

    def _note_template_truth(self, text: str, asked: str | None, labels: list[str]) -> str:
        """Record the truth of a template answer; mislabel `mislabel_share` of its classification rows."""
        question, options, lines = None, {}, text.splitlines()
        for number, line in enumerate(lines):
            if line.startswith("Q: "):
                question, options = _flat(line[3:]), {}
            elif question and len(line) > 3 and line[1:3] == ") ":
                options[line[0].lower()] = _flat(line[3:])
            elif question and line.startswith("Answer: ") and line[8:].lower() in options:
                self.true_answers[question] = options[line[8:].lower()]
            elif question and line.startswith("A: ") and asked is not None:
                self.true_labels[question] = asked
                if asked in labels and len(labels) > 1 and self._mislabel_next():
                    lines[number] = f"A: {labels[(labels.index(asked) + 1) % len(labels)]}"
                    self.mislabeled.add(question)
        return "\n".join(lines)

    def _truth(self, text: str, labels: list[str]) -> str:
        if " Proposed answer: " in text:
            return self._grounding_truth(text, labels)
        by_marker = {label_marker(label): label for label in labels}
        marked = [by_marker[code] for code in _MARKER_RE.findall(text) if code in by_marker]
        if marked:
            asks = self._label_asks.get(text, 0)
            self._label_asks[text] = asks + 1
            return marked[asks % len(marked)]
        quiz = _QUIZ_RE.match(text)
        if quiz and set(labels) == {"a", "b", "c", "d"}:
            correct = self.true_answers.get(_flat(quiz.group(1)))
            for letter, option in zip("abcd", quiz.groups()[1:]):
                if correct is not None and _flat(option) == correct:
                    return letter
        known = self.true_labels.get(_flat(text))
        if known is None and len(text) > 20:  # a row-model row: the judge sees several of its columns
            flat = _flat(text)
            known = next((truth for key, truth in self.true_labels.items() if len(key) >= 20 and key in flat), None)
        return known if known in labels else labels[0]

    def _labeling_answer(self, prompt: str, structured: bool) -> str:
        self.labeling_requests += 1
        match = _CLASSIFY_RE.search(prompt)
        labels = json.loads(match.group(1)) if match else []
        pairs = [(row_id, self._truth(text, labels)) for row_id, text in _ROW_RE.findall(prompt)]
        with self._lock:
            fault = self._labeling_faults.popleft() if self._labeling_faults else None
        if fault == "drop" and pairs:
            pairs = pairs[1:]
        elif fault == "repeat" and pairs and len(labels) > 1:
            other = next(label for label in labels if label != pairs[0][1])
            pairs = [pairs[0], *pairs[1:], (pairs[0][0], other)]
        elif fault == "reorder":
            pairs = pairs[::-1]
        elif fault == "invent" and labels:
            pairs = [*pairs, ("999", labels[0])]
        if structured:
            return json.dumps({"labels": [{"id": i, "label": label} for i, label in pairs]}, ensure_ascii=False)
        return "\n".join(f"{i}: {label}" for i, label in pairs)


    # --- document questions (core/documents) -----------------------------------------------

    def _init_documents(self) -> None:
        self.ungrounded_share = 0.0
        self.ungrounded: set[str] = set()  # questions written with an unsupported answer / an answerable "unanswerable"
        self._passages: list[str] = []
        self._doc_rows = 0
        self._doc_rows_of: Counter[str] = Counter()
        self._doc_wrong = False
        self.wrong_language_share = 0.0
        self.wrong_language_rows: set[str] = set()  # questions of rows written (partly) in English
        self._doc_english_answer = False
        self._example_language = "English"

    def _question_in(self, language: str) -> str:
        while True:
            words = _LANGUAGE_WORDS[language]
            text = " ".join(self._rng.sample(words, self._rng.randint(8, 14))).capitalize() + "?"
            if text not in self._issued:
                self._issued.add(text)
                self.issued_texts.append(text)
                return text

    def _document_text(self, column: str) -> str:
        kind = self._pins.get("question_type", "factual")
        if column == "question":
            self._doc_rows += 1
            n, share = self._doc_rows, self.ungrounded_share
            # Spoiled per question type (round(k * share) of each type's first k rows), so every type
            # gets its spoiled rows whatever order the concurrent requests arrive in.
            self._doc_rows_of[kind] += 1
            k = self._doc_rows_of[kind]
            self._doc_wrong = int(k * share + 0.5) > int((k - 1) * share + 0.5)
            language = self._example_language if self._example_language in _LANGUAGE_WORDS else "English"
            share = self.wrong_language_share
            english = language != "English" and int(n * share + 1e-9) > int((n - 1) * share + 1e-9)
            self._doc_english_answer = english and kind != "unanswerable" and int(n * share + 1e-9) % 2 == 0
            question = self._question_in("English" if english and not self._doc_english_answer else language) \
                if language != "English" else self._text(question=True)
            if english:
                self.wrong_language_rows.add(_flat(question))
            if self._doc_wrong and kind == "unanswerable":  # the passage does answer it
                question = question[:-1] + " " + self._run_of(self._passages[0], 6) + "?"
            if self._doc_wrong:
                self.ungrounded.add(_flat(question))
            return question
        if kind == "unanswerable":
            return "not in the documents"
        if self._doc_wrong:
            return self._text()
        if self._doc_english_answer:
            return self._words_in("English")
        return "; ".join(self._run_of(passage, 5) for passage in self._passages[: 2 if kind == "reasoning" else 1])

    def _run_of(self, passage: str, length: int) -> str:
        words = passage.split()
        start = self._rng.randrange(max(1, len(words) - length + 1))
        return " ".join(words[start : start + length])

    @staticmethod
    def _grounding_truth(text: str, labels: list[str]) -> str:
        shown, rest = text.split(" Question: ", 1)
        question, answer = rest.rsplit(" Proposed answer: ", 1)
        passages = _flat(re.sub(r"Passage \d+: ", " ", shown))
        if answer.strip() == "not in the documents":
            words = question.rstrip("?").split()
            runs = (" ".join(words[i : i + 6]) for i in range(max(0, len(words) - 5)))
            truth = "not_supported" if any(_flat(run) in passages for run in runs) else "not_answerable"
        else:
            truth = "supported" if all(_flat(part) in passages for part in answer.split("; ")) else "not_supported"
        return truth if truth in labels else labels[0]


def _json_schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        return spec.get("schema") or {}
    return None


def _rows_of(data: Any) -> list[dict[str, Any]] | None:
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                return value
    return None


def label_marker(label: str) -> str:
    """The marker word `marked_text` puts in a text of `label` ("zz" + 4 base-36 digits): the
    fake's pseudo-words never start with "zz"."""
    value, digits = zlib.crc32(label.encode("utf-8")) % 36**4, ""
    for _ in range(4):
        value, digit = divmod(value, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits


def marked_text(label: str | Sequence[str], rng: random.Random, words: int = 9) -> str:
    """A unique-looking text whose true class the fake knows from a marker word (several labels:
    an ambiguous text whose repeated labeling alternates between them)."""
    labels = [label] if isinstance(label, str) else list(label)
    syllables = ["ba", "ko", "ri", "tu", "ne", "sa", "lo", "mi", "du", "pe", "ga", "fo"]
    body = [rng.choice(syllables) + rng.choice(syllables) + rng.choice(syllables) for _ in range(words)]
    return " ".join([*body[:2], *(f"zz{label_marker(x)}" for x in labels), *body[2:]]).capitalize() + "."


def _flat(text: str) -> str:
    return " ".join(text.split())


def _enum_properties(schema: dict[str, Any]) -> list[str]:
    """Names of the properties with an enum anywhere in a generation schema."""
    names, stack = [], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
                if isinstance(sub, dict) and "enum" in sub:
                    names.append(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def _property_enum(schema: dict[str, Any], name: str) -> list[str]:
    """The enum of the property `name` somewhere in a generation schema (empty if none)."""
    stack: list[Any] = [schema]
    while name and stack:
        node = stack.pop()
        if isinstance(node, dict):
            found = node.get("properties", {}).get(name) if isinstance(node.get("properties"), dict) else None
            if isinstance(found, dict) and isinstance(found.get("enum"), list):
                return [str(x) for x in found["enum"]]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return []


def _label_enum(schema: dict[str, Any]) -> list[str]:
    """The `label` enum somewhere in a generation schema (empty if none)."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            label = node.get("properties", {}).get("label") if isinstance(node.get("properties"), dict) else None
            if isinstance(label, dict) and isinstance(label.get("enum"), list):
                return [str(x) for x in label["enum"]]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fake OpenAI-compatible API until killed.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--reject-json-schema", action="store_true")
    parser.add_argument("--max-concurrent", type=int, default=None, help="capacity (see --over-limit)")
    parser.add_argument("--over-limit", choices=("429", "queue"), default="429")
    parser.add_argument("--retry-after", type=float, default=None, help="Retry-After of the over-limit 429s")
    args = parser.parse_args()
    fake = FakeOpenAI(latency=args.latency, port=args.port, reject_json_schema=args.reject_json_schema,
                      keep_requests=False, max_concurrent=args.max_concurrent, over_limit=args.over_limit,
                      over_limit_retry_after=args.retry_after)
    fake.start()
    print(fake.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


def _passages_in(prompt: str) -> list[str]:
    """The passages a document-question prompt shows (core/rows/presets.py, Documents.batch_lines)."""
    if "End of passages." not in prompt:
        return []
    block = prompt.split("End of passages.", 1)[0]
    parts = re.split(r"^Passage \d+ \(.*?\):$", block, flags=re.M)
    return [" ".join(part.split()) for part in parts[1:] if part.strip()]


if __name__ == "__main__":  # last: main() runs the server, which needs every function above
    main()
