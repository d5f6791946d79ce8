"""What the Pexels and Pixabay clients share: searching (each answer cached for a day, as both libraries ask), the
rate limit each reports in its headers, picking a clip for a scene and downloading it once.

A clip is kept as `<folder>/<source>-<id>-<width>x<height>.mp4` (written beside as a dot-file, then renamed, so a cut
download leaves no half file to be reused) and is reused by every later Reel that picks it. A failure of any kind is
raised as `LibraryFailed`, whose message names no URL: Pixabay's key travels in the query string.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

from content.media.footage import Credit, Footage, Wanted
from content.media.media import probe
from content.media.timeline import Scene
from content.providers.footage.choice import Choice, Video, pick
from content.providers.footage.terms import search_terms
from core.bounds import bounded, header_number
from core.errors import MediaError
from core.files import partial_beside, write_atomically

SEARCH_TTL_S = 24 * 3600.0  # Pixabay requires a day's caching; Pexels recommends it
PER_PAGE = 15
PAGES = 2  # pages of one search read before a broader one
LONGEST_BLOCK_S = 31 * 24 * 3600.0  # a reset header further out is garbage (Pexels' quota is monthly)
CHUNK = 1 << 16


class LibraryFailed(Exception):
    """The library cannot give this scene a clip now (its message is for the log, and holds no secret)."""


class StockLibrary(ABC):
    """One stock video library. Subclasses give its address, authentication, search parameters, answer format and
    the meaning of its rate-limit reset header."""

    name: ClassVar[str]  # the credit's source and the clips' id prefix
    licence: ClassVar[str]
    key_env: ClassVar[str]  # the secret holding its API key
    default_base_url: ClassVar[str]
    block_s: ClassVar[float]  # how long a 429 keeps it unasked when no reset time is known

    def __init__(self, key: str, folder: Path, base_url: str | None = None, timeout_s: float = 30.0) -> None:
        self._key = key
        self.folder = folder
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._resets_at: float | None = None  # when the quota refills, as last told
        self._blocked_until = 0.0

    @abstractmethod
    def search_request(self, query: str, wanted: Wanted, page: int) -> tuple[str, dict[str, str]]:
        """The search's URL and query parameters, without the credentials."""

    @abstractmethod
    def videos(self, answer: Any, page: int) -> tuple[list[Video], bool]:
        """A search answer's videos and whether a next page exists; KeyError, TypeError or ValueError on garbage."""

    @abstractmethod
    def reset_time(self, headers: Mapping[str, str]) -> float | None:
        """When the quota refills (a UNIX time), from an answer's headers."""

    def auth_headers(self) -> dict[str, str]:
        return {}

    def auth_params(self) -> dict[str, str]:
        return {}

    def available(self) -> bool:
        """False while rate-limited."""
        return time.time() >= self._blocked_until

    async def find(self, scene: Scene, wanted: Wanted, used: set[str]) -> Footage | None:
        """A clip for `scene` downloaded, or None when the library has none of its orientation; raises
        LibraryFailed."""
        choice = await self._choose(scene, wanted, used)
        return None if choice is None else await self._footage(choice)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _choose(self, scene: Scene, wanted: Wanted, used: set[str]) -> Choice | None:
        """Narrow searches first, each up to PAGES pages, until a video fits; else the best one seen by the first
        search that found any."""
        seen: list[Video] = []
        for term in search_terms(scene):
            for page in range(1, PAGES + 1):
                videos, more = await self._search(term, wanted, page)
                seen += videos
                choice = pick(seen, wanted, used)
                if choice is not None and choice.fits:
                    return choice
                if not more:
                    break
            if (choice := pick(seen, wanted, used)) is not None:
                return choice
        return None

    async def _search(self, query: str, wanted: Wanted, page: int) -> tuple[list[Video], bool]:
        url, params = self.search_request(query, wanted, page)
        digest = hashlib.sha256(json.dumps([url, params], sort_keys=True).encode()).hexdigest()[:24]
        cached = self.folder / "searches" / f"{self.name}-{digest}.json"
        answer = _fresh(cached)
        asked = answer is None
        if asked:
            answer = await self._get_json(url, params)
        try:
            found = self.videos(answer, page)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise LibraryFailed("its search answer is not in the documented format") from None
        if asked:
            write_atomically(cached, json.dumps(answer).encode())
        return found

    async def _get_json(self, url: str, params: dict[str, str]) -> Any:
        if not self.available():  # spent by an earlier search for the same scene
            raise LibraryFailed(f"its quota is spent until {_clock(self._blocked_until)}")
        try:
            async with self._http().get(url, params={**params, **self.auth_params()},
                                        headers=self.auth_headers()) as response:
                self._note_quota(response.headers)
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise LibraryFailed(f"its search did not answer ({type(exc).__name__})") from None
        if status == 429:
            self._blocked_until = self._refill_time()
            raise LibraryFailed(f"rate-limited (HTTP 429); not asked again before {_clock(self._blocked_until)}")
        if status in (400, 401, 403):
            raise LibraryFailed(f"its search was refused (HTTP {status}): is {self.key_env} right?")
        if status >= 400:
            raise LibraryFailed(f"its search failed (HTTP {status})")
        try:
            return json.loads(body)
        except ValueError:
            raise LibraryFailed("its search answer is not JSON") from None

    def _note_quota(self, headers: Mapping[str, str]) -> None:
        """Remember when the quota refills; once it is spent, wait for that rather than spend a request on a 429."""
        reset = bounded(self.reset_time(headers), 0.0, time.time() + LONGEST_BLOCK_S)
        if reset is not None:
            self._resets_at = reset
        if header_number(headers, "X-Ratelimit-Remaining") == 0 and self._resets_at is not None:
            self._blocked_until = self._resets_at

    def _refill_time(self) -> float:
        now = time.time()
        return self._resets_at if self._resets_at is not None and self._resets_at > now else now + self.block_s

    async def _footage(self, choice: Choice) -> Footage:
        rendition = choice.rendition
        path = self.folder / f"{choice.video.id.replace(':', '-')}-{rendition.width}x{rendition.height}.mp4"
        if not path.is_file():
            await self._download(rendition.url, path)
        try:
            info = await probe(path)
        except MediaError:
            info = None
        if info is None or info.video is None or info.duration_s <= 0:
            path.unlink(missing_ok=True)
            raise LibraryFailed(f"its file for {choice.video.id} is not a video")
        video = choice.video
        credit = Credit(self.name, video.id, video.page_url, video.author, video.author_url, self.licence)
        return Footage(path, info.duration_s, info.video.width, info.video.height, credit, info.video)

    async def _download(self, url: str, path: Path) -> None:
        """Streamed to a dot-file beside `path`, renamed when complete."""
        partial = partial_beside(path)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout_s, sock_read=self.timeout_s)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with self._http().get(url, timeout=timeout) as response:
                if response.status >= 400:
                    raise LibraryFailed(f"its file for {path.stem} failed (HTTP {response.status})")
                with partial.open("wb") as out:
                    async for chunk in response.content.iter_chunked(CHUNK):
                        out.write(chunk)
            os.replace(partial, path)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise LibraryFailed(f"its file for {path.stem} broke off ({type(exc).__name__})") from None
        finally:
            partial.unlink(missing_ok=True)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self._session


def _fresh(cached: Path) -> Any:
    """A search answer cached less than SEARCH_TTL_S ago, or None."""
    try:
        if time.time() - cached.stat().st_mtime < SEARCH_TTL_S:
            return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    return None


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M:%S")
