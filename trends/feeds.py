"""Fetching RSS/Atom feeds over aiohttp and parsing them with feedparser, shared by the feed-based sources."""
from __future__ import annotations

import calendar
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import feedparser

from trends.sources import SourceBlocked, SourceFailed

USER_AGENT = "influencer-daemon/1 (trend reader)"
THROTTLED = (403, 429)
DEFAULT_REST_S = 3600.0


class FeedClient:
    """One aiohttp session for a source's feeds; opened on first use so an unused source costs nothing."""

    def __init__(self, timeout_s: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def get(self, url: str, params: dict[str, str] | None = None) -> Any:
        """The parsed feed; 403/429 mean we are throttled (SourceBlocked, resting per Retry-After)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers={"User-Agent": USER_AGENT})
        try:
            async with self._session.get(url, params=params) as response:
                body = await response.read()
                if response.status in THROTTLED:
                    raise SourceBlocked(f"{url}: HTTP {response.status} (throttled)",
                                        _retry_after_s(response.headers.get("Retry-After")))
                if response.status != 200:
                    raise SourceFailed(f"{url}: HTTP {response.status}")
        except aiohttp.ClientError as exc:
            raise SourceFailed(f"{url}: {type(exc).__name__}: {exc}") from None
        feed = feedparser.parse(body)
        if not feed.version and not feed.entries:  # feedparser recognised no RSS or Atom at all
            problem = f" ({feed.bozo_exception})" if feed.bozo else ""
            raise SourceFailed(f"{url}: not an RSS or Atom feed{problem}")
        return feed

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def entry_time(entry: Any) -> datetime:
    """When the entry was published (or updated); now when the feed does not say."""
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)


def _retry_after_s(value: str | None) -> float:
    if not value:
        return DEFAULT_REST_S
    try:
        return max(float(value), 60.0)
    except ValueError:
        try:
            return max((parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds(), 60.0)
        except (TypeError, ValueError):
            return DEFAULT_REST_S
