"""The persistent job queue: a brief becomes a job; jobs are claimed by priority, then first in, first out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from content.briefs import Brief
from core.schema import briefs, video_jobs
from core.storage import Database, utcnow

QUEUED, RUNNING, DONE, FAILED, WAITING_BUDGET = "queued", "running", "done", "failed", "waiting_budget"


@dataclass(frozen=True)
class Job:
    id: int
    account: str
    priority: int
    status: str
    platform: str
    brief: Brief


async def enqueue(db: Database, trend_id: int, trend_key: str, brief: Brief, platform: str, priority: int = 0) -> int | None:
    """Store the brief and its job in one transaction; None if this trend already has a video job."""
    now = utcnow()
    try:
        async with db.transaction() as conn:
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


async def claim_next(db: Database) -> Job | None:
    """Atomically move the best queued job to running (serialized by the write transaction)."""
    async with db.transaction() as conn:
        row = (
            await conn.execute(
                select(video_jobs.c.id)
                .where(video_jobs.c.status == QUEUED)
                .order_by(video_jobs.c.priority.desc(), video_jobs.c.id)
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        await conn.execute(
            update(video_jobs).where(video_jobs.c.id == row.id).values(status=RUNNING, updated_at=utcnow())
        )
        return await _load(conn, row.id)


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


async def count_by_status(db: Database) -> dict[str, int]:
    rows = await db.fetch_all(select(video_jobs.c.status, func.count()).group_by(video_jobs.c.status))
    return {status: count for status, count in rows}


async def _load(conn: Any, job_id: int) -> Job:
    row = (
        await conn.execute(
            select(video_jobs, briefs.c.content).join(briefs, briefs.c.id == video_jobs.c.brief_id)
            .where(video_jobs.c.id == job_id)
        )
    ).one()
    return Job(
        id=row.id,
        account=row.account,
        priority=row.priority,
        status=row.status,
        platform=row.platform,
        brief=Brief.model_validate(row.content),
    )
