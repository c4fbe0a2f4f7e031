"""LLM backends behind one small interface: "a chat completion, optionally constrained by a JSON schema".

Backends (plugin-shaped, like simonw/llm): `OpenAIBackend` here for any OpenAI-compatible
server; the embedded llama.cpp model lives in `core.llm_local` and is imported lazily so the
OpenAI path never pays for loading it. `make_backend(settings)` picks one from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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
    """The backend could not produce an answer after its own retries (the job may retry or give up)."""


class SchemaNotSupported(LLMError):
    """The server refused `response_format=json_schema`; the caller falls back to the line template."""


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


def make_backend(settings: Settings) -> LLMBackend:
    """The backend the settings ask for: `DATAGEN_LLM`, else OpenAI when a key is set, else local."""
    if settings.llm_backend == "local":
        from core.llm_local import LocalLlamaBackend  # lazy: loads llama.cpp

        return LocalLlamaBackend.from_settings(settings)
    from core.llm_openai import OpenAIBackend

    return OpenAIBackend.from_settings(settings)
