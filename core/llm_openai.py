"""The OpenAI-compatible backend: OpenAI, vLLM, Ollama, llama.cpp server, ... via `openai.AsyncOpenAI`.

Retries are ours, not the openai client's (its `max_retries` is 0): every attempt goes through
the backend's `AdaptiveLimiter` (core/concurrency.py), which must see each 429, timeout and
latency to size the concurrency; the client's own retries would hide them. 408/409/5xx, a 200
whose body is empty or not JSON, timeouts and connection errors are retried up to `max_retries`
times with exponential backoff; 429s until
`rate_limit_patience` seconds have passed, honouring `Retry-After` as a pause of the whole
backend. What is still failing after that becomes `LLMError` with a message a user can act on.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from typing import Any
from urllib.parse import urlsplit

import openai

from core.concurrency import AdaptiveLimiter, Outcome
from core.llm import Completion, LLMError, Messages, SchemaNotSupported, Usage, register_backend
from core.settings import Settings

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Words in a 400/422 message that mean "this server can't do structured output".
_SCHEMA_COMPLAINTS = ("response_format", "json_schema", "schema", "structured", "grammar", "not supported")


def is_strict_compatible(schema: Any) -> bool:
    """OpenAI's strict mode needs every object closed (additionalProperties false) with all
    properties required; a schema that isn't is sent non-strict rather than rejected."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            if schema.get("additionalProperties") is not False or set(schema.get("required", [])) != set(properties):
                return False
        return all(is_strict_compatible(value) for value in schema.values())
    if isinstance(schema, list):
        return all(is_strict_compatible(value) for value in schema)
    return True


def _schema_name(schema: dict[str, Any]) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "response"))
    return name[:64] or "response"


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return str(exc.message)


def _connection_failure(exc: BaseException) -> OSError | None:
    """The OSError (refused, unreachable, DNS) behind an exception, if it isn't a timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, TimeoutError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _http_client_options(timeout: float) -> dict[str, Any]:
    """The SDK's aiohttp transport when this openai version has it: about 1 ms less CPU per
    request than httpx's pool, which re-checks every idle connection on each request (measured
    with benchmarks/throughput.py). Otherwise the SDK's default httpx client."""
    factory = getattr(openai, "DefaultAioHttpClient", None)
    if factory is None:
        return {}
    try:
        return {"http_client": factory(timeout=timeout)}
    except (RuntimeError, ImportError):  # older SDKs want the separate `openai[aiohttp]` extra
        return {}


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (numbers only; a date is rare enough to ignore)."""
    headers = exc.response.headers
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(header, ""))
        except ValueError:
            continue
        if value >= 0 and value < float("inf"):
            return value / divisor
    return None


def _backoff(attempt: int, first: float = 0.5) -> float:
    """The openai client's schedule: 0.5 s doubling up to 8 s, minus up to 25% jitter."""
    return min(first * 2.0**attempt, 8.0) * (1 - 0.25 * random.random())


#: Statuses that mean "past capacity": the limiter backs off on them as on a 429.
_OVERLOAD_STATUSES = {502, 503, 504, 529}


class _UnreadableAnswer(ValueError):
    """A 200 whose JSON is not an object (null, a list, a number)."""


def make_limiter(settings: Settings) -> AdaptiveLimiter:
    """Fixed at DATAGEN_CONCURRENCY when it is set, else adaptive between the floor and ceiling."""
    if settings.concurrency is not None:
        return AdaptiveLimiter(floor=settings.concurrency, ceiling=settings.concurrency, adaptive=False)
    return AdaptiveLimiter(floor=settings.min_concurrency, ceiling=max(settings.min_concurrency, settings.max_concurrency))


def server_host(base_url: str) -> str:
    """The host of a base URL ("api.openai.com"): what a user may see of it. A URL can carry
    credentials (user:password@...) and internal paths, so nothing else is shown."""
    try:
        host = urlsplit(base_url).hostname
    except ValueError:  # malformed (e.g. a bad IPv6 literal): say nothing about it rather than echo it
        host = None
    return host or "an OpenAI-compatible server"


class OpenAIBackend:
    is_local = False
    max_concurrency: int | None = None  # a server: the engine's concurrency setting decides
    batch_size: int | None = None

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 6,
        limiter: AdaptiveLimiter | None = None,
        rate_limit_patience: float = 300.0,
    ) -> None:
        self.model = model
        #: Shared by every job using this backend: one provider, one concurrency, one pause.
        self.limiter = limiter or AdaptiveLimiter()
        self.rate_limit_patience = rate_limit_patience
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout = timeout
        self.max_retries = max_retries
        self.description = f"{model} via {server_host(self.base_url)}"  # shown to users: no credentials, no path
        self.usage = Usage()  # summed over every call of this backend
        #: time.monotonic() of the last HTTP response of any status (the engine's "is the server silent?").
        self.last_response_at: float | None = None
        self._last_format: tuple[dict[str, Any], dict[str, Any]] | None = None
        self._api_key = api_key or "not-needed"  # local servers (Ollama, llama.cpp) ignore it; the SDK insists
        self._client: openai.AsyncOpenAI | None = None
        # `max_tokens` is what most compatible servers know; OpenAI's reasoning models want the
        # newer name and only their default temperature (learned from the first refusal).
        self._max_tokens_field = "max_tokens"
        self._send_temperature = True
        self._client_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "OpenAIBackend":
        return cls(
            model=settings.model,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url,
            timeout=settings.request_timeout,
            max_retries=settings.max_retries,
            limiter=make_limiter(settings),
            rate_limit_patience=settings.rate_limit_patience,
        )

    async def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.9,
        extra: dict[str, Any] | None = None,
    ) -> Completion:
        """`extra`: more request fields this server understands (the embedded model's `seed`)."""
        body: dict[str, Any] = {"model": self.model, "messages": messages, **(extra or {})}
        if self._send_temperature:
            body["temperature"] = temperature
        if max_tokens is not None:
            body[self._max_tokens_field] = max_tokens
        if schema is not None:
            body["response_format"] = self._response_format(schema)
        try:
            # The client's documented raw `post` (same retries, timeouts and errors as
            # `chat.completions.create`): the typed path re-walks messages and schema and builds
            # pydantic models on every call, ~1.5 ms of CPU per request that caps throughput at
            # high concurrency (benchmarks/throughput.py).
            data = await self._post_with_retries(body)
        except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
            message = _error_message(exc)
            if schema is not None and (
                getattr(exc, "param", None) == "response_format"
                or any(word in message.lower() for word in _SCHEMA_COMPLAINTS)
            ):
                raise SchemaNotSupported(f"{self.base_url} does not support JSON-schema output: {message}") from exc
            raise LLMError(f"the LLM server refused the request ({exc.status_code}): {message}", kind="refused",
                           url=self.base_url, status=exc.status_code) from exc
        except openai.AuthenticationError as exc:
            raise LLMError(f"the LLM server at {self.base_url} rejected the API key (check OPENAI_API_KEY)",
                           kind="api_key", url=self.base_url) from exc
        except openai.PermissionDeniedError as exc:
            raise LLMError(f"no permission to use {self.model} at {self.base_url}: {_error_message(exc)}",
                           kind="permission", url=self.base_url, model=self.model) from exc
        except openai.NotFoundError as exc:
            raise LLMError(
                f"model {self.model!r} or the endpoint was not found at {self.base_url} (check DATAGEN_MODEL / "
                f"OPENAI_BASE_URL): {_error_message(exc)}", kind="not_found", url=self.base_url, model=self.model
            ) from exc
        except openai.RateLimitError as exc:
            if isinstance(exc.body, dict) and exc.body.get("code") == "insufficient_quota":
                raise LLMError(f"the API key's quota at {self.base_url} is used up: {_error_message(exc)}",
                               kind="quota", url=self.base_url) from exc
            raise LLMError(
                f"still rate-limited (429) by {self.base_url} after {self.rate_limit_patience:g} s of retries: "
                f"{_error_message(exc)}", kind="rate_limited", url=self.base_url
            ) from exc
        except openai.APIStatusError as exc:
            raise LLMError(
                f"the LLM server answered {exc.status_code} after {self.max_retries} retries: {_error_message(exc)}",
                kind="server_error" if exc.status_code >= 500 else "refused", url=self.base_url, status=exc.status_code
            ) from exc
        except openai.APITimeoutError as exc:
            refused = _connection_failure(exc)
            if refused is not None:  # the aiohttp transport reports a refused connection as a timeout
                raise LLMError(f"cannot reach the LLM server at {self.base_url}: {refused}", kind="unreachable",
                               url=self.base_url) from exc
            raise LLMError(
                f"no answer from {self.base_url} within {self.timeout:g} s ({self.max_retries} retries)",
                kind="timeout", url=self.base_url
            ) from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the LLM server at {self.base_url}: {exc.__cause__ or exc}", kind="unreachable",
                           url=self.base_url) from exc
        except (openai.APIResponseValidationError, ValueError) as exc:  # a 200 whose body is not a JSON object
            raise LLMError(f"unreadable answer from {self.base_url} after {self.max_retries} retries: {exc}",
                           kind="unreadable", url=self.base_url) from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"unreadable answer from {self.base_url}: {exc}", kind="unreadable", url=self.base_url) from exc

        return self._completion(data)

    def _completion(self, data: Any) -> Completion:
        """Read the answer defensively: compatible servers differ in what they leave out."""
        if not isinstance(data, dict):
            raise LLMError(f"unreadable answer from {self.base_url}: expected a JSON object, got {str(data)[:200]!r}",
                           kind="unreadable", url=self.base_url)
        raw_usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        usage = Usage(int(raw_usage.get("prompt_tokens") or 0), int(raw_usage.get("completion_tokens") or 0))
        self.usage.prompt_tokens += usage.prompt_tokens
        self.usage.completion_tokens += usage.completion_tokens
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return Completion(text="", usage=usage, finish_reason=None)
        choice = choices[0]
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        content = message.get("content")
        return Completion(text=content if isinstance(content, str) else "", usage=usage,
                          finish_reason=choice.get("finish_reason"))

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        # The engine sends the same schema object for a whole job: build its wrapper once.
        if self._last_format is None or self._last_format[0] is not schema:
            fmt = {"type": "json_schema",
                   "json_schema": {"name": _schema_name(schema), "schema": schema, "strict": is_strict_compatible(schema)}}
            self._last_format = (schema, fmt)
        return self._last_format[1]

    async def _post_with_retries(self, body: dict[str, Any]) -> Any:
        """`_post_adapting` with our retries, every attempt holding one of the limiter's slots."""
        limiter = self.limiter
        attempt, rate_limited, first_429 = 0, 0, None
        while True:
            ticket = await limiter.acquire()
            try:
                data = await self._post_adapting(body)
                if not isinstance(data, dict):
                    raise _UnreadableAnswer(f"expected a JSON object, got {str(data)[:200]!r}")
            except openai.RateLimitError as exc:
                self.last_response_at = time.monotonic()
                retry_after = _retry_after(exc)
                limiter.release(ticket, Outcome.RATE_LIMITED, retry_after=retry_after)
                first_429 = first_429 or time.monotonic()
                code = exc.body.get("code") if isinstance(exc.body, dict) else None
                if code == "insufficient_quota" or time.monotonic() - first_429 > self.rate_limit_patience:
                    raise
                # A Retry-After paused the whole backend (acquire waits for it); else back off alone,
                # briefly at first: the limiter has already cut how many go out at once.
                await asyncio.sleep(0 if retry_after else _backoff(min(rate_limited, 6), first=0.1))
                rate_limited += 1
                continue
            except openai.APIStatusError as exc:
                self.last_response_at = time.monotonic()
                retryable = exc.status_code in (408, 409) or exc.status_code >= 500
                overloaded = exc.status_code in _OVERLOAD_STATUSES
                limiter.release(ticket, Outcome.OVERLOADED if overloaded else Outcome.ERROR)
                if not retryable or attempt >= self.max_retries:
                    raise
            except openai.APITimeoutError as exc:
                refused = _connection_failure(exc) is not None  # aiohttp reports a refused connection so
                limiter.release(ticket, Outcome.ERROR if refused else Outcome.OVERLOADED)
                if attempt >= self.max_retries:
                    raise
            except openai.APIConnectionError:
                limiter.release(ticket, Outcome.ERROR)
                if attempt >= self.max_retries:
                    raise
            except (ValueError, openai.APIResponseValidationError):
                # A 200 whose body is empty or garbage (an overloaded server, a proxy's error
                # page): retried like a 5xx, not handed to the job as a failed request.
                self.last_response_at = time.monotonic()
                limiter.release(ticket, Outcome.ERROR)
                if attempt >= self.max_retries:
                    raise
            except BaseException:
                limiter.release(ticket, Outcome.ERROR)
                raise
            else:
                self.last_response_at = time.monotonic()
                limiter.release(ticket, Outcome.SUCCESS, latency=time.monotonic() - ticket.started)
                return data
            await asyncio.sleep(_backoff(attempt))
            attempt += 1

    async def _post_adapting(self, body: dict[str, Any]) -> Any:
        """POST; when the model refuses `max_tokens` (wants `max_completion_tokens`) or a
        non-default temperature, as OpenAI's reasoning models do, adapt once and remember it."""
        for _ in range(3):
            try:
                return await self._client_for_this_loop().post("/chat/completions", body=body, cast_to=object)
            except openai.BadRequestError as exc:
                message = _error_message(exc).lower()
                param = str(getattr(exc, "param", None) or "")
                if "max_tokens" in body and "max_completion_tokens" in message:
                    self._max_tokens_field = "max_completion_tokens"
                    body["max_completion_tokens"] = body.pop("max_tokens")
                elif "temperature" in body and (param == "temperature" or "temperature" in message):
                    self._send_temperature = False
                    del body["temperature"]
                else:
                    raise
        return await self._client_for_this_loop().post("/chat/completions", body=body, cast_to=object)

    def _client_for_this_loop(self) -> openai.AsyncOpenAI:
        # Connections belong to one event loop; a backend reused under a new loop (asyncio.run
        # twice) gets a fresh client instead of "attached to a different loop" errors.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0,  # ours: see above
                **_http_client_options(self.timeout),
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.close()
        self._client, self._client_loop = None, None


@register_backend("openai")
def make_openai_backend(settings: Settings) -> OpenAIBackend:
    return OpenAIBackend.from_settings(settings)
