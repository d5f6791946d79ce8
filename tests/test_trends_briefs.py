"""File trends, ranking, dedup, brief templates and caption layout."""
from __future__ import annotations

import contextlib
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from content.briefs.brief import EARLIER_TEMPLATE_DIR, TEMPLATE_DIR, BriefBuilder
from content.media.ass import Event, TextLook
from content.media.captions import reading_timeline
from content.media.fonts import font_chain
from content.media.frame import REELS
from content.media.layouts import numbered_list
from content.media.look import Look
from core.home import Home
from tests.conftest import settings_for
from trends.file_source import read_trend_folder
from trends.models import Trend
from trends.scoring import rank

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)


def trend(caption: str, hours_old: float, likes: int = 1000, theme: str = "fitness") -> Trend:
    return Trend(caption=caption, theme=theme, likes=likes, comments=10, views=10_000,
                 timestamp=NOW - timedelta(hours=hours_old), source="test")


def test_sample_set_is_realistic(home: Home) -> None:
    trends = read_trend_folder(home.data_dir / "trends")
    assert len(trends) >= 30
    assert {t.source for t in trends} >= {"instagram", "tiktok", "youtube"}
    assert len({t.dedup_key for t in trends}) == len(trends)
    assert all(t.hashtags and t.theme and t.topic for t in trends)


def test_bad_records_are_skipped_with_a_clear_warning(tmp_path: Path, caplog_loguru) -> None:
    (tmp_path / "a.json").write_text(json.dumps([
        {"caption": "Good one. Details here.", "theme": "food", "timestamp": "2026-11-20T10:00:00Z", "likes": 5},
        {"caption": "Bad likes. Oops.", "theme": "food", "timestamp": "2026-11-20T10:00:00Z", "likes": "many"},
    ]))
    (tmp_path / "b.csv").write_text("caption,theme,timestamp\nCSV trend here. More.,tech,not-a-date\n")
    (tmp_path / "c.json").write_text("{broken")
    found = read_trend_folder(tmp_path)
    assert [t.topic for t in found] == ["Good one"]
    assert "a.json: item 1: likes:" in caplog_loguru.text
    assert "b.csv: row 2: timestamp:" in caplog_loguru.text
    assert "c.json: cannot read trends" in caplog_loguru.text


def test_rank_decays_with_age() -> None:
    fresh_small = trend("Fresh small. x", hours_old=1, likes=2_000)
    old_big = trend("Old big. x", hours_old=24 * 7, likes=50_000)
    assert rank([old_big, fresh_small], NOW, half_life_hours=48)[0] is fresh_small
    # With a very long half-life, raw engagement wins.
    assert rank([old_big, fresh_small], NOW, half_life_hours=10_000)[0] is old_big


def test_dedup_key_ignores_case_punctuation_and_source() -> None:
    a = trend("Japanese walking: 3 minutes fast! Rest.", 1)
    b = Trend(caption="japanese walking 3 minutes fast. Different details", theme="x", timestamp=NOW, source="rss")
    assert a.dedup_key == b.dedup_key


@pytest.mark.parametrize("template", ["default", "tips", "story"])
def test_every_template_makes_a_valid_brief(home: Home, template: str) -> None:
    settings = settings_for(home)
    account = settings.app.accounts[0].model_copy(update={"brief_template": template})
    one_sentence = Trend(caption="A prompt typed at the command line", theme="fitness", source="cli",
                         timestamp=datetime.now(timezone.utc))  # what `generate` builds: no details at all
    for item in [*read_trend_folder(home.data_dir / "trends"), one_sentence]:
        brief = BriefBuilder().build(item, account, settings.app.content)
        assert 3 <= len(brief.beats) <= 6
        assert brief.hook and brief.cta and brief.visual_prompt
        assert set(account.hashtags) <= set(brief.hashtags) and len(brief.hashtags) <= 8
        assert brief.duration_s == settings.app.content.default_duration_s


def caption_texts(events: list[Event]) -> list[str]:
    """What each caption event shows, without its ASS override tags."""
    return [re.sub(r"\{[^}]*\}", "", event.text).replace(r"\N", " ") for event in events]


def test_a_tips_brief_in_the_list_layout_shows_each_number_once(home: Home) -> None:
    settings = settings_for(home)
    account = next(a for a in settings.app.accounts if a.name == "mia_moves")  # the sample tips + list persona
    assert (account.brief_template, account.style.template) == ("tips", "list")
    brief = BriefBuilder().build(trend("Three lifts after forty. Goblet squat. Romanian deadlift. Push-up.", 1),
                                 account, settings.app.content)
    assert brief.beats[0].startswith("1. ")  # the brief numbers its steps for every layout
    chain = font_chain(Look.of(account, settings.app.content, home).font)
    events = numbered_list(reading_timeline(brief, brief.duration_s), chain, TextLook("#ffffff", "#ffd166"), [], REELS)
    texts = caption_texts(events)
    for number in range(1, len(brief.beats) + 1):
        shown = [text for text in texts if text.startswith(f"{number}. ")]
        assert shown, f"item {number} missing"
        assert all(not re.match(r"\d+\. \d+\.", text) for text in shown), shown[0]


@pytest.mark.parametrize("caption, topic, details", [
    ("冬天的助眠饮品。酸樱桃汁加镁！睡前一小时喝？", "冬天的助眠饮品", ["酸樱桃汁加镁！", "睡前一小时喝？"]),
    ("सर्दियों का नींद पेय। खट्टी चेरी का रस और मैग्नीशियम। सोने से पहले पिएं।", "सर्दियों का नींद पेय",
     ["खट्टी चेरी का रस और मैग्नीशियम।", "सोने से पहले पिएं।"]),
    ("هل تنام جيدا؟ عصير الكرز والمغنيسيوم؟اشربه قبل النوم", "هل تنام جيدا؟",
     ["عصير الكرز والمغنيسيوم؟", "اشربه قبل النوم"]),
], ids=["chinese", "hindi", "arabic"])
def test_captions_split_into_sentences_on_every_scripts_full_stops(home: Home, caption: str, topic: str,
                                                                    details: list[str]) -> None:
    settings = settings_for(home)
    account = settings.app.accounts[0].model_copy(update={"brief_template": "default"})
    brief = BriefBuilder().build(trend(caption, 1), account, settings.app.content)
    assert brief.topic == topic
    assert brief.beats[:len(details)] == details  # the caption's own sentences, not the template's English filler


def test_a_users_own_template_left_in_the_earlier_folder_is_still_found(home: Home) -> None:
    settings = settings_for(home)
    name = f"mine_{uuid.uuid4().hex[:8]}"
    EARLIER_TEMPLATE_DIR.mkdir(exist_ok=True)
    own = EARLIER_TEMPLATE_DIR / f"{name}.j2"
    own.write_text((TEMPLATE_DIR / "tips.j2").read_text())
    try:
        account = settings.app.accounts[0].model_copy(update={"brief_template": name})
        item = Trend(caption="A prompt typed at the command line", theme="fitness", source="cli", timestamp=NOW)
        assert BriefBuilder().build(item, account, settings.app.content).template == name
    finally:
        own.unlink()
        with contextlib.suppress(OSError):  # others' files may be there
            EARLIER_TEMPLATE_DIR.rmdir()
