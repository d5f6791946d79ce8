"""Rank trends by engagement decayed with age.

    engagement = ln(1 + likes + 2·comments) + 0.5·ln(1 + views)
    score      = engagement · 2^(−age_hours / half_life_hours)

Logs tame the heavy tail of viral counts; comments weigh double because they signal conversation; the half-life
(config `trends.half_life_hours`) sets how fast yesterday's hit gives way to today's.
"""
from __future__ import annotations

import math
from datetime import datetime

from trends.models import Trend


def engagement(trend: Trend) -> float:
    return math.log1p(trend.likes + 2 * trend.comments) + 0.5 * math.log1p(trend.views)


def score(trend: Trend, now: datetime, half_life_hours: float) -> float:
    age_hours = max((now - trend.timestamp).total_seconds() / 3600, 0.0)
    return engagement(trend) * 0.5 ** (age_hours / half_life_hours)


def rank(trends: list[Trend], now: datetime, half_life_hours: float) -> list[Trend]:
    """Best first; ties broken by the newer post, then by topic, so the order is stable."""
    return sorted(trends, key=lambda t: (-score(t, now, half_life_hours), -t.timestamp.timestamp(), t.topic))
