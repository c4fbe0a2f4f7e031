"""LLM backends behind one small interface: "a chat completion, optionally constrained by a JSON schema".

Backends are plugins, as in simonw/llm: each backend module registers a factory under a name
(`@register_backend("openai")`), and this module imports none of them. The modules to load are
listed in `core.llm_plugins` (plus any installed package's `datagen.llm_backends` entry point);
`make_backend(settings)` loads them on first use and picks the one `settings.llm_backend` names,
so the OpenAI path never imports the embedded model's code and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from core import llm_plugins
from core.settings import Settings

Messages = list[dict[str, str]]


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Completion:
    """One answer: the raw text, and `usage` as reported by the server (0 when unknown)."""

    text: str
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None


class LLMError(Exception):
    """The backend could not produce an answer after its own retries (the job may retry or give up).
    `kind` says why, `values` what a user's message about it needs (core/stop_reasons.py says it in
    the chat's language): unreachable, timeout, server_error, rate_limited, quota, api_key,
    permission, not_found, refused, unreadable, died, model_file, failing (anything else)."""

    kind = "failing"

    def __init__(self, message: str = "", *, kind: str | None = None, **values: object) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.values = values


class SchemaNotSupported(LLMError):
    """The server refused `response_format=json_schema`; the caller falls back to the line template."""


class BackendNotInstalled(LLMError):
    """The chosen backend's optional dependencies are missing; `install_command` says how to add them."""

    def __init__(self, message: str, *, install_command: str) -> None:
        super().__init__(message)
        self.install_command = install_command


class BackendDied(LLMError):
    """The backend cannot answer in this job any more (the embedded model's process crashed):
    retrying the request is pointless, the job fails now with this one-line reason. The next
    job may try again (the backend starts afresh)."""

    kind = "died"


@runtime_checkable
class LLMBackend(Protocol):
    #: Shown to users: "gpt-4o-mini via https://api.openai.com/v1", "SmolLM2-135M (embedded)".
    description: str
    #: True for the embedded model: the chat warns that quality is limited.
    is_local: bool
    #: Hints for the engine (None = use the settings): a CPU model wants 1 request at a time
    #: and small single-label batches; a server wants many requests in flight.
    max_concurrency: int | None
    batch_size: int | None

    async def complete(
        self,
        messages: Messages,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.9,
    ) -> Completion:
        """Return the model's answer. With `schema`, the answer is JSON matching it (as far as the
        server enforces it). Transient errors (429 with Retry-After, 5xx, timeouts, connection
        errors) are retried inside; what is left raises `LLMError` (or `SchemaNotSupported`)."""
        ...

    async def aclose(self) -> None: ...


BackendFactory = Callable[[Settings], LLMBackend]
_Factory = TypeVar("_Factory", bound=BackendFactory)
_backends: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[_Factory], _Factory]:
    """Decorator for a backend module's factory: `@register_backend("local") def make(settings)`."""

    def register(factory: _Factory) -> _Factory:
        _backends[name] = factory
        return factory

    return register


def registered_backends() -> dict[str, BackendFactory]:
    """Every backend the plugin modules registered, by name (loads them on first use)."""
    llm_plugins.load_plugins()
    return dict(_backends)


def make_backend(settings: Settings) -> LLMBackend:
    """The backend the settings ask for: `DATAGEN_LLM`, else OpenAI when a key is set, else local.
    Blocking (the local backend starts its model process): call it in a worker thread from async code."""
    backends = registered_backends()
    name = settings.llm_backend
    if name not in backends:
        raise LLMError(f"no LLM backend named {name!r} is installed (known: {', '.join(sorted(backends))})")
    return backends[name](settings)
