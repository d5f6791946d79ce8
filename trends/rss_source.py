"""Trend source `rss`: any RSS or Atom feeds (news sites, niche blogs) as topic sources, one theme per feed."""
from __future__ import annotations

import html
import re
from typing import Any

from loguru import logger

from core.settings import Feed, RssSource
from trends.feeds import FeedClient, entry_time
from trends.models import Trend, hashtag_text
from trends.sources import SourceFailed, TrendSource

TAG = re.compile(r"<[^>]+>")


class RssFeeds(TrendSource):
    name = "rss"
    settings: RssSource

    def __init__(self, settings: RssSource) -> None:
        super().__init__(settings)
        self._client = FeedClient(settings.timeout_s)

    async def fetch(self) -> list[Trend]:
        """Every feed's newest items; a feed that fails is skipped (one warning) unless all of them fail."""
        found: list[Trend] = []
        errors: list[str] = []
        for feed in self.settings.feeds:
            try:
                parsed = await self._client.get(feed.url)
            except SourceFailed as exc:
                logger.warning(f"trend source rss: {exc}")
                errors.append(str(exc))
                continue
            found += [t for e in parsed.entries[: self.settings.items_per_feed] if (t := _trend(e, feed))]
        if errors and len(errors) == len(self.settings.feeds):
            raise SourceFailed("; ".join(errors))
        return found

    async def close(self) -> None:
        await self._client.close()


def _trend(entry: Any, feed: Feed) -> Trend | None:
    title = _plain(entry.get("title", ""))
    if len(title) < 3:
        return None
    summary = _plain(entry.get("summary", ""))[:400]
    caption = f"{title.rstrip('.')}. {summary}" if summary else title
    tags = [t.get("term", "") for t in entry.get("tags", []) if t.get("term")]
    return Trend(caption=caption, hashtags=[hashtag_text(tag) for tag in tags], theme=feed.theme,
                 timestamp=entry_time(entry), source="rss", url=str(entry.get("link", "")))


def _plain(text: str) -> str:
    """Feed text without markup or entities, on one line."""
    return " ".join(html.unescape(TAG.sub(" ", str(text))).split())
