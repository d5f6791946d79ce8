"""Pexels' video search (https://www.pexels.com/api/documentation/#videos-search): the key in the `Authorization`
header; `X-Ratelimit-Reset` is a UNIX time, and a 429 answer carries no rate-limit headers (so the reset is
remembered from the answers before it)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from content.media.footage import Wanted
from content.providers.footage.choice import Rendition, Video
from content.providers.footage.library import PER_PAGE, StockLibrary
from core.bounds import header_number


class Pexels(StockLibrary):
    name = "pexels"
    licence = "Pexels License"
    key_env = "PEXELS_API_KEY"
    default_base_url = "https://api.pexels.com"
    block_s = 3600.0  # its quota is counted by the hour (200) and the month

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self._key}

    def search_request(self, query: str, wanted: Wanted, page: int) -> tuple[str, dict[str, str]]:
        return f"{self.base_url}/videos/search", {"query": query, "orientation": wanted.orientation,
                                                 "size": _size(wanted), "per_page": str(PER_PAGE), "page": str(page)}

    def videos(self, answer: Any, page: int) -> tuple[list[Video], bool]:
        found = [Video(f"pexels:{video['id']}", video["url"], video["user"]["name"], video["user"]["url"],
                       float(video["duration"]), tuple(
                           Rendition(file["link"], int(file["width"]), int(file["height"]))
                           for file in video["video_files"]
                           if file.get("file_type") == "video/mp4" and file.get("width") and file.get("height")))
                 for video in answer["videos"]]
        return found, bool(answer.get("next_page"))

    def reset_time(self, headers: Mapping[str, str]) -> float | None:
        return header_number(headers, "X-Ratelimit-Reset")


def _size(wanted: Wanted) -> str:
    """Pexels' minimum size for the frame: large is 4K, medium Full HD, small HD."""
    short_side = min(wanted.width, wanted.height)
    return "large" if short_side > 1080 else "medium" if short_side > 720 else "small"
