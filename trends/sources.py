"""The trend source contract: a name, its settings, and one async `fetch` that returns normalized trends.

A source reports trouble with one of two errors: `SourceBlocked` when the service refused us (a login wall, a
checkpoint, throttling) and the source should rest before it asks again, `SourceFailed` for anything else. The
collector (trends/collector.py) adds the time limit, the cache, the rest period and the record of every run.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from core.errors import DaemonError
from core.settings import SourceSettings
from trends.models import Trend


class SourceFailed(DaemonError):
    """This fetch failed (network, bad data); the next cycle tries again."""


class SourceBlocked(SourceFailed):
    """The service refused us on purpose: asking again soon makes it worse, so the source rests `rest_s`."""

    def __init__(self, message: str, rest_s: float) -> None:
        super().__init__(message)
        self.rest_s = rest_s


class TrendSource(ABC):
    name: str

    def __init__(self, settings: SourceSettings) -> None:
        self.settings = settings

    @abstractmethod
    async def fetch(self) -> list[Trend]:
        """Everything the source has now, normalized; raises SourceFailed or SourceBlocked."""

    async def close(self) -> None:
        """Release connections; called once when the daemon stops."""
