"""Annotation rows (a user's own rows to label) and their queries.

An annotation job is a `Job` of kind "annotation"; each input row is one `AnnotationRow`, stored
with its position in the file before any labeling starts, and labeled in place as answers
arrive. Reads are keyset-paginated by position, so a 100,000-row file is never in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Index, bindparam, func, insert, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, Session, SQLModel, col, select

from core.store_port import DEFAULT_LEASE_SECONDS, LabeledRow, RowToLabel  # the core's port (core/store_port.py)
from storage.leases import write_fenced
from storage.models import Job


class AnnotationRow(SQLModel, table=True):
    """One row of a user's file: its original columns, and the label once it has one."""

    __table_args__ = (Index("ix_annotationrow_job_position", "job_id", "position", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id")
    position: int  # 0-based row number in the file: the output order
    fields_json: str  # the row's columns exactly as read (JSON)
    text: str  # what is classified (the text column)
    label: str | None = Field(default=None)  # None until labeled
    confidence: str = ""  # "high" | "low" | "" (one sample)
    other_label: str | None = None  # the second sample's answer when it differed


class AnnotationQueries:
    engine: Engine

    def add_annotation_rows(self, job_id: int, rows: Sequence[tuple[int, dict[str, Any], str]]) -> None:
        """Store (position, fields, text) rows in one transaction."""
        values = [{"job_id": job_id, "position": position, "fields_json": json.dumps(fields, ensure_ascii=False),
                   "text": text, "confidence": ""} for position, fields, text in rows]
        if values:
            with self.engine.begin() as conn:
                conn.execute(insert(AnnotationRow), values)

    def annotation_row_count(self, job_id: int) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).where(AnnotationRow.job_id == job_id)).one())

    def unlabeled_rows(self, job_id: int, *, after: int, limit: int) -> list[RowToLabel]:
        """The next unlabeled rows after position `after`, in file order."""
        query = (select(AnnotationRow.id, AnnotationRow.position, AnnotationRow.text)
                 .where(AnnotationRow.job_id == job_id, col(AnnotationRow.position) > after,
                        col(AnnotationRow.label).is_(None))
                 .order_by(col(AnnotationRow.position)).limit(limit))
        with Session(self.engine) as session:
            return [RowToLabel(row_id, position, text) for row_id, position, text in session.exec(query).all()]

    def set_labels(self, job_id: int, labels: Sequence[tuple[int, str, str, str | None]], *, requests: int = 0,
                   prompt_tokens: int = 0, completion_tokens: int = 0, owner: str | None = None,
                   lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        """(row id, label, confidence, other label) for one answered batch, with its token usage,
        in one transaction: after this returns, the labels survive a crash. With `owner`, only
        while that run holds the job's lease (renewed by the same transaction), else LeaseLost and
        nothing is stored: a worker that lost the job can't label rows another one now labels."""

        def write(conn: Connection) -> None:
            if labels:
                conn.execute(
                    update(AnnotationRow.__table__)  # type: ignore[arg-type]
                    .where(AnnotationRow.__table__.c.id == bindparam("row_id"))  # type: ignore[attr-defined]
                    .values(label=bindparam("new_label"), confidence=bindparam("new_confidence"),
                            other_label=bindparam("new_other")),
                    [{"row_id": row_id, "new_label": label, "new_confidence": confidence, "new_other": other}
                     for row_id, label, confidence, other in labels],
                )
            if requests or prompt_tokens or completion_tokens:
                conn.execute(update(Job).where(col(Job.id) == job_id).values(
                    requests=Job.requests + requests, prompt_tokens=Job.prompt_tokens + prompt_tokens,
                    completion_tokens=Job.completion_tokens + completion_tokens))

        write_fenced(self.engine, job_id, owner, lease_seconds, write)

    def label_counts(self, job_id: int) -> dict[str | None, int]:
        """Rows per label (None: not labeled yet)."""
        query = (select(AnnotationRow.label, func.count()).where(AnnotationRow.job_id == job_id)
                 .group_by(AnnotationRow.label))
        with Session(self.engine) as session:
            return {label: count for label, count in session.exec(query).all()}

    def iter_annotation_rows(self, job_id: int, *, page: int = 2000) -> Iterator[LabeledRow]:
        """Every row in file order, a page at a time (bounded memory for any file size)."""
        after = -1
        while True:
            query = (select(AnnotationRow.position, AnnotationRow.fields_json, AnnotationRow.label,
                            AnnotationRow.confidence)
                     .where(AnnotationRow.job_id == job_id, col(AnnotationRow.position) > after)
                     .order_by(col(AnnotationRow.position)).limit(page))
            with Session(self.engine) as session:
                rows = session.exec(query).all()
            for position, fields, label, confidence in rows:
                yield LabeledRow(position, json.loads(fields), label, confidence)
            if len(rows) < page:
                return
            after = rows[-1][0]
