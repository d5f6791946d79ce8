"""Collecting trends from every enabled source at once, each behind a time limit, a cache and a circuit breaker.

One failing source never stops the cycle: the others go on, and every run (delivered, cached, failed, resting) is
stored in `trend_source_runs` for the report. A source that was blocked (SourceBlocked) rests until its
`rest_until`, across restarts and workers; `trends --refresh` skips caches but never a rest.
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from pydantic import ValidationError
from sqlalchemy import func, insert, select

from core.home import Home
from core.schema import trend_source_runs
from core.secrets import Secrets
from core.settings import TrendSources
from core.storage import Database, as_utc, utcnow
from trends.file_source import FileTrends
from trends.merge import merge
from trends.models import Trend
from trends.sources import SourceBlocked, SourceFailed, TrendSource


@dataclass(frozen=True)
class SourceRun:
    source: str
    ok: bool
    trends: int
    from_cache: bool = False
    error: str | None = None
    rest_until: datetime | None = None


def build_sources(sources: TrendSources, home: Home, secrets: Secrets) -> list[TrendSource]:
    """The enabled sources. Network sources are imported only when enabled: instaloader alone costs 0.3 s."""
    built: list[TrendSource] = []
    if sources.file.enabled:
        built.append(FileTrends(sources.file, home))
    if sources.google_trends_rss.enabled:
        from trends.google_trends import GoogleTrendsRss

        built.append(GoogleTrendsRss(sources.google_trends_rss))
    if sources.rss.enabled:
        from trends.rss_source import RssFeeds

        built.append(RssFeeds(sources.rss))
    if sources.instagram.enabled:
        from trends.instagram_source import InstagramPosts

        built.append(InstagramPosts(sources.instagram, home, secrets))
    return built


class Collector:
    def __init__(self, sources: list[TrendSource], db: Database, cache_dir: Path) -> None:
        self.sources = sources
        self.db = db
        self.cache_dir = cache_dir

    async def collect(self, refresh: bool = False) -> tuple[list[Trend], list[SourceRun]]:
        """Every source's trends, merged across sources (one trend per topic), and how each source fared."""
        results = await asyncio.gather(*(self._run(source, refresh) for source in self.sources))
        runs = [run for _, run in results]
        if runs:
            now = utcnow()
            await self.db.write((insert(trend_source_runs), [{**asdict(run), "ran_at": now} for run in runs]))
        return merge(trend for found, _ in results for trend in found), runs

    async def close(self) -> None:
        await asyncio.gather(*(source.close() for source in self.sources))

    async def _run(self, source: TrendSource, refresh: bool) -> tuple[list[Trend], SourceRun]:
        now = utcnow()
        resting = await self._rest(source.name)
        if resting is not None and resting[0] > now:
            until, reason = resting
            return [], SourceRun(source.name, False, 0, error=reason, rest_until=until)
        cached = None if refresh else self._cached(source, now)
        if cached is not None:
            return cached, SourceRun(source.name, True, len(cached), from_cache=True)
        rest_until = None
        try:
            found = await asyncio.wait_for(source.fetch(), source.settings.timeout_s)
        except asyncio.TimeoutError:
            error = f"timed out after {source.settings.timeout_s:g} s"
        except SourceBlocked as exc:
            rest_until = now + timedelta(seconds=exc.rest_s)
            error = f"blocked: {exc}; resting until {rest_until:%Y-%m-%d %H:%M} UTC"
        except SourceFailed as exc:
            error = str(exc)
        except Exception as exc:  # a source's surprise must not end the cycle; the report shows it
            logger.opt(exception=exc).debug(f"trend source {source.name} failed")
            error = f"{type(exc).__name__}: {exc}"
        else:
            self._store_cache(source, now, found)
            logger.info(f"trend source {source.name}: {len(found)} trends")
            return found, SourceRun(source.name, True, len(found))
        error = " ".join(error.split())
        logger.warning(f"trend source {source.name}: {error}")
        return [], SourceRun(source.name, False, 0, error=error, rest_until=rest_until)

    async def _rest(self, source: str) -> tuple[datetime, str] | None:
        """Until when the source rests, and why, per its newest run (None: it is not resting)."""
        rows = await self.db.fetch_all(
            select(trend_source_runs.c.rest_until, trend_source_runs.c.error)
            .where(trend_source_runs.c.source == source)
            .order_by(trend_source_runs.c.id.desc()).limit(1))
        if not rows or rows[0].rest_until is None:
            return None
        return as_utc(rows[0].rest_until), rows[0].error or "blocked"

    def _cache_file(self, source: TrendSource) -> Path:
        return self.cache_dir / f"{source.name}.json"

    def _cached(self, source: TrendSource, now: datetime) -> list[Trend] | None:
        """The source's last fetch if it is newer than its `cache_minutes`."""
        path = self._cache_file(source)
        if source.settings.cache_minutes <= 0 or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            fetched = datetime.fromisoformat(data["fetched_at"])
            if now - fetched > timedelta(minutes=source.settings.cache_minutes):
                return None
            return [Trend.model_validate(item) for item in data["trends"]]
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            return None  # an unreadable cache is a miss, not a failure

    def _store_cache(self, source: TrendSource, now: datetime, found: list[Trend]) -> None:
        if source.settings.cache_minutes <= 0:
            return
        path = self._cache_file(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        payload = {"fetched_at": now.isoformat(), "trends": [t.model_dump(mode="json") for t in found]}
        partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)


async def latest_runs(db: Database) -> list[dict[str, object]]:
    """The newest run of each source: how it fared last time (for `trends` and the report)."""
    newest = select(trend_source_runs.c.source, func.max(trend_source_runs.c.id).label("id")).group_by(
        trend_source_runs.c.source).subquery()
    rows = await db.fetch_all(select(trend_source_runs).join(newest, newest.c.id == trend_source_runs.c.id)
                              .order_by(trend_source_runs.c.source))
    return [_run_record(row) for row in rows]


async def failed_runs(db: Database, since: datetime) -> list[dict[str, object]]:
    """Every failed source run since `since`, oldest first."""
    rows = await db.fetch_all(select(trend_source_runs).where(trend_source_runs.c.ran_at >= since,
                                                              trend_source_runs.c.ok.is_(False))
                              .order_by(trend_source_runs.c.id))
    return [_run_record(row) for row in rows]


def _run_record(row: Any) -> dict[str, object]:
    return {"source": row.source, "ran_at": as_utc(row.ran_at).isoformat(timespec="seconds"), "ok": row.ok,
            "trends": row.trends, "from_cache": row.from_cache, "error": row.error,
            "rest_until": as_utc(row.rest_until).isoformat(timespec="seconds") if row.rest_until else None}
