"""Trend sources against loopback fakes: Google Trends RSS, site feeds, and instaloader's own code over a faked HTTP
layer; the collector's time limit, cache, rest after a block and record of every run; merging and scoring; the file
source's bounds on bad input."""
from __future__ import annotations

import json
import math
import os
import pickle
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from core.home import Home
from core.schema import trend_source_runs
from core.secrets import Secrets
from core.settings import Feed, GoogleTrendsSource, InstagramSource, RssSource, ScoreWeights
from core.storage import Database
from tests.fakes.feeds import FeedServer
from tests.fakes.instagram import FakeInstagram, route_instaloader, session_cookies
from trends.collector import Collector
from trends.file_source import MAX_TRENDS, read_trend_folder
from trends.google_trends import GoogleTrendsRss
from trends.instagram_source import InstagramPosts
from trends.merge import merge, same_topic
from trends.models import Trend
from trends.rss_source import RssFeeds
from trends.scoring import factors, rank
from trends.store import save_trends

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)


def google(url: str, **extra: object) -> GoogleTrendsRss:
    return GoogleTrendsRss(GoogleTrendsSource(enabled=True, url=f"{url}/trending/rss", **extra))


def blog(url: str, **extra: object) -> RssFeeds:
    return RssFeeds(RssSource(enabled=True, feeds=[Feed(url=f"{url}/feeds/fitness_blog.xml", theme="fitness")],
                              **extra))


def instagram(home: Home, **extra: object) -> InstagramPosts:
    settings = {"enabled": True, "hashtags": ["#Running"], "username": "scraper_bot", "polite_sleep": False,
                "max_wait_s": 1.0, **extra}
    return InstagramPosts(InstagramSource(**settings), home, Secrets({}))


def write_session(home: Home) -> None:
    path = home.root / "data" / "instagram.session"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(session_cookies()))


async def test_google_trends_rss_items_become_trends_with_traffic_and_news() -> None:
    server = FeedServer()
    try:
        found = await google(await server.start()).fetch()
    finally:
        await server.stop()
    assert server.requests == ["/trending/rss?geo=US"]
    marathon = next(t for t in found if t.topic == "marathon training")
    assert marathon.traffic == 200_000 and marathon.theme == "news" and marathon.source == "google_trends_rss"
    assert "Why your long run should feel easy" in marathon.caption  # the attached news item
    assert marathon.timestamp == datetime(2026, 11, 21, 6, 0, tzinfo=timezone.utc)
    assert marathon.url.startswith("https://www.example-news.example/")
    assert {t.topic for t in found} == {"marathon training", "budget app"}


async def test_rss_feed_items_lose_markup_and_keep_categories() -> None:
    server = FeedServer()
    try:
        found = await blog(await server.start()).fetch()
    finally:
        await server.stop()
    first = found[0]
    assert first.topic == "Marathon training: why your long run should feel easy"
    assert "<b>" not in first.caption and "too fast" in first.caption and "&amp;" not in first.caption
    assert first.hashtags == ["running", "marathontraining"] and first.theme == "fitness"


async def test_instagram_top_posts_come_through_instaloader(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeInstagram()
    route_instaloader(monkeypatch, await server.start())
    write_session(home)
    try:
        found = await instagram(home).fetch()
    finally:
        await server.stop()
    assert len(server.requests) == 1  # one request per hashtag: no per-post metadata calls
    reel = next(t for t in found if t.is_video)
    assert (reel.likes, reel.comments, reel.views) == (48210, 1310, 912000)
    assert reel.hashtags == ["running", "marathontraining", "runnersofinstagram"] and reel.theme == "running"
    assert reel.url == "https://www.instagram.com/p/DBaaRunEasy1/"
    image = next(t for t in found if not t.is_video)
    assert image.views == 0 and image.likes == 12040


@pytest.mark.parametrize("scenario, sign", [("please_wait", "Please wait a few minutes"),
                                            ("rate_limit", "rate controller asks to wait"),
                                            ("login_required", "login_required")])
async def test_instagram_refusals_block_the_source(home: Home, monkeypatch: pytest.MonkeyPatch, db: Database,
                                                   scenario: str, sign: str) -> None:
    """A refusal stops the source for the cycle with one line, and it rests: the next cycle sends nothing."""
    server = FakeInstagram(scenario)
    route_instaloader(monkeypatch, await server.start())
    write_session(home)
    collector = Collector([instagram(home, breaker_hours=6)], db, home.trend_cache_dir)
    try:
        found, runs = await collector.collect()
        sent = len(server.requests)
        again, later_runs = await collector.collect(refresh=True)
    finally:
        await server.stop()
    assert found == [] and again == []
    (run,) = runs
    assert not run.ok and sign in (run.error or "") and run.error.startswith("blocked:")
    assert run.rest_until is not None and run.rest_until - datetime.now(timezone.utc) > timedelta(hours=5.9)
    assert len(server.requests) == sent  # resting: no request at all
    assert later_runs[0].rest_until == run.rest_until and not later_runs[0].ok


async def test_instagram_without_a_session_says_what_to_set(home: Home, db: Database) -> None:
    collector = Collector([instagram(home)], db, home.trend_cache_dir)
    _, (run,) = await collector.collect()
    assert not run.ok and run.rest_until is None
    assert "INSTAGRAM_USERNAME and INSTAGRAM_PASSWORD" in (run.error or "")


@pytest.mark.slow
@pytest.mark.parametrize("scenario, expected", [("server_error", "HTTP 500"), ("garbage", "not an RSS or Atom feed"),
                                                ("slow", "timed out after 0.5 s"), ("throttled", "blocked")])
async def test_one_failing_source_never_stops_the_others(home: Home, db: Database, scenario: str,
                                                          expected: str) -> None:
    broken, working = FeedServer(scenario, slow_s=3), FeedServer()
    try:
        sources = [google(await broken.start(), timeout_s=0.5), blog(await working.start())]
        found, runs = await Collector(sources, db, home.trend_cache_dir).collect()
    finally:
        await broken.stop()
        await working.stop()
    assert {t.source for t in found} == {"rss"}
    assert [(r.source, r.ok) for r in runs] == [("google_trends_rss", False), ("rss", True)]
    assert expected in (runs[0].error or "")
    assert (runs[0].rest_until is not None) == (scenario == "throttled")  # 429: rest per Retry-After
    stored = await db.fetch_all(select(trend_source_runs).order_by(trend_source_runs.c.id))
    assert [(r.source, r.ok) for r in stored] == [("google_trends_rss", False), ("rss", True)]


async def test_a_fresh_fetch_is_reused_until_it_ages_and_refresh_skips_it(home: Home, db: Database) -> None:
    server = FeedServer()
    try:
        collector = Collector([google(await server.start(), cache_minutes=60)], db, home.trend_cache_dir)
        first, _ = await collector.collect()
        second, (run,) = await collector.collect()
        assert len(server.requests) == 1 and run.from_cache and second == first
        await collector.collect(refresh=True)
        assert len(server.requests) == 2
    finally:
        await server.stop()


def trend(caption: str, source: str, **extra: object) -> Trend:
    return Trend(caption=caption, theme="fitness", timestamp=extra.pop("timestamp", NOW - timedelta(hours=2)),
                 source=source, **extra)


def test_the_same_story_from_several_sources_merges_into_one() -> None:
    search = trend("marathon training. Why your long run should feel easy.", "google_trends_rss", traffic=200_000)
    post = trend("Marathon training tip: your long run should feel easy. #running", "instagram", likes=48_000,
                 comments=1_300, views=900_000, hashtags=["running"])
    headline = trend("Marathon training: why your long run should feel easy. Slow down.", "rss")
    other = trend("Five mobility drills for desk workers", "rss")
    merged = merge([search, post, headline, other])
    assert len(merged) == 2
    story = merged[0]
    assert set(story.sources) == {"google_trends_rss", "instagram", "rss"}
    assert (story.likes, story.traffic) == (48_000, 200_000) and "running" in story.hashtags
    assert not same_topic(other, search)


def test_score_factors_follow_the_documented_formula() -> None:
    post = trend("Easy runs", "instagram", likes=1000, comments=500, views=20_000, timestamp=NOW - timedelta(hours=48))
    found = factors(post, NOW, half_life_hours=48)
    assert found.recency == pytest.approx(0.5)
    assert found.velocity == pytest.approx(1 + math.log1p(2000 / 48))
    assert found.engagement == pytest.approx(1 + math.log1p(100 * 1500 / 20_000))
    assert found.agreement == 1
    agreed = post.model_copy(update={"sources": ("instagram", "rss")})
    assert factors(agreed, NOW, 48).agreement == 2
    # Weights are exponents: switching recency off lets an old hit beat a fresh, quieter post.
    fresh = trend("Quiet fresh post", "instagram", likes=50, views=1_000, timestamp=NOW)
    assert rank([post, fresh], NOW, 48)[0] is fresh
    assert rank([post, fresh], NOW, 48, ScoreWeights(recency=0))[0] is post


def test_sources_with_missing_signals_are_not_punished() -> None:
    headline = trend("A headline with no counts", "rss")
    found = factors(headline, NOW, 48)
    assert (found.velocity, found.engagement) == (1.0, 1.0)



# ---- the file source: a bad record or file is one warning line and fails alone (issue 17 §6) -----------------------


def record(caption: str = "Good one. Details here.", **extra: object) -> dict[str, object]:
    return {"caption": caption, "theme": "food", "timestamp": "2026-11-20T10:00:00Z", **extra}


async def test_a_record_with_huge_numbers_or_sizes_is_skipped_alone(tmp_path: Path, db: Database,
                                                                   caplog_loguru) -> None:
    """10**30 views once stopped the cycle (OverflowError storing it); 10,000 hashtags took 7 GB and minutes."""
    (tmp_path / "a.json").write_text(json.dumps([
        record("Huge views. Yes.", views=10**30), record("Many tags. Yes.", hashtags=[f"t{i}" for i in range(10_000)]),
        record("Long caption. " + "x" * 1_000_000), record("Long tag. Yes.", hashtags=["x" * 101]), record(),
    ]))
    (tmp_path / "b.csv").write_text(f"caption,theme,timestamp,likes\nHuge likes here.,tech,2026-11-20,{10**30}\n")
    found = read_trend_folder(tmp_path)
    assert [t.topic for t in found] == ["Good one"]
    assert await save_trends(db, found) == 1
    warnings = [line for line in caplog_loguru.lines if "skipped" in line]
    assert len(warnings) == 5
    for line in ("a.json: item 0: views: input should be less than or equal to 9223372036854775807",
                 "a.json: item 1: hashtags: 10000 of them, at most 30", "a.json: item 2: caption: 1000014 characters",
                 "a.json: item 3: hashtags: one has 101 characters, at most 100",
                 "b.csv: row 2: likes: input should be less than or equal to"):
        assert line in caplog_loguru.text


def test_a_fifo_a_huge_or_deep_file_is_one_line_and_the_others_are_read(tmp_path: Path, caplog_loguru) -> None:
    """A FIFO once blocked the read for good (it waits for a writer); 100,000 `[` raised RecursionError."""
    os.mkfifo(tmp_path / "pipe.json")
    (tmp_path / "huge.csv").write_text("caption,theme,timestamp\n" + "A topic here.,x,2026-11-20\n" * 200_000)
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "nested.json").write_text(json.dumps([record(hashtags=json.loads("[" * 900 + "]" * 900))]))
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbfcaption,theme,timestamp\nExcel writes a BOM.,tech,2026-11-20\n")
    (tmp_path / "good.json").write_text(json.dumps([record()]))
    reader = threading.Thread(target=lambda: found.extend(read_trend_folder(tmp_path)), daemon=True)
    found: list[Trend] = []
    reader.start()
    reader.join(timeout=30)
    if reader.is_alive():  # let the blocked open return, so the thread ends with the test
        os.close(os.open(tmp_path / "pipe.json", os.O_WRONLY | os.O_NONBLOCK))
    assert not reader.is_alive(), "the read blocked"
    assert [t.topic for t in found] == ["Excel writes a BOM", "Good one"]
    for line in ("deep.json: cannot read trends: nested deeper than 64 levels",
                 "huge.csv: cannot read trends: larger than 4 MB",
                 "nested.json: cannot read trends: nested deeper than 64 levels",
                 "pipe.json: cannot read trends: not a regular file"):
        assert line in caplog_loguru.text
    assert len([line for line in caplog_loguru.lines if "cannot read trends" in line]) == 4


def test_the_folder_read_stops_at_its_limit_with_one_line(tmp_path: Path, caplog_loguru) -> None:
    (tmp_path / "a.json").write_text(json.dumps([record(f"Topic {i} here.") for i in range(400)]))
    (tmp_path / "b.json").write_text(json.dumps([record(f"More {i} here.") for i in range(400)]))
    (tmp_path / "c.json").write_text("{not even read")
    assert len(read_trend_folder(tmp_path)) == MAX_TRENDS
    assert f"over {MAX_TRENDS} trends in {tmp_path}, only the first {MAX_TRENDS} read" in caplog_loguru.text
    assert "c.json" not in caplog_loguru.text
