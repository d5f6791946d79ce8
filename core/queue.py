"""The persistent job queue: a brief becomes a job; jobs are claimed by priority, then first in, first out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from content.briefs import Brief
from core.errors import DaemonError
from core.schema import attempts, briefs, video_jobs
from core.storage import Database, as_utc, utcnow

QUEUED, RUNNING, DONE, FAILED, WAITING_BUDGET = "queued", "running", "done", "failed", "waiting_budget"
CANCELLED = "cancelled"
PENDING = (QUEUED, WAITING_BUDGET)


class QueueFull(DaemonError):
    """`max_queue_size` jobs are already waiting; nothing was added."""


@dataclass(frozen=True)
class Job:
    id: int
    account: str
    priority: int
    status: str
    platform: str
    brief: Brief
    quality: str = "standard"
    attempts_so_far: int = 0  # attempts recorded before this claim (0: a fresh job, nothing to reconcile)


async def enqueue(db: Database, trend_id: int, trend_key: str, brief: Brief, platform: str, priority: int = 0,
                  quality: str = "standard", max_queue_size: int | None = None) -> int | None:
    """Store the brief and its job in one transaction; None if this trend already has a video job.

    Raises QueueFull when `max_queue_size` jobs are already pending (counted in the same transaction)."""
    now = utcnow()
    try:
        async with db.transaction() as conn:
            if max_queue_size is not None:
                pending = (await conn.execute(
                    select(func.count()).select_from(video_jobs).where(video_jobs.c.status.in_(PENDING)))).scalar()
                if (pending or 0) >= max_queue_size:
                    raise QueueFull(f"the queue is full ({pending} of max_queue_size {max_queue_size} jobs "
                                    f"waiting): nothing added")
            brief_id = (
                await conn.execute(
                    insert(briefs).values(
                        trend_id=trend_id,
                        account=brief.account,
                        template=brief.template,
                        content=brief.model_dump(mode="json"),
                        created_at=now,
                    )
                )
            ).inserted_primary_key[0]
            result = await conn.execute(
                insert(video_jobs).values(
                    brief_id=brief_id,
                    trend_key=trend_key,
                    account=brief.account,
                    priority=priority,
                    status=QUEUED,
                    platform=platform,
                    aspect_ratio=brief.aspect_ratio,
                    duration_s=brief.duration_s,
                    quality=quality,
                    created_at=now,
                    updated_at=now,
                )
            )
            return int(result.inserted_primary_key[0])
    except IntegrityError:
        taken = await db.fetch_all(select(video_jobs.c.id).where(video_jobs.c.trend_key == trend_key))
        if taken:
            return None
        raise


async def claim_next(db: Database, owner: str, lease_s: float, job_id: int | None = None,
                     account_limits: dict[str, int] | None = None) -> Job | None:
    """Atomically lease the best runnable job (or job `job_id`) to `owner`, in one write transaction.

    Runnable: queued and not deferred, or running under a lease nobody renewed (its worker died); and its account
    below its `account_limits` count of running jobs."""
    now = utcnow()
    # Two indexed queries rather than one OR: a dead worker's job first (it has waited longest), else the queue.
    stale = select(video_jobs.c.id).where(video_jobs.c.status == RUNNING, or_(
        video_jobs.c.lease_expires_at.is_(None), video_jobs.c.lease_expires_at < now))  # none: a pre-lease version
    waiting = select(video_jobs.c.id).where(video_jobs.c.status == QUEUED, or_(
        video_jobs.c.not_before.is_(None), video_jobs.c.not_before <= now))
    if job_id is not None:
        stale, waiting = stale.where(video_jobs.c.id == job_id), waiting.where(video_jobs.c.id == job_id)
    async with db.transaction() as conn:
        if account_limits:
            running = dict((await conn.execute(
                select(video_jobs.c.account, func.count()).where(video_jobs.c.status == RUNNING,
                                                                 video_jobs.c.lease_expires_at >= now)
                .group_by(video_jobs.c.account))).all())
            full = [name for name, limit in account_limits.items() if running.get(name, 0) >= limit]
            stale, waiting = (q.where(video_jobs.c.account.not_in(full)) for q in (stale, waiting))
        row = None
        for query in (stale, waiting):
            row = (await conn.execute(query.order_by(video_jobs.c.priority.desc(), video_jobs.c.id).limit(1))).first()
            if row is not None:
                break
        if row is None:
            return None
        await conn.execute(update(video_jobs).where(video_jobs.c.id == row.id).values(
            status=RUNNING, lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s), updated_at=now))
        if query is stale:
            logger.warning(f"job {row.id}: its worker's lease ran out; taken over by {owner}")
        return await _load(conn, row.id)


async def renew_leases(db: Database, owner: str, lease_s: float) -> None:
    """The heartbeat: extend every lease `owner` holds."""
    async with db.transaction() as conn:
        await conn.execute(update(video_jobs).where(video_jobs.c.lease_owner == owner, video_jobs.c.status == RUNNING)
                           .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s)))


async def cancel(db: Database, job_id: int, reason: str) -> str:
    """Cancel a waiting job now, or ask a running job's worker to stop it; returns "cancelled" or "requested"."""
    async with db.transaction() as conn:
        row = (await conn.execute(select(video_jobs.c.status).where(video_jobs.c.id == job_id))).first()
        if row is None:
            raise DaemonError(f"no job {job_id}")
        if row.status in PENDING:
            await conn.execute(update(video_jobs).where(video_jobs.c.id == job_id).values(
                status=CANCELLED, error=f"cancelled: {reason}", updated_at=utcnow()))
            return "cancelled"
        if row.status == RUNNING:
            await conn.execute(update(video_jobs).where(video_jobs.c.id == job_id).values(cancel_reason=reason))
            return "requested"
        raise DaemonError(f"job {job_id} is already {row.status}: nothing to cancel")


async def cancel_reason(db: Database, job_id: int) -> str | None:
    rows = await db.fetch_all(select(video_jobs.c.cancel_reason).where(video_jobs.c.id == job_id))
    return rows[0].cancel_reason if rows else None


async def finish(db: Database, job_id: int, status: str, **fields: Any) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            update(video_jobs).where(video_jobs.c.id == job_id).values(status=status, updated_at=utcnow(), **fields)
        )


async def requeue(db: Database, statuses: tuple[str, ...]) -> int:
    """Put jobs in `statuses` back in the queue: interrupted work after a stop, budget waits in a new period."""
    async with db.transaction() as conn:
        result = await conn.execute(
            update(video_jobs)
            .where(video_jobs.c.status.in_(statuses))
            .values(status=QUEUED, updated_at=utcnow())
        )
        return int(result.rowcount or 0)


async def tried_providers(db: Database, job_id: int) -> set[str]:
    """Providers this job has already had its one try at (rate-limited or interrupted attempts do not count)."""
    rows = await db.fetch_all(
        select(attempts.c.provider).where(attempts.c.job_id == job_id, attempts.c.state != "cancelled")
        .where(or_(attempts.c.error_class.is_(None), attempts.c.error_class != "rate_limit"))
    )
    return {row.provider for row in rows}


async def next_deferred(db: Database) -> datetime | None:
    """When the soonest deferred queued job becomes runnable (None when none is deferred)."""
    rows = await db.fetch_all(select(func.min(video_jobs.c.not_before)).where(video_jobs.c.status == QUEUED))
    return as_utc(rows[0][0]) if rows and rows[0][0] is not None else None


async def count_by_status(db: Database) -> dict[str, int]:
    rows = await db.fetch_all(select(video_jobs.c.status, func.count()).group_by(video_jobs.c.status))
    return {status: count for status, count in rows}


async def _load(conn: Any, job_id: int) -> Job:
    row = (
        await conn.execute(
            select(video_jobs, briefs.c.content, select(func.count()).where(attempts.c.job_id == job_id)
                   .scalar_subquery().label("attempts_so_far"))
            .join(briefs, briefs.c.id == video_jobs.c.brief_id).where(video_jobs.c.id == job_id)
        )
    ).one()
    return Job(
        id=row.id,
        account=row.account,
        priority=row.priority,
        status=row.status,
        platform=row.platform,
        brief=Brief.model_validate(row.content),
        quality=row.quality,
        attempts_so_far=row.attempts_so_far,
    )
