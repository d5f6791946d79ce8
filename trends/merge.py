"""One story, one trend: merging what several sources report about the same topic, and topic filters.

Two trends are the same topic when their topics have the same words (whatever the case, punctuation or source), or
when one is a short search-like topic (at most four words, e.g. Google's "taylor swift tour") whose every word
appears in the other's caption or hashtags. A merged trend keeps the most detailed member's caption (the longest),
the newest time, the highest counts, every hashtag and every source: the agreement the score rewards.
"""
from __future__ import annotations

from collections.abc import Iterable

from trends.models import WORD, Trend

SHORT_TOPIC_WORDS = 4


def same_topic(a: Trend, b: Trend) -> bool:
    if a.dedup_key == b.dedup_key:
        return True
    short, other = (a, b) if len(a.words) <= len(b.words) else (b, a)
    return 0 < len(short.words) <= SHORT_TOPIC_WORDS and short.words <= other.text_words


def merge(found: Iterable[Trend]) -> list[Trend]:
    """Group the trends that share a topic into one each (first come, first grouped: the order is kept)."""
    groups: list[list[Trend]] = []
    for trend in found:
        group = next((g for g in groups if any(same_topic(trend, member) for member in g)), None)
        if group is None:
            groups.append([trend])
        else:
            group.append(trend)
    return [_combine(group) for group in groups]


def _combine(group: list[Trend]) -> Trend:
    if len(group) == 1:
        return group[0]
    lead = max(group, key=lambda t: (len(t.caption), t.likes + t.comments + t.views))
    hashtags = list(dict.fromkeys(tag for t in [lead, *group] for tag in t.hashtags))
    sources = tuple(dict.fromkeys(s for t in [lead, *group] for s in t.sources))
    return lead.model_copy(update={
        "hashtags": hashtags,
        "likes": max(t.likes for t in group),
        "comments": max(t.comments for t in group),
        "views": max(t.views for t in group),
        "traffic": max(t.traffic for t in group),
        "timestamp": max(t.timestamp for t in group),
        "sources": sources,
    })


def mentions(trend: Trend, phrases: Iterable[str]) -> str | None:
    """The first of `phrases` (words or multi-word phrases, any case) found in the trend's caption or hashtags."""
    words = WORD.findall(" ".join([trend.caption, *trend.hashtags]).lower())
    text = f" {' '.join(words)} "
    for phrase in phrases:
        wanted = " ".join(WORD.findall(phrase.lower()))
        if wanted and f" {wanted} " in text:
            return phrase
    return None
