"""The persistent job queue: a brief becomes a job; jobs are claimed by priority, then first in, first out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from loguru import logger
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from content.briefs import Brief
from core.errors import DaemonError
from core.schema import attempts, briefs, video_jobs
from core.storage import Database, Write, as_utc, utcnow

QUEUED, RUNNING, DONE, FAILED, WAITING_BUDGET = "queued", "running", "done", "failed", "waiting_budget"
CANCELLED = "cancelled"
PENDING = (QUEUED, WAITING_BUDGET)
T = TypeVar("T")


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
                     account_limits: dict[str, int] | None = None,
                     then: Callable[[Any, Job], Awaitable[T]] | None = None) -> tuple[Job, T | None] | None:
    """Atomically lease the best queued job (or job `job_id`) to `owner`, and run `then(conn, job)` in the same write
    transaction (the generator reserves the job's first attempt there); returns the job and what `then` returned.

    Runnable: queued and not deferred, and its account below its `account_limits` count of running jobs. A job
    another worker is claiming right now is skipped, not waited for (PostgreSQL: FOR UPDATE SKIP LOCKED). If `then`
    raises, nothing happened: the job stays queued. A dead worker's jobs come back through `reap_expired`."""
    query = _RUNNABLE if job_id is None else _RUNNABLE.where(video_jobs.c.id == job_id)

    async def claim(conn: Any) -> tuple[Job, T | None] | None:
        now, runnable = utcnow(), query
        if account_limits:
            await db.lock(conn, "account_limits")  # count the running jobs, then take one: no other claim between
            running = dict((await conn.execute(_RUNNING_PER_ACCOUNT, {"now": now})).all())
            full = [name for name, limit in account_limits.items() if running.get(name, 0) >= limit]
            if full:
                runnable = runnable.where(video_jobs.c.account.not_in(full))
        row = (await conn.execute(runnable, {"now": now})).first()
        if row is None:
            return None
        await conn.execute(_UPDATE_JOB, {"job_id": row.id, "status": RUNNING, "lease_owner": owner,
                                         "lease_expires_at": now + timedelta(seconds=lease_s), "updated_at": now})
        job = _job(row)
        return job, (await then(conn, job) if then is not None else None)

    return await db.retrying(claim)


async def reap_expired(db: Database) -> list[int]:
    """Put running jobs whose lease nobody renewed (their worker died) back in the queue; their attempts are
    reconciled by whoever claims them next."""
    now = utcnow()
    async with db.transaction() as conn:  # one statement: a job another reaper took back, and a worker claimed, stays
        ids = sorted((await conn.execute(_REQUEUE_EXPIRED, {"now": now})).scalars())
    for job_id in ids:
        logger.warning(f"job {job_id}: its worker's lease ran out; back in the queue")
    return ids


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


async def cancel_requests(db: Database, owner: str) -> dict[int, str]:
    """The running jobs of `owner` that `cancel` asked to stop, with the reasons (one read for all of them)."""
    rows = await db.fetch_all(_CANCEL_REQUESTS.params(owner=owner))
    return {row.id: row.cancel_reason for row in rows}


async def finish(db: Database, job_id: int, status: str, **fields: Any) -> None:
    await db.write(finish_write(job_id, status, **fields))


def finish_write(job_id: int, status: str, **fields: Any) -> Write:
    """The job's end (or its return to the queue), for the caller to commit with its attempt's settlement."""
    return _UPDATE_JOB, {"job_id": job_id, "status": status, "updated_at": utcnow(), **fields}


async def requeue(db: Database, statuses: tuple[str, ...]) -> int:
    """Put jobs in `statuses` back in the queue: interrupted work after a stop, budget waits in a new period."""
    async with db.transaction() as conn:
        result = await conn.execute(
            update(video_jobs)
            .where(video_jobs.c.status.in_(statuses))
            .values(status=QUEUED, updated_at=utcnow())
        )
        return int(result.rowcount or 0)


async def tried_providers(conn: Any, job_id: int) -> set[str]:
    """Providers this job has already had its one try at (rate-limited or interrupted attempts do not count)."""
    rows = await conn.execute(
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


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        account=row.account,
        priority=row.priority,
        status=RUNNING,
        platform=row.platform,
        brief=Brief.model_validate(row.content),
        quality=row.quality,
        attempts_so_far=row.attempts_so_far,
    )


# Built once: a statement made per call costs more Python than SQLite takes to run it.
_RUNNABLE = (
    select(video_jobs.c.id, video_jobs.c.account, video_jobs.c.priority, video_jobs.c.platform, video_jobs.c.quality,
           briefs.c.content, select(func.count()).where(attempts.c.job_id == video_jobs.c.id)
           .scalar_subquery().label("attempts_so_far"))
    .join(briefs, briefs.c.id == video_jobs.c.brief_id)
    .where(video_jobs.c.status == QUEUED,
           or_(video_jobs.c.not_before.is_(None), video_jobs.c.not_before <= bindparam("now")))
    .order_by(video_jobs.c.priority.desc(), video_jobs.c.id)
    .limit(1)
    .with_for_update(of=video_jobs, skip_locked=True)
)
_RUNNING_PER_ACCOUNT = (select(video_jobs.c.account, func.count())
                        .where(video_jobs.c.status == RUNNING, video_jobs.c.lease_expires_at >= bindparam("now"))
                        .group_by(video_jobs.c.account))
_REQUEUE_EXPIRED = (
    update(video_jobs)
    .where(video_jobs.c.status == RUNNING, or_(video_jobs.c.lease_expires_at.is_(None),  # none: from before leases
                                               video_jobs.c.lease_expires_at < bindparam("now")))
    .values(status=QUEUED, lease_owner=None, lease_expires_at=None, updated_at=bindparam("now"))
    .returning(video_jobs.c.id)
)
_CANCEL_REQUESTS = select(video_jobs.c.id, video_jobs.c.cancel_reason).where(
    video_jobs.c.status == RUNNING, video_jobs.c.lease_owner == bindparam("owner"),
    video_jobs.c.cancel_reason.is_not(None))
_UPDATE_JOB = update(video_jobs).where(video_jobs.c.id == bindparam("job_id"))  # SET: the keys passed
