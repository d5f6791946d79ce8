"""Pixabay's video search (https://pixabay.com/api/docs/#api_search_videos): the key in the query string (which is why
no URL is ever logged); no orientation filter, so the choice reads it from the renditions' sizes; a rendition it does
not have comes with an empty URL; `X-RateLimit-Reset` is the seconds left in the window."""
from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from content.media.footage import Wanted
from content.providers.footage.choice import Rendition, Video
from content.providers.footage.library import PER_PAGE, StockLibrary
from core.bounds import header_number

MAX_QUERY = 100  # characters


class Pixabay(StockLibrary):
    name = "pixabay"
    licence = "Pixabay Content License"
    key_env = "PIXABAY_API_KEY"
    default_base_url = "https://pixabay.com"
    block_s = 60.0  # its window is a minute

    def auth_params(self) -> dict[str, str]:
        return {"key": self._key}

    def search_request(self, query: str, wanted: Wanted, page: int) -> tuple[str, dict[str, str]]:
        return f"{self.base_url}/api/videos/", {"q": query[:MAX_QUERY], "per_page": str(PER_PAGE), "page": str(page),
                                                "safesearch": "true"}

    def videos(self, answer: Any, page: int) -> tuple[list[Video], bool]:
        found = [Video(f"pixabay:{hit['id']}", hit["pageURL"], hit["user"],
                       f"https://pixabay.com/users/{hit['user']}-{hit['user_id']}/", float(hit["duration"]), tuple(
                           Rendition(file["url"], int(file["width"]), int(file["height"]))
                           for file in hit["videos"].values() if file.get("url") and file.get("width")))
                 for hit in answer["hits"]]
        return found, page * PER_PAGE < int(answer["totalHits"])

    def reset_time(self, headers: Mapping[str, str]) -> float | None:
        seconds = header_number(headers, "X-RateLimit-Reset")
        return None if seconds is None else time.time() + seconds
