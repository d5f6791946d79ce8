"""Pixabay's video search as documented (https://pixabay.com/api/docs/#api_search_videos): the key in the query
string (400 without the right one), `per_page` 3–200, `total`/`totalHits`/`hits` whose `videos` are large, medium,
small and tiny (an empty URL and zero size where a rendition is missing), and `X-RateLimit-*` headers on every
answer, the reset in seconds left."""
from __future__ import annotations

import math
import time
from typing import Any

from aiohttp import web

from tests.fakes.stock import FakeStockLibrary, FakeVideo

RENDITIONS = ("large", "medium", "small", "tiny")


class FakePixabay(FakeStockLibrary):
    search_path = "/api/videos/"
    rate_headers = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

    def authorized(self, request: web.Request) -> web.Response | None:
        if request.query.get("key") != self.key:
            return web.Response(status=400, text="[ERROR 400] Invalid or missing API key (https://pixabay.com/api/docs/).")
        if not 3 <= int(request.query.get("per_page", "20")) <= 200:
            return web.Response(status=400, text='[ERROR 400] "per_page" is out of valid range.')
        return None

    def query_words(self, request: web.Request) -> list[str]:
        return request.query.get("q", "").lower().split()

    def reset_value(self) -> str:
        return str(max(math.ceil(self.window_ends - time.time()), 0))

    def answer(self, request: web.Request, videos: list[FakeVideo], page: int, per_page: int,
               total: int) -> dict[str, Any]:
        return {"total": total, "totalHits": total, "hits": [self._hit(video) for video in videos]}

    def _hit(self, video: FakeVideo) -> dict[str, Any]:
        renditions = {name: {"url": self.file_link(video, size), "width": size[0], "height": size[1],
                             "size": size[0] * size[1], "thumbnail": ""}
                      for name, size in zip(RENDITIONS, video.sizes)}
        missing = {name: {"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""}
                   for name in RENDITIONS[len(video.sizes):]}
        return {"id": video.id, "pageURL": f"https://pixabay.com/videos/{'-'.join(video.tags)}-{video.id}/",
                "type": "film", "tags": ", ".join(video.tags), "duration": video.seconds,
                "videos": {**renditions, **missing}, "views": 1, "downloads": 1, "likes": 1, "comments": 0,
                "user_id": video.id + 7000, "user": video.author.split()[0], "userImageURL": ""}
