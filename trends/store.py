"""Persisting trends and finding the ones no video has used yet."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from core.schema import briefs, engagement_metrics, video_jobs
from core.schema import trends as trends_table
from core.storage import Database, utcnow
from trends.models import Trend


async def save_trends(db: Database, found: list[Trend]) -> int:
    """Insert new topics and refresh the counts of known ones; returns how many were new."""
    unique = {trend.dedup_key: trend for trend in found}
    async with db.transaction() as conn:
        known = set((await conn.execute(select(trends_table.c.dedup_key))).scalars())
        now = utcnow()
        new_rows = [_row(t, now) for key, t in unique.items() if key not in known]
        if new_rows:
            await conn.execute(insert(trends_table), new_rows)
        refreshed = [{"key": key, "n_likes": t.likes, "n_comments": t.comments, "n_views": t.views,
                      "n_traffic": t.traffic, "n_sources": list(t.sources)}
                     for key, t in unique.items() if key in known]
        if refreshed:
            await conn.execute(
                update(trends_table)
                .where(trends_table.c.dedup_key == bindparam("key"))
                .values(likes=bindparam("n_likes"), comments=bindparam("n_comments"), views=bindparam("n_views"),
                        traffic=bindparam("n_traffic"), sources=bindparam("n_sources")),
                refreshed,
            )
    return len(new_rows)


async def trend_row_id(db: Database, dedup_key: str) -> int:
    rows = await db.fetch_all(select(trends_table.c.id).where(trends_table.c.dedup_key == dedup_key))
    return int(rows[0].id)


async def unused_trends(db: Database) -> list[tuple[int, Trend]]:
    """Stored trends with no video job yet, as (row id, trend)."""
    used = select(video_jobs.c.trend_key)
    rows = await db.fetch_all(select(trends_table).where(trends_table.c.dedup_key.not_in(used)))
    return [(row.id, _trend(row)) for row in rows]


async def collected_since(db: Database, since: datetime) -> list[Trend]:
    """Trends stored since `since`: the posts the viral patterns are read from."""
    rows = await db.fetch_all(select(trends_table).where(trends_table.c.collected_at >= since))
    return [_trend(row) for row in rows]


async def recently_used(db: Database, since: datetime) -> list[Trend]:
    """Trends that got a video job since `since`: the topics not to make again in other words."""
    rows = await db.fetch_all(
        select(trends_table).join(video_jobs, video_jobs.c.trend_key == trends_table.c.dedup_key)
        .where(video_jobs.c.created_at >= since))
    return [_trend(row) for row in rows]


async def own_results(db: Database) -> list[tuple[Trend, int]]:
    """Each trend the account made a video of that has metrics (insights pulled or imported), with the most views
    its videos reached — a retried job's video among them (its brief names the trend, its key does not)."""
    views = (select(briefs.c.trend_id, func.max(engagement_metrics.c.views).label("views"))
             .select_from(video_jobs.join(briefs, briefs.c.id == video_jobs.c.brief_id)
                          .join(engagement_metrics, engagement_metrics.c.job_id == video_jobs.c.id))
             .group_by(briefs.c.trend_id).subquery())
    rows = await db.fetch_all(select(trends_table, views.c.views.label("own_views"))
                              .join(views, views.c.trend_id == trends_table.c.id))
    return [(_trend(row), int(row.own_views)) for row in rows]


def _row(trend: Trend, now: datetime) -> dict[str, Any]:
    return {
        "dedup_key": trend.dedup_key,
        "source": trend.source,
        "topic": trend.topic,
        "caption": trend.caption,
        "theme": trend.theme,
        "hashtags": trend.hashtags,
        "likes": trend.likes,
        "comments": trend.comments,
        "views": trend.views,
        "posted_at": trend.timestamp,
        "collected_at": now,
        "traffic": trend.traffic,
        "url": trend.url,
        "is_video": trend.is_video,
        "sources": list(trend.sources),
    }


def _trend(row: Any) -> Trend:
    return Trend(
        caption=row.caption,
        hashtags=row.hashtags,
        theme=row.theme,
        likes=row.likes,
        comments=row.comments,
        views=row.views,
        timestamp=row.posted_at,
        source=row.source,
        traffic=row.traffic,
        url=row.url,
        is_video=row.is_video,
        sources=tuple(row.sources or ()),
    )
