"""The tables. JSON payloads are stored as text so SQLite and PostgreSQL behave the same."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # Aware: sqlmodel's datetime column (UTCDateTime) refuses naive values.
    return datetime.now(timezone.utc)


class Job(SQLModel, table=True):
    """One generation run (a preview or a whole dataset). Everything needed to resume it is here."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = "dataset"  # "dataset" | "preview"
    spec_json: str  # DatasetSpec as JSON
    guidance_json: str = "{}"  # few-shot, avoid-list, feedback, uploaded rows (see core.vocabulary.Guidance)
    status: str = Field(default="pending", index=True)  # pending|running|done|failed|cancelled
    conversation_id: int | None = Field(default=None, index=True, foreign_key="conversation.id")
    model: str = ""
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    elapsed_seconds: float = 0.0  # generation time summed over runs (a resumed job adds up)


class JobKey(SQLModel, table=True):
    """Names the job a repeatable command started (`datagen generate SPEC -o OUT`), so running the
    same command again finds it. A table of its own: an existing database gains it at start
    (create_all), where a new column on `job` would need a migration."""

    key: str = Field(primary_key=True)
    job_id: int = Field(foreign_key="job.id")


class JobAttributes(SQLModel, table=True):
    """The order's own dimensions of variety a job asked the model for (core.attributes), kept so
    a resumed job uses the same ones. A table of its own, like JobKey: create_all adds it."""

    job_id: int = Field(primary_key=True, foreign_key="job.id")
    attributes_json: str
    # What asking took (also in the job's totals): an estimate scaled from a preview leaves it out,
    # the order's job reusing the preview's attributes.
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class JobCostCap(SQLModel, table=True):
    """What a chat dataset job may cost in all (USD), from what was left of its user's daily budget
    when the user pressed Generate all (core.budget); a resume or an external worker reads the same
    cap. A table of its own, like JobKey: create_all adds it."""

    job_id: int = Field(primary_key=True, foreign_key="job.id")
    limit_usd: float  # the job's total spending (every run) may not pass it
    daily_usd: float  # the daily budget it was taken from, for the stop message


class Example(SQLModel, table=True):
    """One generated (or uploaded / kept) row, accepted or rejected with the reason."""

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True, foreign_key="job.id")
    label: str = ""  # "" for tasks without labels
    fields_json: str  # the row's columns as JSON, e.g. {"text": ..., "label": ...}
    dedupe_key: str = ""  # normalised form for exact duplicate detection
    accepted: bool = Field(default=True, index=True)
    reason: str | None = None  # why rejected: "duplicate", "near-duplicate", "bad label", ...
    source: str = "synthetic"  # synthetic | kept (👍 from the preview) | uploaded
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """A chat on one channel: its phase (`state`) and typed state (`data_json`) survive restarts."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(index=True)  # "terminal" | "telegram" | "slack" | "test"
    external_id: str = Field(index=True)  # ChatRef.conversation
    user_id: str = ""
    language: str = "en"  # the language the bot answers in
    state: str = "start"
    data_json: str = "{}"  # core.conversation.state.ConversationState without its phase (owned by the core)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class JobLease(SQLModel, table=True):
    """Which process generates a job now (at most one): claimed at the start of a run, renewed by
    its heartbeat and by every write, taken over when it expires (storage.jobs.claim_job). A
    table of its own so databases created before it get it from create_all."""

    job_id: int = Field(primary_key=True, foreign_key="job.id")
    owner: str  # "host/pid/run-token" of the holder
    since: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(default_factory=utcnow)


class UploadedFile(SQLModel, table=True):
    """A file a user uploaded in a conversation: its records, kept out of the conversation's state
    (a 10 MB upload in data_json made every later message of that chat slow)."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(index=True, foreign_key="conversation.id")
    filename: str = ""
    columns_json: str = "[]"  # the file's column names, in order
    records_json: str = "[]"  # the rows as objects of strings
    created_at: datetime = Field(default_factory=utcnow)


class JobFollower(SQLModel, table=True):
    """Which chat process follows a job handed to the workers (posts its progress, then reports
    its end: the file, the failure): at most one at a time, renewed by its heartbeat, taken over
    by another replica when it expires (storage.follows). `reported_at` is set once, by the one
    follower that reports the end, so no chat gets the file twice. A table of its own so older
    databases get it from create_all."""

    job_id: int = Field(primary_key=True, foreign_key="job.id")
    owner: str  # "host/pid/run-token" of the chat process following it
    expires_at: datetime = Field(default_factory=utcnow)
    reported_at: datetime | None = None
