"""Rank trends: recency decay × velocity × engagement rate × agreement across sources × the account's own results.

    age_h      = hours since the post (or since the search trend began)
    recency    = 2^(−age_h / half_life_hours)
    velocity   = 1 + ln(1 + (likes + 2·comments + traffic) / max(age_h, 1))     interactions per hour
    engagement = 1 + ln(1 + 100 · (likes + comments) / views)                    1 when views are unknown
    agreement  = the number of distinct sources that reported the topic
    results    = how the account's own videos of the trend's theme and hashtags did, 0.5-2 (trends/learning.py)
    score      = recency^w_r · velocity^w_v · engagement^w_e · agreement^w_a · results^w_o
                 (w: `trends.weights`, default 1)

Every factor found in the trend itself is at least 1 except recency, so a source that lacks a signal (an RSS
headline has no likes) is not punished for it, only not helped. Logs tame the heavy tail of viral counts; comments
weigh double because they signal conversation; the half-life sets how fast yesterday's hit gives way to today's; a
topic several sources report at once is a stronger bet than any single viral post. Results, the one learned factor,
may lower a trend too (a theme whose videos drew few views), and is 1 until there is something to learn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from core.settings import ScoreWeights
from trends.learning import NOTHING_LEARNED, Results
from trends.models import Trend


@dataclass(frozen=True)
class Factors:
    recency: float
    velocity: float
    engagement: float
    agreement: float
    results: float

    def score(self, weights: ScoreWeights) -> float:
        return (self.recency ** weights.recency * self.velocity ** weights.velocity
                * self.engagement ** weights.engagement * self.agreement ** weights.agreement
                * self.results ** weights.results)


def factors(trend: Trend, now: datetime, half_life_hours: float, learned: Results = NOTHING_LEARNED) -> Factors:
    age_hours = max((now - trend.timestamp).total_seconds() / 3600, 0.0)
    interactions = trend.likes + 2 * trend.comments + trend.traffic
    rate = (trend.likes + trend.comments) / trend.views if trend.views else 0.0
    return Factors(
        recency=0.5 ** (age_hours / half_life_hours),
        velocity=1 + math.log1p(interactions / max(age_hours, 1.0)),
        engagement=1 + math.log1p(100 * rate),
        agreement=float(len(set(trend.sources))),
        results=learned.factor(trend),
    )


def score(trend: Trend, now: datetime, half_life_hours: float, weights: ScoreWeights = ScoreWeights()) -> float:
    return factors(trend, now, half_life_hours).score(weights)


def rank(trends: list[Trend], now: datetime, half_life_hours: float,
         weights: ScoreWeights = ScoreWeights()) -> list[Trend]:
    """Best first; ties broken by the newer post, then by topic, so the order is stable."""
    return sorted(trends, key=lambda t: (-score(t, now, half_life_hours, weights), -t.timestamp.timestamp(), t.topic))
