"""Configuration from the environment or a `.env` file (the names are the public contract in DESIGN.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite:///{Path.home() / '.datagen' / 'datagen.db'}"


def env(name: str) -> AliasChoices:
    # Accept the public env name (e.g. OPENAI_API_KEY) and the field name (handy in tests: Settings(model=...)).
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # --- LLM -------------------------------------------------------------------------------
    openai_api_key: str | None = Field(None, validation_alias=env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=env("OPENAI_BASE_URL"))
    model: str = Field("gpt-4o-mini", validation_alias=env("DATAGEN_MODEL"))
    llm: Literal["openai", "local"] | None = Field(None, validation_alias=env("DATAGEN_LLM"))
    local_model: Path | None = Field(None, validation_alias=env("DATAGEN_LOCAL_MODEL"))
    request_timeout: float = Field(120.0, validation_alias=env("DATAGEN_REQUEST_TIMEOUT"))
    max_retries: int = Field(6, validation_alias=env("DATAGEN_MAX_RETRIES"))
    # A job fails when the model has answered nothing (no rows, no error, no HTTP response) for this long.
    no_answer_timeout: float = Field(180.0, gt=0, validation_alias=env("DATAGEN_NO_ANSWER_TIMEOUT"))

    # --- Engine ----------------------------------------------------------------------------
    # Requests in flight: adaptive between the floor and the ceiling (core/concurrency.py) unless
    # DATAGEN_CONCURRENCY fixes it.
    concurrency: int | None = Field(None, ge=1, le=1024, validation_alias=env("DATAGEN_CONCURRENCY"))
    min_concurrency: int = Field(1, ge=1, le=1024, validation_alias=env("DATAGEN_MIN_CONCURRENCY"))
    max_concurrency: int = Field(256, ge=1, le=4096, validation_alias=env("DATAGEN_MAX_CONCURRENCY"))
    # Seconds one process's claim on a job lasts without renewal (renewed every third of it);
    # a killed process's job is taken over after that (at once on the same host).
    lease_seconds: float = Field(30.0, gt=0, validation_alias=env("DATAGEN_LEASE_SECONDS"))
    # --- Workers (PostgreSQL only; docs/deploy.md) ------------------------------------------
    workers: Literal["inprocess", "external"] = Field("inprocess", validation_alias=env("DATAGEN_WORKERS"))
    worker_jobs: int = Field(4, ge=1, le=256, validation_alias=env("DATAGEN_WORKER_JOBS"))
    max_jobs_per_user: int = Field(2, ge=1, le=1000, validation_alias=env("DATAGEN_MAX_JOBS_PER_USER"))
    worker_stalled_after: float = Field(30.0, ge=1, validation_alias=env("DATAGEN_WORKER_STALLED_AFTER"))
    # An order waits at most this long behind orders queued after it (small orders go first).
    queue_max_wait: float = Field(600.0, ge=0, validation_alias=env("DATAGEN_QUEUE_MAX_WAIT"))
    rate_limit_patience: float = Field(300.0, gt=0, validation_alias=env("DATAGEN_RATE_LIMIT_PATIENCE"))
    batch_size: int = Field(10, ge=1, le=200, validation_alias=env("DATAGEN_BATCH_SIZE"))
    max_count: int = Field(10_000, ge=1, validation_alias=env("DATAGEN_MAX_COUNT"))

    # --- Label verification (core/verify.py) ------------------------------------------------
    # auto: on for server models, off for the embedded model (too small to judge; docs/engine.md).
    verify: Literal["on", "off", "auto"] = Field("auto", validation_alias=env("DATAGEN_VERIFY"))
    judge_model: str | None = Field(None, validation_alias=env("DATAGEN_JUDGE_MODEL"))

    # --- Storage and delivery --------------------------------------------------------------
    database_url: str = Field(default_factory=_default_database_url, validation_alias=env("DATABASE_URL"))
    output_dir: Path = Field(Path("."), validation_alias=env("DATAGEN_OUTPUT_DIR"))
    progress_interval: float = Field(3.0, ge=0, validation_alias=env("DATAGEN_PROGRESS_INTERVAL"))
    preview_quiet: float = Field(5.0, ge=0, validation_alias=env("DATAGEN_PREVIEW_QUIET"))
    max_upload_bytes: int = Field(10 * 1024 * 1024, validation_alias=env("DATAGEN_MAX_UPLOAD_BYTES"))

    # --- Trust: checks and figures on the rows ---------------------------------------------
    # Reject rows not written in the ordered language (core.language); "off" for a model whose
    # rows are meant to mix languages.
    language_check: bool = Field(True, validation_alias=env("DATAGEN_LANGUAGE_CHECK"))
    # Ask the model once per job for the order's own dimensions of variety (core/attributes.py);
    # auto: for server models, not the embedded one.
    attributes: Literal["on", "off", "auto"] = Field("auto", validation_alias=env("DATAGEN_ATTRIBUTES"))
    # USD per 1M input/output tokens for models core.estimate has no price for: "model=0.2/0.8,...".
    prices: str = Field("", validation_alias=env("DATAGEN_PRICES"))
    # An order whose estimated cost is higher is refused before it starts (unset: no limit).
    max_cost_usd: float | None = Field(None, ge=0, validation_alias=env("DATAGEN_MAX_COST_USD"))
    # A chat user's spending in the last 24 hours (their jobs' tokens at list prices) plus an order's
    # estimate may not pass this; unset: no daily limit (core/budget.py).
    user_daily_budget_usd: float | None = Field(None, ge=0, validation_alias=env("DATAGEN_USER_DAILY_BUDGET_USD"))

    # --- Telegram --------------------------------------------------------------------------
    telegram_bot_token: str | None = Field(None, validation_alias=env("TELEGRAM_BOT_TOKEN"))
    telegram_api_base_url: str | None = Field(None, validation_alias=env("TELEGRAM_API_BASE_URL"))
    # Whether that server runs with --local (no 20 MB download / 50 MB upload limits for bots); unset:
    # any TELEGRAM_API_BASE_URL counts as one.
    telegram_local_mode: bool | None = Field(None, validation_alias=env("TELEGRAM_LOCAL_MODE"))
    telegram_allowed_users: str = Field("", validation_alias=env("TELEGRAM_ALLOWED_USERS"))
    telegram_webhook_url: str | None = Field(None, validation_alias=env("TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: str | None = Field(None, validation_alias=env("TELEGRAM_WEBHOOK_SECRET"))

    # --- Slack -----------------------------------------------------------------------------
    slack_bot_token: str | None = Field(None, validation_alias=env("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(None, validation_alias=env("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, validation_alias=env("SLACK_APP_TOKEN"))
    slack_api_url: str | None = Field(None, validation_alias=env("SLACK_API_URL"))
    slack_allowed_users: str = Field("", validation_alias=env("SLACK_ALLOWED_USERS"))
    slack_allowed_channels: str = Field("", validation_alias=env("SLACK_ALLOWED_CHANNELS"))
    port: int = Field(3000, validation_alias=env("PORT"))

    @property
    def llm_backend(self) -> Literal["openai", "local"]:
        """`DATAGEN_LLM` wins; otherwise OpenAI-compatible when a key is set, else the embedded model."""
        if self.llm:
            return self.llm
        return "openai" if self.openai_api_key else "local"


def split_list(value: str) -> list[str]:
    """'a, b  c' -> ['a', 'b', 'c'] for the *_ALLOWED_* settings."""
    return [part for part in value.replace(",", " ").split() if part]
