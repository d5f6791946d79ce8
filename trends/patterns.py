"""Viral patterns over the collected posts (pandas): which hashtags lead and travel together, how caption length
and posting hour go with engagement, and how much of what wins is video.

Only posts with counts take part (Instagram and file trends; a search or a headline has no likes). Engagement is
likes + comments per post. The patterns are written to `data/reports/trends/<date>/` and feed the brief builder:
the hashtags that travel with a trend's own are added to its brief, when the association is strong (see
`related_hashtags`): one shared post or one viral post of another niche must not put #techtips on a mocktail.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd

from trends.models import Trend

CAPTION_BINS = [0, 50, 100, 200, 400, 100_000]
CAPTION_LABELS = ["<50", "50-99", "100-199", "200-399", "400+"]
TOP = 20
COMPANIONS = 5
# A related hashtag is added only if it was in at least MIN_TOGETHER posts with the trend's hashtag, in at least
# MIN_SHARE of that hashtag's posts, and at least THEME_SHARE of its own posts are of the trend's theme.
MIN_TOGETHER = 2
MIN_SHARE = 0.5
THEME_SHARE = 0.5


def posts_frame(trends: list[Trend], timezone: str = "UTC") -> pd.DataFrame:
    """One row per post with counts."""
    rows = [{"hashtags": list(dict.fromkeys(t.hashtags)), "theme": t.theme, "caption_chars": len(t.caption),
             "engagement": t.likes + t.comments, "views": t.views, "is_video": t.is_video,
             "hour": t.timestamp.astimezone(ZoneInfo(timezone)).hour}
            for t in trends if t.likes or t.comments or t.views]
    return pd.DataFrame(rows, columns=["hashtags", "theme", "caption_chars", "engagement", "views", "is_video",
                                       "hour"])


def analyse(posts: pd.DataFrame) -> dict[str, Any]:
    """The patterns as plain data (JSON-ready)."""
    if posts.empty:
        return {"posts": 0, "top_hashtags": [], "travels_with": {}, "hashtag_themes": {}, "caption_length": [],
                "posting_hours": [], "video_share": None}
    tags = posts[["hashtags", "engagement"]].explode("hashtags").dropna(subset=["hashtags"])
    top = (_frame(tags.groupby("hashtags")["engagement"].agg(posts="size", mean_engagement="mean"))
           .sort_values(["posts", "mean_engagement"], ascending=False).head(TOP))
    lengths = _frame(posts.assign(bucket=pd.cut(posts["caption_chars"], CAPTION_BINS, labels=CAPTION_LABELS,
                                                right=False))
                     .groupby("bucket", observed=True)["engagement"].agg(posts="size", mean_engagement="mean",
                                                                          median_engagement="median"))
    hours = (_frame(posts.groupby("hour")["engagement"].agg(posts="size", mean_engagement="mean"))
             .sort_values("mean_engagement", ascending=False))
    known = posts["is_video"].dropna()
    return {
        "posts": int(len(posts)),
        "top_hashtags": _records(top, "hashtag"),
        "travels_with": _cooccurrence(posts["hashtags"]),
        "hashtag_themes": _themes(posts),
        "caption_length": _records(lengths, "caption_chars"),
        "posting_hours": _records(hours, "hour"),
        "video_share": round(float(known.astype(bool).mean()), 4) if len(known) else None,
    }


def related_hashtags(patterns: dict[str, Any], hashtags: list[str], theme: str, limit: int = 3) -> list[str]:
    """The hashtags that travel most with these ones, strongly (MIN_TOGETHER, MIN_SHARE) and within `theme`
    (THEME_SHARE), not already among them."""
    themes = patterns.get("hashtag_themes", {})
    scores: dict[str, int] = {}
    for tag in hashtags:
        posts = sum(themes.get(tag, {}).values())
        for companion, count in patterns.get("travels_with", {}).get(tag, []):
            strong = count >= max(MIN_TOGETHER, MIN_SHARE * posts)
            if strong and companion not in hashtags and _share(themes.get(companion, {}), theme) >= THEME_SHARE:
                scores[companion] = scores.get(companion, 0) + count
    return [tag for tag, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def _share(posts_by_theme: dict[str, int], theme: str) -> float:
    """The share of a hashtag's posts that are of `theme` (0 for a hashtag never seen)."""
    total = sum(posts_by_theme.values())
    return posts_by_theme.get(theme, 0) / total if total else 0.0


def write_patterns(patterns: dict[str, Any], folder: Path, now: datetime) -> Path:
    """`<folder>/<date>/patterns.json` plus `hashtags.csv`; returns the JSON path."""
    out = folder / now.strftime("%Y-%m-%d")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "patterns.json"
    path.write_text(json.dumps({"generated_at": now.isoformat(timespec="seconds"), **patterns}, indent=2),
                    encoding="utf-8")
    pd.DataFrame(patterns["top_hashtags"], columns=["hashtag", "posts", "mean_engagement"]).to_csv(
        out / "hashtags.csv", index=False)
    return path


def _cooccurrence(hashtag_lists: pd.Series) -> dict[str, list[tuple[str, int]]]:
    """For each hashtag, its most frequent companions in the same post, with how often."""
    pairs = pd.DataFrame([(a, b) for tags in hashtag_lists for a in tags for b in tags if a != b],
                         columns=["tag", "companion"])
    if pairs.empty:
        return {}
    counts = pairs.value_counts().rename("count").reset_index()
    counts = counts.sort_values(["tag", "count", "companion"], ascending=[True, False, True])
    return {str(tag): [(str(c), int(n)) for c, n in zip(group["companion"].head(COMPANIONS), group["count"])]
            for tag, group in counts.groupby("tag", sort=True)}


def _themes(posts: pd.DataFrame) -> dict[str, dict[str, int]]:
    """For each hashtag, how many of its posts each theme has."""
    counts = posts[["hashtags", "theme"]].explode("hashtags").dropna(subset=["hashtags"]).value_counts()
    themes: dict[str, dict[str, int]] = {}
    for key, count in sorted(counts.items()):
        tag, theme = cast(tuple[str, str], key)  # the (hashtag, theme) pair: a MultiIndex's key
        themes.setdefault(str(tag), {})[str(theme)] = int(count)
    return themes


def _frame(aggregated: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """A grouped series' named aggregation (`.agg(posts="size", ...)`): pandas returns a frame, one column per name,
    where pandas-stubs says a Series."""
    return cast(pd.DataFrame, aggregated)


def _records(frame: pd.DataFrame, index_name: str) -> list[dict[str, Any]]:
    table = frame.reset_index().rename(columns={frame.index.name or "index": index_name})
    return json.loads(table.round(2).to_json(orient="records"))
