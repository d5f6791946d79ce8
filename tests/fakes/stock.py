"""What the loopback fakes of the stock footage libraries (Pexels, Pixabay) share: a catalogue of videos, each in
several renditions served as real H.264 files by the same server, the search's matching and pagination, a rate
limit with its window, and the failures a library can play.

Each library's fake (tests/fakes/pexels.py, tests/fakes/pixabay.py) speaks its documented protocol on top of this:
its path, its authentication, its answer's shape and its rate-limit headers.
"""
from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from content.media.ffmpeg import ffmpeg_exe
from tests.fakes.base import LoopbackServer

SCENARIOS = ("success", "server_error", "garbage", "slow", "broken_file")
SLOW_S = 3.0  # a "slow" search answers after this long (clients under test time out sooner)
ANY = "*"  # a tag found by every search: a real library's fuzzy match, for a test whose queries depend on the brief

PORTRAIT_4K, PORTRAIT_HD, PORTRAIT_720, PORTRAIT_SD = (2160, 3840), (1080, 1920), (720, 1280), (360, 640)
LANDSCAPE_HD, LANDSCAPE_720 = (1920, 1080), (1280, 720)


@dataclass(frozen=True)
class FakeVideo:
    id: int
    tags: tuple[str, ...]
    seconds: int
    sizes: tuple[tuple[int, int], ...]  # its renditions, largest first
    author: str = "Ana Runner"


CATALOG = (
    FakeVideo(101, ("runner", "sunrise", "road"), 3, (PORTRAIT_HD, PORTRAIT_720, PORTRAIT_SD)),
    FakeVideo(102, ("runner", "sunrise", "beach"), 6, (PORTRAIT_4K, PORTRAIT_HD, PORTRAIT_SD), "Ben Waves"),
    FakeVideo(103, ("runner", "sunrise", "city"), 8, (LANDSCAPE_HD, LANDSCAPE_720), "Cy Streets"),
    FakeVideo(104, ("runner", "track"), 8, (PORTRAIT_SD,), "Dee Track"),
)


class StockMedia:
    """The catalogue's files, made with ffmpeg on first request and kept in `folder` (one folder a test session)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()  # the servers of several tests' event loops may ask at once

    async def file(self, width: int, height: int, seconds: int) -> Path:
        return await asyncio.to_thread(self._file, width, height, seconds)

    def _file(self, width: int, height: int, seconds: int) -> Path:
        path = self.folder / f"{width}x{height}-{seconds}s.mp4"
        with self._lock:
            if not path.is_file():
                _make_clip(path, width, height, seconds)
        return path


def _make_clip(path: Path, width: int, height: int, seconds: int) -> None:
    partial = path.with_name(f".{path.name}")
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s={width}x{height}:r=10:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-f", "mp4", str(partial)], check=True)
    partial.replace(path)


class FakeStockLibrary(LoopbackServer, ABC):
    """A stock library on 127.0.0.1. A search matches the videos tagged with every one of its words, in catalogue
    order; `quota` searches are answered per `window_s`, then 429 until the window ends."""

    key = "stock-key-4b1d"
    search_path = ""
    rate_headers: tuple[str, str, str] = ("", "", "")  # its names for the limit, the remaining and the reset

    def __init__(self, media: StockMedia, catalog: tuple[FakeVideo, ...] = CATALOG, scenario: str = "success",
                 quota: int = 100, window_s: float = 60.0) -> None:
        assert scenario in SCENARIOS, scenario
        self.media = media
        self.catalog = catalog
        self.scenario = scenario
        self.quota = quota
        self.window_s = window_s
        self.remaining = quota
        self.window_ends = time.time() + window_s
        self.asked = 0  # searches received, refused ones included
        self.searches: list[dict[str, str]] = []  # the query of every search answered (the key left out)
        self.downloads: list[str] = []  # the path of every file served
        self.app = web.Application()
        self.app.router.add_get(self.search_path, self._search)
        self.app.router.add_get("/video-files/{id:\\d+}/{width:\\d+}x{height:\\d+}.mp4", self._file)

    @abstractmethod
    def authorized(self, request: web.Request) -> web.Response | None:
        """The library's refusal of a request without the right key, or None."""
        ...

    @abstractmethod
    def query_words(self, request: web.Request) -> list[str]:
        ...

    def shown(self, request: web.Request, video: FakeVideo) -> bool:
        """Whether the search's filters (beyond its words) let `video` through."""
        return True

    @abstractmethod
    def answer(self, request: web.Request, videos: list[FakeVideo], page: int, per_page: int,
               total: int) -> dict[str, Any]:
        """The page of `videos` (of `total` found) in the library's format."""
        ...

    def quota_headers(self) -> dict[str, str]:
        limit, remaining, reset = self.rate_headers
        return {limit: str(self.quota), remaining: str(self.remaining), reset: self.reset_value()}

    @abstractmethod
    def reset_value(self) -> str:
        ...

    def too_many(self) -> web.Response:
        return web.Response(status=429, text="Too Many Requests", headers=self.quota_headers())

    def file_link(self, video: FakeVideo, size: tuple[int, int]) -> str:
        return f"{self.url}/video-files/{video.id}/{size[0]}x{size[1]}.mp4"

    async def _search(self, request: web.Request) -> web.Response:
        self.asked += 1
        refusal = self.authorized(request)
        if refusal is not None:
            return refusal
        if time.time() >= self.window_ends:
            self.remaining, self.window_ends = self.quota, time.time() + self.window_s
        if self.remaining <= 0:
            return self.too_many()
        self.remaining -= 1
        self.searches.append({k: v for k, v in request.query.items() if k != "key"})
        if self.scenario == "server_error":
            return web.Response(status=500, text="Internal Server Error")
        if self.scenario == "garbage":
            return web.json_response({"unexpected": ["not", "the", "format"]}, headers=self.quota_headers())
        if self.scenario == "slow":
            await _sleep_unless_gone(request, SLOW_S)
        words = self.query_words(request)
        found = [video for video in self.catalog if self.shown(request, video)
                 and (ANY in video.tags or words and all(word in video.tags for word in words))]
        page, per_page = int(request.query.get("page", "1")), int(request.query.get("per_page", "15"))
        answer = self.answer(request, found[(page - 1) * per_page: page * per_page], page, per_page, len(found))
        return web.json_response(answer, headers=self.quota_headers())

    async def _file(self, request: web.Request) -> web.StreamResponse:
        """The CDN: the rendition's file, streamed; in "broken_file" every link is dead."""
        self.downloads.append(request.path)
        video = next((v for v in self.catalog if v.id == int(request.match_info["id"])), None)
        size = (int(request.match_info["width"]), int(request.match_info["height"]))
        if self.scenario == "broken_file" or video is None or size not in video.sizes:
            return web.Response(status=404, text="Not Found")
        return web.FileResponse(await self.media.file(*size, video.seconds))


async def _sleep_unless_gone(request: web.Request, seconds: float) -> None:
    """A slow answer that stops waiting once the client has hung up (so the server shuts down at once)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.05)
