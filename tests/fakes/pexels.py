"""Pexels' video search as documented (https://www.pexels.com/api/documentation/#videos-search): the key alone in
`Authorization`, orientation and minimum size filters, `page`/`per_page` (at most 80) with `next_page`, and the
`X-Ratelimit-*` headers on every answer but a 429 (whose reset is a UNIX time)."""
from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from tests.fakes.stock import FakeStockLibrary, FakeVideo

MIN_SHORT_SIDE = {"large": 2160, "medium": 1080, "small": 720}


class FakePexels(FakeStockLibrary):
    search_path = "/videos/search"
    rate_headers = ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset")

    def authorized(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != self.key:
            return web.json_response({"error": "Unauthorized"}, status=401)
        if "query" not in request.query or int(request.query.get("per_page", "15")) > 80:
            return web.json_response({"error": "Bad request"}, status=400)
        return None

    def query_words(self, request: web.Request) -> list[str]:
        return request.query["query"].lower().split()

    def reset_value(self) -> str:
        return str(math.ceil(self.window_ends))

    def too_many(self) -> web.Response:
        return web.Response(status=429, text="Too Many Requests")  # documented: no rate-limit headers here

    def shown(self, request: web.Request, video: FakeVideo) -> bool:
        orientation, size = request.query.get("orientation"), request.query.get("size", "")
        return orientation in (None, _orientation(video)) and min(video.sizes[0]) >= MIN_SHORT_SIDE.get(size, 0)

    def answer(self, request: web.Request, videos: list[FakeVideo], page: int, per_page: int,
               total: int) -> dict[str, Any]:
        more = page * per_page < total
        return {"page": page, "per_page": per_page, "total_results": total, "url": "https://www.pexels.com/",
                "videos": [self._video(video) for video in videos],
                **({"next_page": f"{self.url}{self.search_path}?page={page + 1}&per_page={per_page}"} if more else {})}

    def _video(self, video: FakeVideo) -> dict[str, Any]:
        width, height = video.sizes[0]
        files = [{"id": video.id * 10 + n, "quality": "hd" if min(size) >= 720 else "sd", "file_type": "video/mp4",
                  "width": size[0], "height": size[1], "fps": 25.0, "link": self.file_link(video, size)}
                 for n, size in enumerate(video.sizes)]
        files.append({"id": video.id * 10 + 9, "quality": "hls", "file_type": "video/mp4", "width": None,
                      "height": None, "fps": None, "link": f"{self.url}/hls/{video.id}.m3u8"})
        slug = "-".join(video.tags)
        return {"id": video.id, "width": width, "height": height, "duration": video.seconds,
                "url": f"https://www.pexels.com/video/{slug}-{video.id}/", "image": "", "tags": [],
                "user": {"id": video.id + 5000, "name": video.author,
                         "url": f"https://www.pexels.com/@{video.author.split()[0].lower()}"},
                "video_files": files, "video_pictures": []}


def _orientation(video: FakeVideo) -> str:
    width, height = video.sizes[0]
    return "square" if width == height else "portrait" if height > width else "landscape"
