"""A loopback fake of the Instagram endpoints instaloader calls for a hashtag's top posts
(`i.instagram.com/api/v1/tags/web_info/`), serving a recorded response shape (tests/fixtures/instagram_tag_*.json),
and answering the way Instagram refuses scrapers: 401 "Please wait a few minutes before you try again.", 429, and
403 "login_required" (also what an anonymous client gets).

instaloader talks to fixed https hosts through `requests`, so `route_instaloader` swaps requests.Session for one
that sends every https request to this server instead (`https://<host>/<path>` → `<fake>/<host>/<path>`): instaloader's
own code runs unchanged above its HTTP layer.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from aiohttp import web

from tests.fakes.base import LoopbackServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCENARIOS = ("ok", "please_wait", "rate_limit", "login_required")
SESSION_ID = "fake-session-789"


class FakeInstagram(LoopbackServer):
    def __init__(self, scenario: str = "ok") -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.requests: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/i.instagram.com/api/v1/tags/web_info/", self._tag)

    async def _tag(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.scenario == "please_wait":
            return _fail(401, "Please wait a few minutes before you try again.", require_login=True)
        if self.scenario == "rate_limit":
            return _fail(429, "Please wait a few minutes before you try again.")
        if self.scenario == "login_required" or not _logged_in(request):
            return _fail(403, "login_required")
        path = FIXTURES / f"instagram_tag_{request.query.get('tag_name', '')}.json"
        if not path.is_file():
            return _fail(404, "Page not found")
        return web.json_response(json.loads(path.read_text()))


def route_instaloader(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    """Every requests.Session made from now on sends https requests to `base_url` instead."""

    class Loopback(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            parts = urlsplit(request.url or "")
            request.url = f"{base_url}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            return super().send(request, **kwargs)

    class LoopbackSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.mount("https://", Loopback())

    monkeypatch.setattr(requests, "Session", LoopbackSession)


def session_cookies() -> dict[str, str]:
    """What `instaloader --login` pickles into a session file."""
    return {"sessionid": SESSION_ID, "csrftoken": "csrf-fake", "ds_user_id": "4242", "mid": "mid-fake",
            "ig_did": "did-fake", "rur": "\"CLN\\0544242\""}


def _logged_in(request: web.Request) -> bool:
    """The mobile API takes the session as a bearer token derived from the cookies (IGT:2:<base64 json>)."""
    token = request.headers.get("Authorization", "")
    if not token.startswith("Bearer IGT:2:"):
        return False
    try:
        return json.loads(base64.b64decode(token.removeprefix("Bearer IGT:2:"))).get("sessionid") == SESSION_ID
    except ValueError:
        return False


def _fail(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, "status": "fail", **extra}, status=status)
