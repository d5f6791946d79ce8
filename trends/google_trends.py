"""Trend source `google_trends_rss`: Google Trends' "trending now" feed per region, the steadiest free signal.

Each item is a search (`<title>`) with its approximate traffic (`<ht:approx_traffic>`, e.g. "200,000+") and news
items about it; feedparser keeps the last news item. The trend's caption is the search followed by that headline and
snippet, so a brief has a story to tell. Searches carry no category: they all get the configured theme.
"""
from __future__ import annotations

import re
from typing import Any

from loguru import logger

from core.settings import GoogleTrendsSource
from trends.feeds import FeedClient, entry_time
from trends.models import Trend
from trends.sources import TrendSource


class GoogleTrendsRss(TrendSource):
    name = "google_trends_rss"
    settings: GoogleTrendsSource

    def __init__(self, settings: GoogleTrendsSource) -> None:
        super().__init__(settings)
        self._client = FeedClient(settings.timeout_s)

    async def fetch(self) -> list[Trend]:
        found: list[Trend] = []
        for region in self.settings.regions:
            feed = await self._client.get(self.settings.url, {"geo": region})
            for entry in feed.entries:
                trend = self._trend(entry, region)
                if trend is not None:
                    found.append(trend)
        return found

    def _trend(self, entry: Any, region: str) -> Trend | None:
        search = " ".join(str(entry.get("title", "")).split())
        if len(search) < 3:
            logger.debug(f"google_trends_rss {region}: item without a usable title skipped")
            return None
        headline, snippet = _local(entry, "news_item_title"), _local(entry, "news_item_snippet")
        caption = ". ".join(part.rstrip(".") for part in (search, headline, snippet) if part) + "."
        return Trend(caption=caption, theme=self.settings.theme, traffic=_traffic(_local(entry, "approx_traffic")),
                     timestamp=entry_time(entry), source=self.name,
                     url=_local(entry, "news_item_url") or str(entry.get("link", "")))

    async def close(self) -> None:
        await self._client.close()


def _local(entry: Any, name: str) -> str:
    """A namespaced field by its local name, whatever prefix the feed declared (`ht_approx_traffic`)."""
    for key, value in entry.items():
        if key.endswith(f"_{name}") and isinstance(value, str):
            return " ".join(value.split())
    return ""


def _traffic(text: str) -> int:
    """"200,000+" → 200000; "2K+" → 2000; anything else → 0."""
    match = re.match(r"([\d.,]+)\s*([KkMm]?)", text.replace("\u202f", ""))
    if not match:
        return 0
    number = float(match.group(1).replace(",", "") or 0)
    return int(number * {"k": 1_000, "m": 1_000_000}.get(match.group(2).lower(), 1))
