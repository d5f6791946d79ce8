"""The trend score learns from the account's own results: trends of a theme, or with hashtags, whose published
videos drew more views than the account's average rank higher; those whose videos drew fewer rank lower."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.schema import briefs, engagement_metrics, video_jobs
from core.settings import TrendSettings
from core.storage import Database
from trends.learning import BOUNDS, NOTHING_LEARNED, learn
from trends.models import Trend
from trends.selection import select
from trends.store import own_results, save_trends, trend_row_id, unused_trends

NOW = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)


def trend(topic: str, theme: str, hashtags: list[str], hours_old: float = 5) -> Trend:
    return Trend(caption=topic, theme=theme, hashtags=hashtags, likes=500, comments=40,
                 views=9000, timestamp=NOW - timedelta(hours=hours_old), source="instagram")


def test_a_theme_that_drew_more_views_lifts_its_trends_within_bounds_and_one_video_teaches_nothing() -> None:
    made = [(trend("Stretch at your desk", "fitness", ["mobility"]), 40_000),
            (trend("Hip openers", "fitness", ["mobility", "yoga"]), 30_000),
            (trend("Overnight oats", "food", ["breakfast"]), 2_000),
            (trend("Green smoothie", "food", ["breakfast", "yoga"]), 1_000)]
    learned = learn(made)
    assert learned.themes["fitness"] == pytest.approx(35_000 / 18_250)
    assert learned.themes["food"] == BOUNDS[0]  # 1,500 views against 18,250: as low as it goes
    assert "yoga" in learned.hashtags and "oats" not in learned.hashtags  # two videos had #yoga
    fitness, food, news = (learned.factor(trend("New", theme, tags)) for theme, tags in
                           (("fitness", ["mobility"]), ("food", ["breakfast"]), ("news", ["elections"])))
    assert BOUNDS[1] >= fitness > 1 > food >= BOUNDS[0]
    assert news == 1.0, "nothing is known of this theme"
    assert learn(made[:2]) == NOTHING_LEARNED, "too few videos with metrics"


async def test_trends_rank_by_what_the_accounts_own_videos_did(database: str) -> None:
    db = await Database.open(database)
    try:
        published = [("Stretch at your desk", "fitness", 40_000), ("Hip openers", "fitness", 30_000),
                     ("Overnight oats", "food", 900), ("Green smoothie", "food", 1_100)]
        await save_trends(db, [trend(topic, theme, []) for topic, theme, _ in published])
        for number, (topic, theme, views) in enumerate(published, start=1):
            key = trend(topic, theme, []).dedup_key
            async with db.transaction() as conn:
                await conn.execute(briefs.insert().values(
                    id=number, trend_id=await trend_row_id(db, key), account="mia_moves", template="default",
                    created_at=NOW, content={"topic": topic}))
                await conn.execute(video_jobs.insert().values(
                    id=number, brief_id=number, trend_key=key, account="mia_moves", priority=0, status="done",
                    platform="instagram_reels", aspect_ratio="9:16", duration_s=15, created_at=NOW, updated_at=NOW))
                for day, share in ((1, 0.6), (3, 1.0)):  # the later snapshot has the views
                    await conn.execute(engagement_metrics.insert().values(
                        job_id=number, captured_at=NOW + timedelta(days=day), views=int(views * share), reach=0,
                        likes=0, comments=0, saves=0, shares=0, follows=0, source="instagram", imported_at=NOW))
        # two new trends alike in all but theme; the food one is a little fresher, so it leads untaught
        await save_trends(db, [trend("Ten minute mobility", "fitness", [], hours_old=6),
                               trend("Five minute breakfast", "food", [], hours_old=5)])
        results = await own_results(db)
        stored = await unused_trends(db)
    finally:
        await db.close()
    assert sorted(views for _, views in results) == [900, 1_100, 30_000, 40_000]
    untaught = [c.trend.topic for c in select(stored, [], [], TrendSettings(), NOW)]
    taught = select(stored, [], [], TrendSettings(), NOW, learn(results))
    assert untaught == ["Five minute breakfast", "Ten minute mobility"]
    assert [c.trend.topic for c in taught] == ["Ten minute mobility", "Five minute breakfast"]
    assert taught[0].factors.results > 1 > taught[1].factors.results


async def test_a_retried_jobs_video_teaches_as_its_trends(database: str) -> None:
    """A retry's key is `<trend key>:retry-<job>`; its brief names the trend, so its views count for it."""
    db = await Database.open(database)
    try:
        oats = trend("Overnight oats", "food", [])
        await save_trends(db, [oats])
        trend_id = await trend_row_id(db, oats.dedup_key)
        for number, key, status in ((1, oats.dedup_key, "failed"), (2, f"{oats.dedup_key}:retry-1", "done")):
            async with db.transaction() as conn:
                await conn.execute(briefs.insert().values(
                    id=number, trend_id=trend_id, account="mia_moves", template="default", created_at=NOW,
                    content={"topic": oats.topic}))
                await conn.execute(video_jobs.insert().values(
                    id=number, brief_id=number, trend_key=key, account="mia_moves", priority=0, status=status,
                    platform="instagram_reels", aspect_ratio="9:16", duration_s=15, created_at=NOW, updated_at=NOW))
        async with db.transaction() as conn:
            await conn.execute(engagement_metrics.insert().values(
                job_id=2, captured_at=NOW, views=7_000, reach=0, likes=0, comments=0, saves=0, shares=0, follows=0,
                source="instagram", imported_at=NOW))
        results = await own_results(db)
    finally:
        await db.close()
    assert [(made.topic, views) for made, views in results] == [("Overnight oats", 7_000)]
