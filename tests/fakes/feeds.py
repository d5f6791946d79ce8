"""Loopback fakes of the feed-based trend sources: Google Trends' "trending now" RSS (`/trending/rss?geo=XX`) and a
plain site feed (`/feeds/<name>.xml`), serving recorded samples (tests/fixtures/). `scenario` picks a failure:
"throttled" (429 with Retry-After, as Google answers scrapers), "server_error", "garbage" (HTML, not a feed) and
"slow" (answers after `slow_s`)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from tests.fakes.base import LoopbackServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCENARIOS = ("ok", "throttled", "server_error", "garbage", "slow")


class FeedServer(LoopbackServer):
    def __init__(self, scenario: str = "ok", slow_s: float = 5.0) -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.slow_s = slow_s
        self.requests: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/trending/rss", self._google)
        self.app.router.add_get("/feeds/{name}.xml", self._feed)

    async def _google(self, request: web.Request) -> web.StreamResponse:
        geo = request.query.get("geo", "")
        path = FIXTURES / f"google_trends_{geo.lower()}.xml"
        return await self._answer(request, path if geo and path.is_file() else None)

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, FIXTURES / f"{request.match_info['name']}.xml")

    async def _answer(self, request: web.Request, path: Path | None) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if self.scenario == "throttled":
            return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "120"})
        if self.scenario == "server_error":
            return web.Response(status=500, text="Internal Server Error")
        if self.scenario == "garbage":
            return web.Response(text="<html><body>We're sorry...</body></html>", content_type="text/html")
        if self.scenario == "slow":
            await asyncio.sleep(self.slow_s)
        if path is None or not path.is_file():
            return web.Response(status=404, text="Not Found")
        return web.Response(body=path.read_bytes(), content_type="application/rss+xml", charset="utf-8")
