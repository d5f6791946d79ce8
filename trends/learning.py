"""What the account's own published videos teach the trend score. A theme or hashtag whose videos drew more views
than its videos' average lifts the trends that share it; one whose videos drew fewer lowers them. It counts once
MIN_VIDEOS of the videos had it, and nothing is learned from fewer than MIN_RESULTS videos with metrics, so one
lucky post does not steer the feed; the factor stays within BOUNDS, so trends still lead and results only tilt."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean

from trends.models import Trend

MIN_VIDEOS = 2
MIN_RESULTS = 3
BOUNDS = (0.5, 2.0)


@dataclass(frozen=True)
class Results:
    """Views of the videos of each theme and hashtag, relative to the average video's (within BOUNDS)."""

    themes: dict[str, float] = field(default_factory=dict)
    hashtags: dict[str, float] = field(default_factory=dict)

    def factor(self, trend: Trend) -> float:
        """The geometric mean of what is known of the trend's theme and hashtags, within BOUNDS; 1 when nothing."""
        known = [self.themes[trend.theme]] if trend.theme in self.themes else []
        known += [self.hashtags[tag] for tag in dict.fromkeys(trend.hashtags) if tag in self.hashtags]
        if not known:
            return 1.0
        mean = math.exp(fmean(math.log(ratio) for ratio in known))
        return min(max(mean, BOUNDS[0]), BOUNDS[1])


NOTHING_LEARNED = Results()


def learn(results: Sequence[tuple[Trend, int]]) -> Results:
    """From each published video's trend and its views."""
    average = fmean(views for _, views in results) if len(results) >= MIN_RESULTS else 0.0
    if average <= 0:
        return NOTHING_LEARNED
    themes: dict[str, list[int]] = defaultdict(list)
    hashtags: dict[str, list[int]] = defaultdict(list)
    for trend, views in results:
        themes[trend.theme].append(views)
        for tag in dict.fromkeys(trend.hashtags):
            hashtags[tag].append(views)
    return Results(_relative(themes, average), _relative(hashtags, average))


def _relative(groups: dict[str, list[int]], average: float) -> dict[str, float]:
    """Each group's mean views over the average, within BOUNDS (a group whose videos drew none is at the lower)."""
    return {name: min(max(fmean(views) / average, BOUNDS[0]), BOUNDS[1]) for name, views in groups.items()
            if len(views) >= MIN_VIDEOS}
