"""The operator's review of a brief before money is spent on it (a persona's `review_briefs`): a job waits in
`awaiting_approval` until its brief is approved (queued), edited, or rejected (cancelled). Each is one write that
holds only while the job is still awaiting, so two operators never both act on one brief."""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update

from content.briefs.brief import Brief
from core.engine.states import JobStatus
from core.errors import DaemonError, InputError
from core.schema import briefs, video_jobs
from core.storage import Database, Transaction, utcnow

EDITABLE = ("hook", "beats", "cta", "caption", "hashtags", "visual_prompt")


async def brief_of(db: Database, job_id: int) -> tuple[str, Brief]:
    """The job's status and its brief."""
    rows = await db.fetch_all(select(video_jobs.c.status, briefs.c.content)
                              .join(briefs, briefs.c.id == video_jobs.c.brief_id).where(video_jobs.c.id == job_id))
    if not rows:
        raise DaemonError(f"no job {job_id}")
    return rows[0].status, Brief.model_validate(rows[0].content)


async def approve(db: Database, job_id: int) -> None:
    await _decide(db, job_id, {"status": JobStatus.QUEUED})


async def reject(db: Database, job_id: int, reason: str) -> None:
    await _decide(db, job_id, {"status": JobStatus.CANCELLED, "error": f"rejected: {reason}"})


async def edit(db: Database, job_id: int, changes: dict[str, Any]) -> Brief:
    """The brief with `changes` (only its words: hook, beats, call to action, caption, hashtags, visual prompt), checked
    as a brief is checked; the job stays awaiting approval."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(f"brief: {', '.join(unknown)} cannot be edited (only {', '.join(EDITABLE)})")
    _, brief = await brief_of(db, job_id)
    try:
        edited = Brief.model_validate({**brief.model_dump(mode="json"), **changes})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"brief: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None

    async def write(conn: Transaction) -> None:
        job = (await conn.execute(select(video_jobs.c.status, video_jobs.c.brief_id)
                                  .where(video_jobs.c.id == job_id).with_for_update())).first()
        if job is None or job.status != JobStatus.AWAITING_APPROVAL:
            raise DaemonError(f"job {job_id} is {job.status if job else 'gone'}: only a brief awaiting approval "
                              "can be edited")
        await conn.execute(update(briefs).where(briefs.c.id == job.brief_id)
                           .values(content=edited.model_dump(mode="json")))

    await db.write(write)
    return edited


async def _decide(db: Database, job_id: int, values: dict[str, Any]) -> None:
    async def write(conn: Transaction) -> None:
        result = await conn.execute(update(video_jobs).where(
            video_jobs.c.id == job_id, video_jobs.c.status == JobStatus.AWAITING_APPROVAL)
            .values(**values, updated_at=utcnow()))
        if result.rowcount != 1:
            status = (await conn.execute(select(video_jobs.c.status).where(video_jobs.c.id == job_id))).scalar()
            raise DaemonError(f"no job {job_id}" if status is None else
                              f"job {job_id} is {status}: it is not awaiting approval")

    await db.write(write)
