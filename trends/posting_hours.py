"""The best posting hours, read from the newest viral patterns (trends/patterns.py writes them after each
collection): the hours of the day whose collected posts engaged most. An hour counts only with MIN_POSTS posts, so
one viral post at 3 am does not move a persona's slots."""
from __future__ import annotations

import json
from pathlib import Path

from loguru import logger

MIN_POSTS = 3


def best_hours(reports_dir: Path, count: int) -> list[int]:
    """The `count` best hours (0-23, in schedule.timezone, earliest first); [] when no patterns were written yet,
    or too few posts had counts."""
    newest = max(reports_dir.glob("*/patterns.json"), default=None)  # the folders are dates: the last is the newest
    if newest is None:
        return []
    try:
        hours = json.loads(newest.read_text(encoding="utf-8")).get("posting_hours", [])
        ranked = sorted((h for h in hours if h["posts"] >= MIN_POSTS), key=lambda h: -h["mean_engagement"])
        return sorted(int(h["hour"]) for h in ranked[:count])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning(f"{newest}: its posting hours cannot be read ({exc}); the fixed slots are used")
        return []
