"""Retention: a posted video's files go `retention_days` after its last post, from this disk and from media hosting.

A video is posted when each of its posts is published (none scheduled or under way); its files — the video, its
variants, its cover and contact sheet — are removed once its last post is `retention_days` old, with the copies
media hosting holds for the platforms. Its sidecars (the caption, the credits) and its rows stay, so reports still
list it. A video that was never posted is kept, unless `delete_unpublished` is set (then it goes `retention_days`
after it was made).

Reference videos kept for lookalikes (data/references/<digest>/) go `retention_days` after their last use. A job
still to run keeps its brief's likeness; only its similarity report needs the reference, and is skipped without it.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from loguru import logger
from sqlalchemy import select

from content.media.platforms import variant_path
from content.media.sidecar import paths as sidecar_paths
from content.media.video_utils import contact_sheet_path
from content.publishers.hosting import MediaHost
from core.engine.states import POST_OPEN, JobStatus, PostState
from core.schema import posts, video_jobs
from core.settings import Settings
from core.storage import Database, as_utc, utcnow


@dataclass(frozen=True)
class Expired:
    job_id: int
    files: list[Path]  # those still on disk
    hosted: list[str]  # names in media hosting


async def expired_videos(db: Database, settings: Settings, now: datetime | None = None) -> list[Expired]:
    """The videos whose files are due to go, oldest first (nothing when `retention_days` is 0)."""
    days = settings.app.retention_days
    if days == 0:
        return []
    cutoff = (now or utcnow()) - timedelta(days=days)
    by_job: dict[int, list[tuple[str, str, datetime | None]]] = {}
    for post in await db.fetch_all(select(posts.c.job_id, posts.c.platform, posts.c.state, posts.c.published_at)):
        by_job.setdefault(post.job_id, []).append(
            (post.platform, post.state, as_utc(post.published_at) if post.published_at else None))
    expired = []
    for job in await db.fetch_all(select(video_jobs.c.id, video_jobs.c.output_path, video_jobs.c.thumbnail_path,
                                         video_jobs.c.updated_at)
                                  .where(video_jobs.c.status == JobStatus.DONE).order_by(video_jobs.c.id)):
        its_posts = by_job.get(job.id, [])
        published = [when for _, state, when in its_posts if state == PostState.PUBLISHED and when is not None]
        if any(state in POST_OPEN for _, state, _ in its_posts):
            continue
        if published:
            due = max(published) < cutoff
        else:
            due = settings.app.delete_unpublished and as_utc(job.updated_at) < cutoff
        files = _files(job.output_path, job.thumbnail_path) if due else []
        hosted = [f"{job.id}-{platform}{suffix}" for platform, _, _ in its_posts for suffix in (".mp4", ".jpg")]
        if due and (files or hosted):
            expired.append(Expired(job.id, files, hosted))
    return expired


async def remove_expired(db: Database, settings: Settings, host: MediaHost) -> list[Expired]:
    """Remove what `expired_videos` lists; a file or object that cannot be removed is one line, the rest go on."""
    expired = await expired_videos(db, settings)
    for video in expired:
        for file in video.files:
            try:
                file.unlink(missing_ok=True)
            except OSError as exc:
                logger.warning(f"job {video.job_id}: {file} not removed ({exc.strerror or exc})")
        if video.hosted and not host.missing_requirements():
            for name in video.hosted:
                try:
                    await host.remove(name)
                except Exception as exc:  # PublishError from the store, or its connection
                    logger.warning(f"job {video.job_id}: hosted {name} not removed ({exc})")
        logger.info(f"job {video.job_id}: {len(video.files)} file(s) removed after {settings.app.retention_days} "
                    "days (retention_days)")
    return expired


def _files(output: str | None, thumbnail: str | None) -> list[Path]:
    """The video's files on disk: itself, its variants, its cover and its contact sheet."""
    if not output:
        return []
    video = Path(output)
    candidates = [video, contact_sheet_path(video)] + ([Path(thumbnail)] if thumbnail else [])
    try:
        variants = json.loads(sidecar_paths(video)[0].read_text(encoding="utf-8")).get("variants", {})
        candidates += [variant_path(video, name) for name in variants]
    except (OSError, ValueError, AttributeError):
        pass  # no sidecar, or an unreadable one: the files named above are all there is to go
    return [path for path in candidates if path.is_file()]


def expired_references(folder: Path, settings: Settings, now: datetime | None = None) -> list[Path]:
    """The kept references under `folder` last used more than `retention_days` ago (none when it is 0)."""
    days = settings.app.retention_days
    if days == 0 or not folder.is_dir():
        return []
    cutoff = ((now or utcnow()) - timedelta(days=days)).timestamp()
    return sorted(kept for kept in folder.iterdir()
                  if kept.is_dir() and _last_use(kept) < cutoff)


def _last_use(kept: Path) -> float:
    analysis = kept / "analysis.json"  # touched on each use (content/media/reference.py, `kept`)
    return (analysis if analysis.is_file() else kept).stat().st_mtime


def remove_expired_references(folder: Path, settings: Settings, purchases: Path) -> list[Path]:
    """Remove what `expired_references` lists, and what was bought for each (its transcript, its keyframes
    described: `purchases`/<its digest>-<part>.json); one that cannot be removed is one line."""
    expired = expired_references(folder, settings)
    for kept in expired:
        try:
            shutil.rmtree(kept)
            for bought in purchases.glob(f"{kept.name}-*.json"):
                bought.unlink()
        except OSError as exc:
            logger.warning(f"reference {kept.name} not removed ({exc.strerror or exc})")
    if expired:
        logger.info(f"{len(expired)} reference video(s) removed after {settings.app.retention_days} days unused")
    return expired
