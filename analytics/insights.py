"""`insights pull` and the daemon's hourly pull: each published post's metrics read back from its platform into the
engagement table, so the ROI report fills itself. The daemon takes a snapshot when a post is 1 hour, 24 hours,
3 days and 7 days old (Meta's numbers settle over about two days); `insights pull` takes one of every post now."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from loguru import logger
from sqlalchemy import func, select

from analytics.engagement import store_snapshots
from content.publishers.contract import Publisher, PublishError
from content.publishers.registry import publishers_of
from core.engine.states import PostState
from core.schema import engagement_metrics, posts
from core.secrets import Secrets
from core.settings import Settings
from core.storage import Database, as_utc, utcnow

SNAPSHOT_AGES = (timedelta(hours=1), timedelta(hours=24), timedelta(hours=72), timedelta(days=7))


@dataclass
class PullResult:
    pulled: int = 0
    failed: list[str] = field(default_factory=list)  # one line a post whose platform would not answer


async def pull_insights(db: Database, settings: Settings, secrets: Secrets, due_only: bool = True) -> PullResult:
    """A snapshot of every published post (with `due_only`, of those that reached their next snapshot age). A post
    whose platform fails is one line; the others go on."""
    now, result = utcnow(), PullResult()
    publishers: dict[tuple[str, str], Publisher | None] = {}
    try:
        for post in await db.fetch_all(select(posts).where(posts.c.state == PostState.PUBLISHED)):
            source = f"{post.platform} insights"
            if due_only and await _taken(db, post.job_id, source) >= _ages_passed(as_utc(post.published_at), now):
                continue
            key = (post.platform, post.account)
            if key not in publishers:
                publishers[key] = _publisher(settings, secrets, *key)
            publisher = publishers[key]
            if publisher is None:
                continue
            try:
                counts = await publisher.insights(post.media_id)
            except PublishError as exc:
                result.failed.append(f"post {post.id} (job {post.job_id}): {secrets.redact(str(exc))}")
                logger.warning(f"insights of post {post.id} not read: {exc}")
                continue
            if counts is None:
                continue
            await store_snapshots(db, [{"job_id": post.job_id, "captured_at": now, "views": counts.views,
                                        "reach": counts.reach, "likes": counts.likes, "comments": counts.comments,
                                        "saves": counts.saves, "shares": counts.shares, "follows": 0,
                                        "source": source, "imported_at": now}])
            result.pulled += 1
    finally:
        for publisher in publishers.values():
            if publisher is not None:
                await publisher.close()
    return result


def _ages_passed(published_at: datetime, now: datetime) -> int:
    return sum(published_at + age <= now for age in SNAPSHOT_AGES)


async def _taken(db: Database, job_id: int, source: str) -> int:
    rows = await db.fetch_all(select(func.count()).select_from(engagement_metrics).where(
        engagement_metrics.c.job_id == job_id, engagement_metrics.c.source == source))
    return int(rows[0][0])


def _publisher(settings: Settings, secrets: Secrets, platform: str, account: str) -> Publisher | None:
    """The account's publisher for `platform`, if the config still has it."""
    for persona in settings.app.accounts:
        if persona.name == account:
            return next((p for p in publishers_of(persona, secrets) if p.platform == platform), None)
    return None
