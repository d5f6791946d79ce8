"""A loopback fake of the YouTube Data API's upload (Google's resumable upload protocol for `videos.insert`), its
`videos.list` statistics, and Google's OAuth token endpoint (`grant_type=refresh_token`).

A session is started by a POST carrying the video resource (checked as the API checks it: a title of 100 characters
at most, a known privacy status, `selfDeclaredMadeForKids` set, a `publishAt` only on a private video and in the
future) and `X-Upload-Content-Length`; its URL comes back in
`Location`. Bytes are PUT with `Content-Range: bytes FIRST-LAST/SIZE` and must continue where the session stands;
`bytes */SIZE` asks where it stands (308 with `Range`, or 200 with the video once whole). Scenarios: an upload cut off
halfway (503 after half the bytes are kept), the day's quota used up, a revoked refresh token.
"""
from __future__ import annotations

import itertools
import secrets as random_ids
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from tests.fakes.base import LoopbackServer

CLIENT_ID = "1234567890-fake.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-client-secret"
REFRESH_TOKEN = "1//fake-refresh-token-321"
SCENARIOS = ("ok", "cut_upload", "quota", "revoked")


@dataclass
class UploadSession:
    id: str
    size: int
    resource: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube(LoopbackServer):
    def __init__(self, scenario: str = "ok") -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.sessions: dict[str, UploadSession] = {}
        self.videos: dict[str, dict[str, Any]] = {}  # published: id → resource
        self.access_tokens: set[str] = set()
        self.statistics: dict[str, dict[str, str]] = {}  # video id → statistics, once the test sets them
        self._ids = itertools.count(1)
        self._cut = False
        self.complete_delay_s = 0.0  # the last bytes are kept and the video made, then the answer waits this long
        self.app = web.Application(client_max_size=1 << 30)  # a video is sent whole in one PUT
        self.app.router.add_post("/token", self._token)
        self.app.router.add_post("/upload/youtube/v3/videos", self._start)
        self.app.router.add_put("/upload/youtube/v3/videos", self._upload)
        self.app.router.add_get("/youtube/v3/videos", self._list)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != CLIENT_ID or form.get(
                "client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client", "error_description": "Unauthorized"}, status=401)
        if form.get("refresh_token") != REFRESH_TOKEN or self.scenario == "revoked":
            return web.json_response({"error": "invalid_grant", "error_description": "Token has been expired or "
                                      "revoked."}, status=400)
        token = f"ya29.fake-{next(self._ids)}-{random_ids.token_hex(8)}"
        self.access_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                                  "scope": "https://www.googleapis.com/auth/youtube.upload"})

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "").removeprefix("Bearer ") in self.access_tokens

    async def _start(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "Request had invalid authentication credentials.", "authError")
        if request.query.get("uploadType") != "resumable" or "snippet" not in request.query.get("part", ""):
            return _error(400, "Media upload requires uploadType=resumable here", "invalidParameter")
        if self.scenario == "quota":
            return _error(403, "The request cannot be completed because you have exceeded your quota.",
                          "quotaExceeded", domain="youtube.quota")
        resource = await request.json()
        title = resource.get("snippet", {}).get("title", "")
        status = resource.get("status", {})
        if not title or len(title) > 100:
            return _error(400, "The request metadata specifies an invalid video title.", "invalidTitle")
        if status.get("privacyStatus") not in ("public", "unlisted", "private") or not isinstance(
                status.get("selfDeclaredMadeForKids"), bool):
            return _error(400, "The request metadata is invalid.", "invalidVideoMetadata")
        if "publishAt" in status and not _future(status["publishAt"]) or (
                "publishAt" in status and status.get("privacyStatus") != "private"):
            return _error(400, "The request metadata specifies an invalid scheduled publishing time.",
                          "invalidPublishAt")
        size = int(request.headers.get("X-Upload-Content-Length", "0"))
        session = UploadSession(random_ids.token_urlsafe(12), size, resource)
        self.sessions[session.id] = session
        location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"
        return web.Response(status=200, headers={"Location": location})

    async def _upload(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.query.get("upload_id", ""))
        if session is None:
            return _error(404, "The upload session was not found.", "notFound")
        unit, _, spec = request.headers.get("Content-Range", "").partition(" ")
        span, _, total = spec.partition("/")
        body = await request.read()
        if unit != "bytes" or total != str(session.size):
            return _error(400, "Content-Range does not match the session's size", "badContent")
        if span != "*":
            first = int(span.partition("-")[0])
            if first != len(session.data) or session.video_id is not None:
                return _error(400, "The upload does not continue where the session stands", "badContent")
            if self.scenario == "cut_upload" and not self._cut:
                self._cut = True  # half arrives, then the connection is lost (the client sees a 503)
                session.data.extend(body[:len(body) // 2])
                return _error(503, "Backend Error", "backendError")
            session.data.extend(body)
        if len(session.data) < session.size:
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
            return web.Response(status=308, headers=headers)
        if session.video_id is None:
            session.video_id = random_ids.token_urlsafe(8)[:11]
            self.videos[session.video_id] = {**session.resource, "id": session.video_id,
                                             "status": {**session.resource["status"], "uploadStatus": "uploaded"}}
            await self.late_answer(self.complete_delay_s)  # posted; a kill can come before the answer
            return web.json_response(self.videos[session.video_id], status=201)
        return web.json_response(self.videos[session.video_id], status=200)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, "Request had invalid authentication credentials.", "authError")
        ids = request.query.get("id", "").split(",")
        items = [{"kind": "youtube#video", "id": i, "statistics": self.statistics[i]} for i in ids
                 if i in self.videos and i in self.statistics]
        return web.json_response({"kind": "youtube#videoListResponse", "items": items})


def _future(stamp: object) -> bool:
    """An ISO 8601 time (YYYY-MM-DDThh:mm:ss.sZ) still to come, as publishAt must be."""
    try:
        when = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    return when > datetime.now(timezone.utc)


def _error(status: int, message: str, reason: str, domain: str = "youtube.video") -> web.Response:
    return web.json_response({"error": {"code": status, "message": message,
                                        "errors": [{"message": message, "domain": domain, "reason": reason}]}},
                             status=status)
