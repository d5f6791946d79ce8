"""Which stored trends become videos, for whom, and why the others do not.

Stored, unused trends are merged again (the same story may have arrived from another source in an earlier cycle),
scored, and walked best first. A trend is passed over when it mentions a blocked topic, misses every allowed topic,
or tells a story that got a video in the last `memory_days`; otherwise it goes to the least-busy persona that takes
it: its theme is one of the persona's niches, or it mentions one of the persona's niches, hashtags or keywords.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.settings import Account, TrendSettings
from trends.learning import NOTHING_LEARNED, Results
from trends.merge import mentions, merge, same_topic
from trends.models import Trend
from trends.scoring import Factors, factors


@dataclass(frozen=True)
class Candidate:
    trend_id: int
    trend: Trend
    factors: Factors
    score: float
    account: Account | None  # who would make it
    passed_over: str | None = None  # why it will not be made


def select(stored: Sequence[tuple[int, Trend]], recently_made: Sequence[Trend], accounts: Sequence[Account],
           settings: TrendSettings, now: datetime, learned: Results = NOTHING_LEARNED) -> list[Candidate]:
    """Every candidate, best first (scored with what the account's own results taught), each with its persona or
    the reason it is passed over."""
    ids = {trend.dedup_key: trend_id for trend_id, trend in stored}
    scored = []
    for trend in merge(trend for _, trend in stored):
        found = factors(trend, now, settings.half_life_hours, learned)
        scored.append((found.score(settings.weights), trend, found))
    scored.sort(key=lambda item: (-item[0], -item[1].timestamp.timestamp(), item[1].topic))
    load = {account.name: 0 for account in accounts}
    candidates = []
    for score, trend, found in scored:
        reason = _passed_over(trend, recently_made, settings)
        account = None if reason else _pick_account(trend, accounts, load)
        if reason is None and account is None:
            reason = "no persona takes it (niches, hashtags, keywords)"
        if account is not None:
            load[account.name] += 1
        candidates.append(Candidate(ids[trend.dedup_key], trend, found, score, account, reason))
    return candidates


def _passed_over(trend: Trend, recently_made: Sequence[Trend], settings: TrendSettings) -> str | None:
    blocked = mentions(trend, settings.block_topics)
    if blocked:
        return f"blocked topic {blocked!r}"
    if settings.allow_topics and not mentions(trend, settings.allow_topics):
        return "mentions no allowed topic"
    made = next((old for old in recently_made if same_topic(trend, old)), None)
    if made is not None:
        return f"made recently as {made.topic!r}"
    return None


def _pick_account(trend: Trend, accounts: Sequence[Account], load: dict[str, int]) -> Account | None:
    """The least-loaded persona that takes the trend (a persona with no niches and no keywords takes any)."""
    matching = [a for a in accounts if _takes(a, trend)]
    return min(matching, key=lambda a: load[a.name]) if matching else None


def _takes(account: Account, trend: Trend) -> bool:
    if not account.niches and not account.keywords:
        return True
    if trend.theme in {niche.lower() for niche in account.niches}:
        return True
    return mentions(trend, [*account.niches, *account.hashtags, *account.keywords]) is not None
