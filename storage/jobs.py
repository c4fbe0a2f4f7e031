"""Job and example queries (owned by the generation engine).

Sync sqlmodel/SQLAlchemy calls; the engine runs the per-batch writes in a worker thread
(`asyncio.to_thread`) so the event loop keeps serving requests while a batch is committed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from core.store_port import DEFAULT_LEASE_SECONDS, LeaseLost, NewRow, StoredRow  # the core's port (core/store_port.py)
from storage.leases import write_fenced
from storage.models import Example, Job, JobAttributes, JobCostCap, JobFollower, JobKey, JobLease, utcnow

#: Jobs that may still need work (a crash leaves "running" behind).
UNFINISHED_STATUSES = ("pending", "running")
#: Rows that count toward the quotas ("uploaded" rows are context, not part of the order).
QUOTA_SOURCES = ("synthetic", "kept")


class JobQueries:
    engine: Engine

    # --- jobs -------------------------------------------------------------------------------

    def create_job(
        self,
        spec_json: str,
        *,
        guidance_json: str = "{}",
        kind: str = "dataset",
        conversation_id: int | None = None,
        model: str = "",
        key: str | None = None,
    ) -> int:
        """A new pending job. `key` names it for `job_for_key` (a later key wins over an earlier job)."""
        with Session(self.engine) as session:
            job = Job(spec_json=spec_json, guidance_json=guidance_json, kind=kind,
                      conversation_id=conversation_id, model=model)
            session.add(job)
            session.flush()
            assert job.id is not None
            if key is not None:
                session.merge(JobKey(key=key, job_id=job.id))  # one transaction with the job
            session.commit()
            return job.id

    def job_for_key(self, key: str) -> Job | None:
        """The job last created with this key, if any."""
        with Session(self.engine) as session:
            return session.exec(select(Job).join(JobKey, col(JobKey.job_id) == col(Job.id))
                                .where(JobKey.key == key)).first()

    def job_attributes(self, job_id: int) -> str | None:
        """The attributes JSON the job stored (core.attributes), None before it asked."""
        with Session(self.engine) as session:
            found = session.get(JobAttributes, job_id)
            return found.attributes_json if found is not None else None

    def attributes_usage(self, job_id: int) -> tuple[int, int, int]:
        """(requests, prompt tokens, completion tokens) the job spent asking for its attributes."""
        with Session(self.engine) as session:
            found = session.get(JobAttributes, job_id)
            return (found.requests, found.prompt_tokens, found.completion_tokens) if found is not None else (0, 0, 0)

    def save_job_attributes(self, job_id: int, attributes_json: str, *, requests: int = 0, prompt_tokens: int = 0,
                            completion_tokens: int = 0) -> None:
        """Store a job's attributes once; a second save (another run that asked too) keeps the first."""
        with Session(self.engine) as session:
            if session.get(JobAttributes, job_id) is None:
                session.add(JobAttributes(job_id=job_id, attributes_json=attributes_json, requests=requests,
                                          prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))
                session.commit()

    def job_cost_cap(self, job_id: int) -> tuple[float, float] | None:
        """(limit, daily budget) in USD the chat gave the job (core.budget), None without one."""
        with Session(self.engine) as session:
            found = session.get(JobCostCap, job_id)
            return (found.limit_usd, found.daily_usd) if found is not None else None

    def save_job_cost_cap(self, job_id: int, cap: tuple[float, float] | None) -> None:
        """Set (or, with None, remove) the job's cap: each Generate all gives it a fresh one."""
        with Session(self.engine) as session:
            found = session.get(JobCostCap, job_id)
            if found is not None:
                session.delete(found)
                session.flush()
            if cap is not None:
                session.add(JobCostCap(job_id=job_id, limit_usd=cap[0], daily_usd=cap[1]))
            session.commit()

    def get_job(self, job_id: int) -> Job | None:
        with Session(self.engine) as session:
            return session.get(Job, job_id)

    def update_job(self, job_id: int, **values: Any) -> None:
        """Set columns of a job: update_job(7, status="running", started_at=...)."""
        with Session(self.engine) as session:
            session.execute(update(Job).where(col(Job.id) == job_id).values(**values))
            session.commit()

    # Status changes are conditional (compare-and-set in one UPDATE), so a write that was already
    # on its way can never undo a later decision: "cancelled" is final for the engine.

    def start_job(self, job_id: int, *, model: str = "") -> bool:
        """Mark a job running (`started_at` keeps the first start across resumes). False, and
        nothing changes, when the job was cancelled: a cancelled job never runs again."""
        values: dict[str, Any] = {"status": "running", "error": None, "finished_at": None,
                                  "started_at": func.coalesce(Job.started_at, utcnow())}
        if model:
            values["model"] = model
        with Session(self.engine) as session:
            changed = session.execute(
                update(Job).where(col(Job.id) == job_id, col(Job.status) != "cancelled").values(**values)
            ).rowcount
            session.commit()
            if not changed and session.get(Job, job_id) is None:
                raise KeyError(f"job {job_id} does not exist")
            return bool(changed)

    def finish_job(self, job_id: int, status: str, *, error: str | None = None, elapsed: float = 0.0,
                   owner: str | None = None) -> bool:
        """End one run: `status` is "done", "failed", or "pending" (interrupted, to be resumed).
        With `owner`, only while that run holds the job's lease, which is released in the same
        transaction (else LeaseLost, and nothing changes). The run's generation time is added to
        the job's total; the status is set only if the job is still running (a cancel that came
        meanwhile stays). True if it was."""
        finished_at = None if status == "pending" else utcnow()
        with Session(self.engine) as session:
            if owner is not None:
                released = session.execute(
                    delete(JobLease).where(col(JobLease.job_id) == job_id, col(JobLease.owner) == owner))
                if released.rowcount != 1:  # type: ignore[attr-defined]
                    raise LeaseLost(job_id)
            session.execute(update(Job).where(col(Job.id) == job_id)
                            .values(elapsed_seconds=Job.elapsed_seconds + elapsed))
            changed = session.execute(
                update(Job).where(col(Job.id) == job_id, col(Job.status) == "running")
                .values(status=status, error=error, finished_at=finished_at)
            ).rowcount
            session.commit()
            return bool(changed)

    def cancel_job(self, job_id: int) -> bool:
        """The user's cancel: a pending or running job becomes "cancelled" for good (the engine
        never resumes it). False when there was nothing to cancel (finished, failed, unknown)."""
        with Session(self.engine) as session:
            changed = session.execute(
                update(Job).where(col(Job.id) == job_id, col(Job.status).in_(UNFINISHED_STATUSES))
                .values(status="cancelled", finished_at=utcnow())
            ).rowcount
            session.commit()
            return bool(changed)

    def reopen_job(self, job_id: int) -> bool:
        """A new, explicit order to continue a cancelled or failed job (its rows are kept): it
        becomes "pending" again. False when the job is not cancelled or failed."""
        with Session(self.engine) as session:
            changed = session.execute(
                update(Job).where(col(Job.id) == job_id, col(Job.status).in_(("cancelled", "failed")))
                .values(status="pending", error=None, finished_at=None)
            ).rowcount
            if changed:  # a new run, whose end is to be reported again (storage.follows)
                session.execute(delete(JobFollower).where(col(JobFollower.job_id) == job_id))
            session.commit()
            return bool(changed)

    def unfinished_jobs(self, kind: str | None = None) -> list[Job]:
        """Jobs left pending or running (e.g. by a crash), oldest first: candidates for resuming."""
        with Session(self.engine) as session:
            query = select(Job).where(col(Job.status).in_(UNFINISHED_STATUSES))
            if kind is not None:
                query = query.where(Job.kind == kind)
            return list(session.exec(query.order_by(col(Job.id))).all())

    def add_examples(
        self,
        job_id: int,
        rows: Sequence[NewRow],
        *,
        requests: int = 0,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        owner: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        """Store one batch (accepted and rejected rows) and add its token usage to the job, in
        one transaction: after this returns, the batch survives a crash. With `owner`, only
        while that run holds the job's lease (renewed by the same transaction), else LeaseLost
        and nothing is stored: a process that lost its claim can't add rows to a job another
        process now generates."""
        now = utcnow()
        values = [
            {"job_id": job_id, "label": row.label, "fields_json": json.dumps(row.fields, ensure_ascii=False),
             "dedupe_key": row.dedupe_key, "accepted": row.accepted, "reason": row.reason,
             "source": row.source, "created_at": now}
            for row in rows
        ]

        def write(conn: Connection) -> None:
            if values:
                conn.execute(insert(Example), values)  # one executemany, not one ORM object per row
            if requests or prompt_tokens or completion_tokens:
                conn.execute(
                    update(Job)
                    .where(col(Job.id) == job_id)
                    .values(requests=Job.requests + requests,
                            prompt_tokens=Job.prompt_tokens + prompt_tokens,
                            completion_tokens=Job.completion_tokens + completion_tokens)
                )

        write_fenced(self.engine, job_id, owner, lease_seconds, write)

    def accepted_rows(self, job_id: int, *, sources: Iterable[str] | None = None) -> list[StoredRow]:
        """Accepted rows in the order they were stored (uploaded rows included unless `sources` says)."""
        query = (
            select(Example.id, Example.label, Example.fields_json, Example.source)
            .where(Example.job_id == job_id, col(Example.accepted).is_(True))
            .order_by(col(Example.id))
        )
        if sources is not None:
            query = query.where(col(Example.source).in_(list(sources)))
        with Session(self.engine) as session:
            return [StoredRow(id=row_id, label=label, fields=json.loads(fields), source=source)
                    for row_id, label, fields, source in session.exec(query).all()]

    def accepted_rows_after(self, job_id: int, after_id: int, limit: int) -> list[StoredRow]:
        """The next `limit` accepted rows with an id above `after_id`, in id order: a huge job
        read a chunk at a time (core/export_stream.py)."""
        query = (
            select(Example.id, Example.label, Example.fields_json, Example.source)
            .where(Example.job_id == job_id, col(Example.accepted).is_(True), col(Example.id) > after_id)
            .order_by(col(Example.id))
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [StoredRow(id=row_id, label=label, fields=json.loads(fields), source=source)
                    for row_id, label, fields, source in session.exec(query).all()]

    def accepted_counts(self, job_id: int) -> dict[str, int]:
        """Accepted rows per label that count toward the quotas (synthetic and kept)."""
        query = (
            select(Example.label, func.count())
            .where(Example.job_id == job_id, col(Example.accepted).is_(True),
                   col(Example.source).in_(QUOTA_SOURCES))
            .group_by(Example.label)
        )
        with Session(self.engine) as session:
            return {label: count for label, count in session.exec(query).all()}

    def rejected_reasons(self, job_id: int) -> dict[str, int]:
        """Rejected rows per reason ("duplicate", "bad label", "malformed output", ...)."""
        query = (
            select(Example.reason, func.count())
            .where(Example.job_id == job_id, col(Example.accepted).is_(False))
            .group_by(Example.reason)
        )
        with Session(self.engine) as session:
            return {reason or "unknown": count for reason, count in session.exec(query).all()}

    def duplicate_count(self, job_id: int) -> int:
        return sum(n for reason, n in self.rejected_reasons(job_id).items() if reason in ("duplicate", "near-duplicate"))

    def has_rows(self, job_id: int, *, source: str) -> bool:
        query = select(func.count()).where(Example.job_id == job_id, Example.source == source)
        with Session(self.engine) as session:
            return bool(session.exec(query).one())

    def example_rows(self, example_ids: Iterable[int]) -> dict[int, StoredRow]:
        """Rows by id (e.g. the preview rows a user gave 👍/👎)."""
        ids = list(example_ids)
        if not ids:
            return {}
        query = select(Example.id, Example.label, Example.fields_json, Example.source).where(col(Example.id).in_(ids))
        with Session(self.engine) as session:
            return {row_id: StoredRow(id=row_id, label=label, fields=json.loads(fields), source=source)
                    for row_id, label, fields, source in session.exec(query).all()}

    def rejected_per_label(self, job_id: int, reason: str) -> dict[str, int]:
        """Rows rejected for `reason` per intended label (e.g. "label disagreement")."""
        query = (
            select(Example.label, func.count())
            .where(Example.job_id == job_id, col(Example.accepted).is_(False), Example.reason == reason)
            .group_by(Example.label)
        )
        with Session(self.engine) as session:
            return {label: count for label, count in session.exec(query).all()}
