"""The persistent job queue: a brief becomes a job; jobs are claimed by priority, then first in, first out."""
from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from loguru import logger
from sqlalchemy import Float, Row, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from content.briefs.brief import Brief
from core.engine.ledger import ProviderBusy
from core.engine.states import OPEN_STATES, PENDING, AttemptState, Cancellation, JobStatus
from core.errors import DaemonError, ErrorClass
from core.schema import attempts, briefs, video_jobs
from core.storage import Database, Transaction, Write, as_utc, inserted_id, is_outage, server_now, utcnow

T = TypeVar("T")


class QueueFull(DaemonError):
    """`max_queue_size` jobs are already waiting; nothing was added."""


class LeaseLost(DaemonError):
    """This worker no longer holds the job's lease (it ran out and another worker may have the job): nothing it
    wrote in the transaction was kept, and it must stop acting for the job."""


class UnclaimableJob(DaemonError):
    """Claiming this job raised (its stored brief no longer reads, say): it is failed alone, the queue goes on."""

    def __init__(self, job_id: int, cause: Exception) -> None:
        self.job_id = job_id
        super().__init__(f"job {job_id} cannot be started: {type(cause).__name__}: {cause}")


@dataclass(frozen=True)
class Lease:
    """A worker's hold on a running job. Every write that settles the job's money or its end runs `hold` first in
    the same transaction, so a worker whose lease ran out changes nothing."""

    job_id: int
    owner: str

    async def hold(self, conn: Transaction) -> None:
        """Raise LeaseLost unless the lease still holds (by the database's clock); the job's row stays locked until
        the transaction ends, so no reaper takes the job back in between."""
        held = (await conn.execute(_HOLD, {"job_id": self.job_id, "owner": self.owner, "now": utcnow()})).first()
        if held is None:
            raise LeaseLost(f"job {self.job_id}: this worker's lease on it ran out")


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
    owner: str = field(default="", compare=False)  # the worker holding its lease
    cancel_reason: str | None = None  # `cancel` asked for it to stop before this claim

    @property
    def lease(self) -> Lease:
        return Lease(self.id, self.owner)


async def enqueue(db: Database, trend_id: int, trend_key: str, brief: Brief, platform: str, priority: int = 0,
                  quality: str = "standard", max_queue_size: int | None = None, reviewed: bool = False) -> int | None:
    """Store the brief and its job in one transaction (awaiting approval when it is to be `reviewed`); None if this
    trend already has a video job.

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
            brief_id = inserted_id(await conn.execute(insert(briefs).values(
                trend_id=trend_id, account=brief.account, template=brief.template,
                content=brief.model_dump(mode="json"), created_at=now)))
            result = await conn.execute(
                insert(video_jobs).values(
                    brief_id=brief_id,
                    trend_key=trend_key,
                    account=brief.account,
                    priority=priority,
                    status=JobStatus.AWAITING_APPROVAL if reviewed else JobStatus.QUEUED,
                    platform=platform,
                    aspect_ratio=brief.aspect_ratio,
                    duration_s=brief.duration_s,
                    quality=quality,
                    created_at=now,
                    updated_at=now,
                )
            )
            return inserted_id(result)
    except IntegrityError:
        taken = await db.fetch_all(select(video_jobs.c.id).where(video_jobs.c.trend_key == trend_key))
        if taken:
            return None
        raise


async def claim_next(db: Database, owner: str, lease_s: float, job_id: int | None = None,
                     account_limits: dict[str, int] | None = None,
                     then: Callable[[Transaction, Job], Awaitable[T]] | None = None) -> tuple[Job, T | None] | None:
    """Atomically lease the best queued job (or job `job_id`) to `owner`, and run `then(conn, job)` in the same write
    transaction (the generator reserves the job's first attempt there); returns the job and what `then` returned.

    Runnable: queued and not deferred, and its account below its `account_limits` count of running jobs. A job
    another worker is claiming right now is skipped, not waited for (PostgreSQL: FOR UPDATE SKIP LOCKED). If `then`
    raises, nothing happened: the job stays queued (UnclaimableJob when the job itself is at fault). The lease runs
    from the end of the claim by the database's clock, so a claim that waited on a lock does not commit a lease
    that already ran out. A dead worker's jobs come back through `reap_expired`."""
    query = _RUNNABLE if job_id is None else _RUNNABLE.where(video_jobs.c.id == job_id)

    async def claim(conn: Transaction) -> tuple[Job, T | None] | None:
        now, runnable = utcnow(), query
        if account_limits:
            await db.lock(conn, "account_limits")  # count the running jobs, then take one: no other claim between
            running: dict[str, int] = {row.account: row.running for row in await conn.execute(_RUNNING_PER_ACCOUNT)}
            full = [name for name, limit in account_limits.items() if running.get(name, 0) >= limit]
            if full:
                runnable = runnable.where(video_jobs.c.account.not_in(full))
        row = (await conn.execute(runnable, {"now": now})).first()
        if row is None:
            return None
        try:
            job = _job(row, owner)
            started = await then(conn, job) if then is not None else None
        except Exception as exc:
            if isinstance(exc, (ProviderBusy, DBAPIError)) or is_outage(exc):  # not the job's fault: it stays queued
                raise
            raise UnclaimableJob(row.id, exc) from exc
        await conn.execute(_LEASE, {"job_id": row.id, "owner": owner, "lease_s": lease_s, "now": utcnow()})
        return job, started

    return await db.retrying(claim)


async def fail_unclaimable(db: Database, problem: UnclaimableJob) -> None:
    """End a job that cannot even be claimed, so that it stops blocking the queue."""
    await db.write((update(video_jobs).where(video_jobs.c.id == problem.job_id, video_jobs.c.status == JobStatus.QUEUED)
                    .values(status=JobStatus.FAILED, error=str(problem), updated_at=utcnow()), {}))
    logger.error(str(problem))


async def with_brief(db: Database, job_id: int) -> Row[Any]:
    """A job's row (status, trend key, account, priority, platform, quality) with its brief's trend and content."""
    rows = await db.fetch_all(
        select(video_jobs.c.status, video_jobs.c.trend_key, video_jobs.c.account, video_jobs.c.priority,
               video_jobs.c.platform, video_jobs.c.quality, briefs.c.trend_id, briefs.c.content)
        .join(briefs, briefs.c.id == video_jobs.c.brief_id).where(video_jobs.c.id == job_id))
    if not rows:
        raise DaemonError(f"no job {job_id}")
    row: Row[Any] = rows[0]
    return row


async def job_of_key(db: Database, trend_key: str) -> int | None:
    rows = await db.fetch_all(select(video_jobs.c.id).where(video_jobs.c.trend_key == trend_key))
    return int(rows[0].id) if rows else None


async def reap_expired(db: Database) -> list[int]:
    """Put running jobs whose lease nobody renewed (their worker died) back in the queue; their attempts are
    reconciled by whoever claims them next."""
    async with db.transaction() as conn:  # one statement: a job another reaper took back, and a worker claimed, stays
        ids = sorted((await conn.execute(_REQUEUE_EXPIRED, {"now": utcnow()})).scalars())
    for job_id in ids:
        logger.warning(f"job {job_id}: its worker's lease ran out; back in the queue")
    return ids


async def renew_leases(db: Database, owner: str, lease_s: float) -> set[int]:
    """The heartbeat: extend every lease `owner` still holds; returns the ids of those jobs (a job missing from
    them was taken back from this worker, which must stop acting for it)."""
    async with db.transaction() as conn:
        return set((await conn.execute(_RENEW, {"owner": owner, "lease_s": lease_s})).scalars())


async def cancel(db: Database, job_id: int, reason: str) -> Cancellation:
    """Cancel a job. A waiting job with nothing open is cancelled now; a running job's worker is asked to stop it at
    its next step. A job with an attempt to wind up (a provider task to cancel, money to release) and no live worker —
    it waits in the queue after a crash, or its worker is dead — is handed back to the queue marked, for the caller to
    claim and wind up now."""
    async with db.transaction() as conn:
        row = (await conn.execute(_CANCEL_LOOKUP, {"job_id": job_id})).first()
        if row is None:
            raise DaemonError(f"no job {job_id}")
        now = utcnow()
        if row.status in PENDING and not row.open_attempts:
            await conn.execute(_UPDATE_JOB, {"job_id": job_id, "status": JobStatus.CANCELLED,
                                             "error": f"cancelled: {reason}", "updated_at": now})
            return Cancellation.CANCELLED
        alive = not holder_died_here(row.lease_owner) and not _expired(row.lease_expires_at, now)
        if row.status == JobStatus.RUNNING and alive:
            await conn.execute(_UPDATE_JOB, {"job_id": job_id, "cancel_reason": reason})
            return Cancellation.REQUESTED
        if row.status in (*PENDING, JobStatus.RUNNING):
            await conn.execute(_UPDATE_JOB, {"job_id": job_id, "status": JobStatus.QUEUED, "cancel_reason": reason,
                                             "lease_owner": None, "lease_expires_at": None, "not_before": None,
                                             "updated_at": now})
            return Cancellation.RECONCILE
        raise DaemonError(f"job {job_id} is already {row.status}: nothing to cancel")


def holder_died_here(owner: str | None) -> bool:
    """A lease held by a process of this host that no longer exists (a lease names `host:pid:nonce`)."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _expired(lease_expires_at: datetime | None, now: datetime) -> bool:
    return lease_expires_at is None or as_utc(lease_expires_at) < now


async def cancel_requests(db: Database, owner: str) -> dict[int, str]:
    """The running jobs of `owner` that `cancel` asked to stop, with the reasons (one read for all of them)."""
    rows = await db.fetch_all(_CANCEL_REQUESTS.params(owner=owner))
    return {row.id: row.cancel_reason for row in rows}


def finish_write(job_id: int, status: JobStatus, **fields: Any) -> Write:
    """The job's end (or its return to the queue), for the caller to commit with its attempt's settlement."""
    return _UPDATE_JOB, {"job_id": job_id, "status": status, "updated_at": utcnow(), **fields}


async def requeue(db: Database, statuses: tuple[str, ...], job_id: int | None = None) -> int:
    """Put jobs in `statuses` (or only job `job_id`) back in the queue, to be looked at now: budget waits in a new
    period, jobs waiting for a provider once one may be ready (a start with new config, `enable`)."""
    statement = update(video_jobs).where(video_jobs.c.status.in_(statuses))
    if job_id is not None:
        statement = statement.where(video_jobs.c.id == job_id)
    async with db.transaction() as conn:
        result = await conn.execute(statement.values(status=JobStatus.QUEUED, not_before=None, updated_at=utcnow()))
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class JobState:
    status: str
    error: str | None
    account: str
    topic: str


async def job_state(db: Database, job_id: int) -> JobState:
    """Where one job stands: its status, error, topic and account."""
    rows = await db.fetch_all(select(video_jobs.c.status, video_jobs.c.error, video_jobs.c.account, briefs.c.content)
                              .join(briefs, briefs.c.id == video_jobs.c.brief_id).where(video_jobs.c.id == job_id))
    if not rows:
        raise DaemonError(f"no job {job_id}")
    row = rows[0]
    return JobState(row.status, row.error, row.account, row.content.get("topic", ""))


async def tried_providers(conn: Transaction, job_id: int, scene: int | None = None) -> set[str]:
    """Providers this job (or this scene of it) has already had its one try at (rate-limited or interrupted
    attempts do not count)."""
    rows = await conn.execute(
        select(attempts.c.provider).where(attempts.c.job_id == job_id, attempts.c.state != AttemptState.CANCELLED,
                                          attempts.c.scene.is_(None) if scene is None else attempts.c.scene == scene)
        .where(or_(attempts.c.error_class.is_(None), attempts.c.error_class != ErrorClass.RATE_LIMIT))
    )
    return {row.provider for row in rows}


async def next_deferred(db: Database, job_id: int | None = None) -> datetime | None:
    """When the soonest deferred queued job (or job `job_id`) becomes runnable (None when none is deferred)."""
    query = select(func.min(video_jobs.c.not_before)).where(video_jobs.c.status == JobStatus.QUEUED)
    rows = await db.fetch_all(query if job_id is None else query.where(video_jobs.c.id == job_id))
    return as_utc(rows[0][0]) if rows and rows[0][0] is not None else None


async def count_by_status(db: Database) -> dict[str, int]:
    rows = await db.fetch_all(select(video_jobs.c.status, func.count()).group_by(video_jobs.c.status))
    return {status: count for status, count in rows}


def _job(row: Row[Any], owner: str) -> Job:
    return Job(
        id=row.id,
        account=row.account,
        priority=row.priority,
        status=JobStatus.RUNNING,
        platform=row.platform,
        brief=Brief.model_validate(row.content),
        quality=row.quality,
        attempts_so_far=row.attempts_so_far,
        owner=owner,
        cancel_reason=row.cancel_reason,
    )


# Built once: a statement made per call costs more Python than SQLite takes to run it.
_RUNNABLE = (
    select(video_jobs.c.id, video_jobs.c.account, video_jobs.c.priority, video_jobs.c.platform, video_jobs.c.quality,
           video_jobs.c.cancel_reason, briefs.c.content,
           select(func.count()).where(attempts.c.job_id == video_jobs.c.id).scalar_subquery().label("attempts_so_far"))
    .join(briefs, briefs.c.id == video_jobs.c.brief_id)
    .where(video_jobs.c.status == JobStatus.QUEUED,
           or_(video_jobs.c.not_before.is_(None), video_jobs.c.not_before <= bindparam("now")))
    .order_by(video_jobs.c.priority.desc(), video_jobs.c.id)
    .limit(1)
    .with_for_update(of=video_jobs, skip_locked=True)
)
_RUNNING_PER_ACCOUNT = (select(video_jobs.c.account, func.count().label("running"))
                        .where(video_jobs.c.status == JobStatus.RUNNING, video_jobs.c.lease_expires_at >= server_now())
                        .group_by(video_jobs.c.account))
_LEASE = update(video_jobs).where(video_jobs.c.id == bindparam("job_id")).values(
    status=JobStatus.RUNNING, lease_owner=bindparam("owner"),
    lease_expires_at=server_now(bindparam("lease_s", type_=Float)), updated_at=bindparam("now"))
_HELD = (video_jobs.c.lease_owner == bindparam("owner"), video_jobs.c.status == JobStatus.RUNNING,
         video_jobs.c.lease_expires_at > server_now())
_HOLD = update(video_jobs).where(video_jobs.c.id == bindparam("job_id"), *_HELD).values(
    updated_at=bindparam("now")).returning(video_jobs.c.id)
_RENEW = update(video_jobs).where(*_HELD).values(
    lease_expires_at=server_now(bindparam("lease_s", type_=Float))).returning(video_jobs.c.id)
_REQUEUE_EXPIRED = (
    update(video_jobs)
    .where(video_jobs.c.status == JobStatus.RUNNING,
           or_(video_jobs.c.lease_expires_at.is_(None),  # none: from before leases
               video_jobs.c.lease_expires_at < server_now()))
    .values(status=JobStatus.QUEUED, lease_owner=None, lease_expires_at=None, updated_at=bindparam("now"))
    .returning(video_jobs.c.id)
)
_CANCEL_LOOKUP = select(
    video_jobs.c.status, video_jobs.c.lease_owner, video_jobs.c.lease_expires_at,
    select(func.count()).where(attempts.c.job_id == video_jobs.c.id, attempts.c.state.in_(OPEN_STATES))
    .scalar_subquery().label("open_attempts")).where(video_jobs.c.id == bindparam("job_id"))
_CANCEL_REQUESTS = select(video_jobs.c.id, video_jobs.c.cancel_reason).where(
    video_jobs.c.status == JobStatus.RUNNING, video_jobs.c.lease_owner == bindparam("owner"),
    video_jobs.c.cancel_reason.is_not(None))
_UPDATE_JOB = update(video_jobs).where(video_jobs.c.id == bindparam("job_id"))  # SET: the keys passed
