"""One chat process follows each job handed to the workers (DATAGEN_WORKERS=external).

    store.follow_job(job_id, owner, ttl=30)   # True: this process follows it now (new, its own, or expired)
    store.renew_follow(job_id, owner, ttl=30) # the heartbeat; False once another replica took it over
    store.claim_report(job_id, owner)         # True exactly once per job: this process reports its end
    store.release_follow(job_id, owner)       # a replica shutting down: another may take over at once
    store.unfollowed_jobs(channel)            # jobs of a channel nobody follows (expired or never taken)

Why a lease of its own (not the generation lease of storage.leases): the worker generating a job
and the chat replica reporting it are different processes with different lifetimes; a replica
scaled down for good must be replaced by another one, and two restarting replicas must not both
deliver. Taking over is a compare-and-swap on the old owner, as in storage.leases.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.leases import _aware
from storage.models import Conversation, Job, JobFollower, utcnow


class FollowQueries:
    engine: Engine

    def follow_job(self, job_id: int, owner: str, *, ttl: float) -> bool:
        """Follow the job unless a live replica does or its end was reported already."""
        for _ in range(3):  # an insert race with another replica: look again
            now = utcnow()
            expires = now + timedelta(seconds=ttl)
            try:
                with self.engine.begin() as conn:
                    held = conn.execute(
                        select(JobFollower.owner, JobFollower.expires_at, JobFollower.reported_at)
                        .where(col(JobFollower.job_id) == job_id)
                    ).first()
                    if held is None:
                        conn.execute(insert(JobFollower).values(job_id=job_id, owner=owner, expires_at=expires))
                        return True
                    holder, expires_at, reported_at = held
                    if reported_at is not None:
                        return False
                    if holder != owner and _aware(expires_at) > now:
                        return False
                    swapped = conn.execute(
                        update(JobFollower)
                        .where(col(JobFollower.job_id) == job_id, col(JobFollower.owner) == holder,
                               col(JobFollower.reported_at).is_(None))
                        .values(owner=owner, expires_at=expires)
                    )
                    return swapped.rowcount == 1
            except IntegrityError:
                continue
        return False

    def renew_follow(self, job_id: int, owner: str, *, ttl: float) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(JobFollower)
                .where(col(JobFollower.job_id) == job_id, col(JobFollower.owner) == owner)
                .values(expires_at=utcnow() + timedelta(seconds=ttl))
            )
        return result.rowcount == 1

    def claim_report(self, job_id: int, owner: str) -> bool:
        """The right to report the job's end to its chat: granted once, to the current follower
        whose lease has not run out (a frozen follower that was replaced gets False)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(JobFollower)
                .where(col(JobFollower.job_id) == job_id, col(JobFollower.owner) == owner,
                       col(JobFollower.reported_at).is_(None), col(JobFollower.expires_at) > utcnow())
                .values(reported_at=utcnow())
            )
        return result.rowcount == 1

    def release_follow(self, job_id: int, owner: str) -> None:
        """Stop following (a no-op when another replica took over); an unreported end stays
        to be reported by whoever follows next."""
        with self.engine.begin() as conn:
            conn.execute(
                update(JobFollower)
                .where(col(JobFollower.job_id) == job_id, col(JobFollower.owner) == owner,
                       col(JobFollower.reported_at).is_(None))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )

    def is_reported(self, job_id: int) -> bool | None:
        """Whether the end of a followed job was reported; None if nobody ever followed it."""
        with Session(self.engine) as session:
            follower = session.get(JobFollower, job_id)
        return None if follower is None else follower.reported_at is not None

    def unfollowed_jobs(self, channel: str, kinds: tuple[str, ...] = ("dataset", "annotation")) -> list[Job]:
        """Orders (datasets and annotations) of `channel`'s conversations that need a follower and
        have none alive: still pending or running, or finished with their end not yet reported.
        Oldest first."""
        now = utcnow()
        with Session(self.engine) as session:
            query = (
                select(Job)
                .join(Conversation, col(Conversation.id) == col(Job.conversation_id))
                .outerjoin(JobFollower, col(JobFollower.job_id) == col(Job.id))
                .where(col(Conversation.channel) == channel, col(Job.kind).in_(kinds))
                .where(or_(col(JobFollower.job_id).is_(None), col(JobFollower.expires_at) <= now))
                .where(or_(
                    col(Job.status).in_(("pending", "running")),
                    and_(col(Job.status).in_(("done", "failed")), col(JobFollower.job_id).is_not(None),
                         col(JobFollower.reported_at).is_(None)),
                ))
                .order_by(col(Job.id))
            )
            return list(session.exec(query).all())

