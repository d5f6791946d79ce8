"""Viral patterns over collected posts, and the config rule that the scraping account never publishes."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from content.briefs.brief import BriefBuilder
from core.engine.publishing import Publishing
from core.home import Home
from core.secrets import Secrets
from core.storage import Database, database_url
from tests.conftest import edit_json, run_cli, settings_for
from trends.file_source import read_trend_folder
from trends.models import Trend
from trends.patterns import analyse, posts_frame, related_hashtags, write_patterns
from trends.posting_hours import best_hours


def post(tags: list[str], likes: int, hour: int, caption: str = "A post about running far. More words.",
         is_video: bool | None = True) -> Trend:
    return Trend(caption=caption, hashtags=tags, theme="fitness", likes=likes, comments=likes // 10,
                 views=likes * 20, timestamp=datetime(2026, 11, 20, hour, tzinfo=timezone.utc), source="instagram",
                 is_video=is_video)


POSTS = [post(["running", "marathon", "5k"], 1000, 7), post(["running", "marathon"], 3000, 7),
         post(["running", "trailrunning"], 500, 18, caption="x" * 250, is_video=False),
         post(["yoga"], 200, 18, is_video=None),
         Trend(caption="A headline with no counts", theme="news", timestamp=datetime(2026, 11, 20, tzinfo=timezone.utc),
               source="rss")]


def test_patterns_read_hashtags_captions_hours_and_media_type(tmp_path) -> None:
    patterns = analyse(posts_frame(POSTS, "Europe/Berlin"))
    assert patterns["posts"] == 4  # the headline has no counts
    top = patterns["top_hashtags"][0]
    assert (top["hashtag"], top["posts"]) == ("running", 3)
    assert patterns["travels_with"]["marathon"][0] == ("running", 2)
    best_hour = patterns["posting_hours"][0]
    assert best_hour["hour"] == 8 and best_hour["posts"] == 2  # 07:00 UTC is 08:00 in Berlin
    lengths = {row["caption_chars"]: row["posts"] for row in patterns["caption_length"]}
    assert lengths == {"<50": 3, "200-399": 1}
    assert patterns["video_share"] == round(2 / 3, 4)  # of the posts whose type is known
    path = write_patterns(patterns, tmp_path, datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert json.loads(path.read_text())["posts"] == 4 and (path.parent / "hashtags.csv").is_file()


def test_hashtags_that_travel_with_a_trend_reach_its_brief(home: Home) -> None:
    patterns = analyse(posts_frame(POSTS))
    related = related_hashtags(patterns, ["marathon"], "fitness")
    assert related[0] == "running" and "marathon" not in related
    settings = settings_for(home)
    brief = BriefBuilder().build(post(["marathon"], 10, 7), settings.app.accounts[0], settings.app.content, related)
    assert brief.hashtags[:1] == ["marathon"] and "running" in brief.hashtags


def test_only_strong_companions_of_the_trends_theme_are_related() -> None:
    patterns = {  # sleep: 6 posts, half of them about trackers (tech)
        "travels_with": {"sleep": [("techtips", 3), ("wearables", 3), ("magnesium", 3), ("sleephygiene", 2),
                                   ("bedtime", 1)]},
        "hashtag_themes": {"sleep": {"tech": 3, "wellness": 3}, "techtips": {"tech": 5}, "wearables": {"tech": 4},
                           "magnesium": {"wellness": 3, "food": 1}, "sleephygiene": {"wellness": 2},
                           "bedtime": {"wellness": 1}},
    }
    # techtips, wearables: another theme; sleephygiene: 2 of sleep's 6 posts; bedtime: seen together once
    assert related_hashtags(patterns, ["sleep", "mocktail"], "wellness") == ["magnesium"]
    assert related_hashtags(patterns, ["sleep"], "tech") == ["techtips", "wearables"]


def test_the_sample_mocktail_gets_no_tech_hashtags(home: Home) -> None:
    trends = read_trend_folder(home.data_dir / "trends")
    patterns = analyse(posts_frame(trends))
    mocktail = next(t for t in trends if "mocktail" in t.hashtags)
    assert not {"techtips", "wearables"} & set(related_hashtags(patterns, mocktail.hashtags, mocktail.theme))


def test_scraping_with_a_publishing_account_is_refused_in_one_line(home: Home) -> None:
    edit_json(home.config_file, lambda c: c["trends"]["sources"]["instagram"].update(username="@Mia.Moves"))
    result = run_cli(home.root, "config", "check")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "publishes for an account here" in result.stderr


async def test_a_persona_on_best_hours_posts_at_the_hours_that_engaged_most_and_falls_back_to_its_slots(
        home: Home) -> None:
    """07:00 engaged most over three posts; 03:00's one viral post does not count (too few posts to tell)."""
    posts = ([post(["running"], 900 + n, 7) for n in range(3)] + [post(["running"], 100 + n, 12) for n in range(3)]
             + [post(["running"], 90_000, 3)])
    edit_json(home.config_file, lambda d: d["schedule"].update(timezone="UTC"))
    settings = settings_for(home)
    account = settings.app.accounts[0]
    db = await Database.open(database_url(home, Secrets({})))
    publishing = Publishing(settings, db, Secrets({}), home)
    after = datetime(2026, 12, 4, 8, 30, tzinfo=timezone.utc)
    try:
        best = account.model_copy(update={"publishing": account.publishing.model_copy(update={"best_hours": 2})})
        fixed_noon = publishing.next_slot(best, after)  # no patterns yet: the fixed slots (12:00, 19:00)
        write_patterns(analyse(posts_frame(posts, "UTC")), home.trend_reports_dir, after)
        assert best_hours(home.trend_reports_dir, 3) == [7, 12]
        on_best = [publishing.next_slot(best, after), publishing.next_slot(best, after.replace(hour=13))]
        (home.trend_reports_dir / "2026-12-05").mkdir()
        (home.trend_reports_dir / "2026-12-05" / "patterns.json").write_text('{"posting_hours": [{"hour": "x"}]}')
        unreadable = publishing.next_slot(best, after)
    finally:
        await publishing.close()
        await db.close()
    assert fixed_noon == after.replace(hour=12, minute=0)
    assert on_best == [after.replace(hour=12, minute=0), datetime(2026, 12, 5, 7, tzinfo=timezone.utc)]
    assert unreadable == after.replace(hour=12, minute=0)  # a patterns file it cannot read: the fixed slots
