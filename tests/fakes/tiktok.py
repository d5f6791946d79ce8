"""A loopback fake of TikTok's Content Posting API (Direct Post with FILE_UPLOAD), its OAuth token endpoint
(`grant_type=refresh_token`) and the Display API's `video/query`, as documented: every answer is
`{"data": ..., "error": {"code", "message", "log_id"}}`.

`video/init` checks what TikTok checks — the privacy level among the creator's options (an unaudited app: SELF_ONLY
only), the chunking (under 5 MB one chunk; else chunks of 5-64 MB, the last taking the remainder, at most 1000) — and
returns a publish id and an upload URL. Chunks are PUT in order with `Content-Range: bytes FIRST-LAST/SIZE` (206,
then 201 for the last); `status/fetch` tells the bytes held and, once whole, PUBLISH_COMPLETE. Scenarios: an upload
cut off mid-chunk, the per-minute rate limit, the creator's daily cap, a refused refresh token, a refresh token that
rotates.
"""
from __future__ import annotations

import itertools
import secrets as random_ids
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.base import LoopbackServer

CLIENT_KEY = "awfaketiktokclientkey"
CLIENT_SECRET = "fake-tiktok-client-secret-55"
REFRESH_TOKEN = "rft.fake-tiktok-refresh-token-77"
USERNAME = "mia.moves"
SCENARIOS = ("ok", "cut_upload", "rate_limit", "daily_cap", "revoked", "rotates")
MIN_CHUNK, MAX_CHUNK = 5 * 1024 * 1024, 64 * 1024 * 1024


@dataclass
class FakePost:
    publish_id: str
    size: int
    chunk: int
    chunks: int
    post_info: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    post_id: str | None = None  # once whole and public; a private post has none


class FakeTikTok(LoopbackServer):
    def __init__(self, scenario: str = "ok", audited: bool = False) -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.audited = audited
        self.posts: dict[str, FakePost] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens = {REFRESH_TOKEN}
        self.statistics: dict[str, dict[str, int]] = {}  # post id → counts, once the test sets them
        self.requests: list[str] = []
        self._ids = itertools.count(1)
        self._cut = False
        self.complete_delay_s = 0.0  # the last chunk is kept and the post made, then the answer waits this long
        self.app = web.Application(client_max_size=1 << 30)
        for path, handler in (("/v2/oauth/token/", self._token),
                              ("/v2/post/publish/creator_info/query/", self._creator_info),
                              ("/v2/post/publish/video/init/", self._init),
                              ("/v2/post/publish/status/fetch/", self._status),
                              ("/v2/video/query/", self._query)):
            self.app.router.add_post(path, handler)
        self.app.router.add_put("/upload/", self._upload)

    @property
    def complete(self) -> list[FakePost]:
        return [post for post in self.posts.values() if len(post.data) == post.size]

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_key") != CLIENT_KEY or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client", "error_description": "Client key or secret is "
                                      "incorrect.", "log_id": _log_id()}, status=401)
        if form.get("refresh_token") not in self.refresh_tokens or self.scenario == "revoked":
            return web.json_response({"error": "invalid_grant", "error_description": "Refresh token is invalid or "
                                      "expired.", "log_id": _log_id()}, status=400)
        refresh = str(form["refresh_token"])
        if self.scenario == "rotates":
            refresh = f"rft.rotated-{next(self._ids)}-{random_ids.token_hex(6)}"
            self.refresh_tokens = {refresh}  # the old one stops working
        token = f"act.fake-{next(self._ids)}-{random_ids.token_hex(8)}"
        self.access_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 86_400, "open_id": "fake-open-id",
                                  "refresh_token": refresh, "refresh_expires_in": 31_536_000,
                                  "scope": "video.publish,video.list", "token_type": "Bearer"})

    def _refused(self, request: web.Request) -> web.Response | None:
        self.requests.append(request.path)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.access_tokens:
            return _answer({}, 401, "access_token_invalid", "The access token is invalid or not found in the "
                                                             "request.")
        return None

    def _options(self) -> list[str]:
        return (["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] if self.audited
                else ["SELF_ONLY"])

    async def _creator_info(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        return _answer({"creator_avatar_url": "https://p16.example/avatar.jpg", "creator_username": USERNAME,
                        "creator_nickname": "Mia", "privacy_level_options": self._options(),
                        "comment_disabled": False, "duet_disabled": False, "stitch_disabled": False,
                        "max_video_post_duration_sec": 600})

    async def _init(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        if self.scenario == "rate_limit":
            return _answer({}, 429, "rate_limit_exceeded", "API rate limit was exceeded, please retry later.")
        if self.scenario == "daily_cap":
            return _answer({}, 403, "spam_risk_too_many_posts", "The daily post cap of this creator is reached.")
        body = await request.json()
        post_info, source = body.get("post_info", {}), body.get("source_info", {})
        if post_info.get("privacy_level") not in self._options():
            if not self.audited:
                return _answer({}, 403, "unaudited_client_can_only_post_to_private_accounts",
                               "Please review our integration guidelines.")
            return _answer({}, 400, "privacy_level_option_mismatch", "privacy_level is not among the options.")
        if len(post_info.get("title", "").encode("utf-16-le")) > 2200 * 2:
            return _answer({}, 400, "invalid_params", "The title is too long.")
        size, chunk, chunks = (source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count"))
        if source.get("source") != "FILE_UPLOAD" or not all(isinstance(v, int) and v > 0 for v in (size, chunk,
                                                                                                    chunks)):
            return _answer({}, 400, "invalid_params", "source_info is invalid.")
        whole = size < MIN_CHUNK and chunk == size and chunks == 1
        split = (size >= MIN_CHUNK and MIN_CHUNK <= chunk <= MAX_CHUNK and chunks == size // chunk
                 and size - (chunks - 1) * chunk <= 2 * MAX_CHUNK and chunks <= 1000)
        if not (whole or split):
            return _answer({}, 400, "invalid_params", "The chunk size or total chunk count is invalid.")
        post = FakePost(f"v_pub_file~v2-1.{next(self._ids)}{random_ids.randbelow(10**9)}", size, chunk, chunks,
                        post_info)
        self.posts[post.publish_id] = post
        token = random_ids.token_urlsafe(12)
        return _answer({"publish_id": post.publish_id,
                        "upload_url": f"{self.url}/upload/?upload_id={post.publish_id}&upload_token={token}"})

    async def _upload(self, request: web.Request) -> web.Response:
        post = self.posts.get(request.query.get("upload_id", ""))
        if post is None:
            return web.Response(status=404, text="upload not found")
        unit, _, spec = request.headers.get("Content-Range", "").partition(" ")
        span, _, total = spec.partition("/")
        first, _, last = span.partition("-")
        body = await request.read()
        expected_last = min(len(post.data) + post.chunk, post.size) - 1
        if len(post.data) // post.chunk == post.chunks - 1:
            expected_last = post.size - 1  # the last chunk takes the remainder
        if (unit != "bytes" or total != str(post.size) or first != str(len(post.data)) or last != str(expected_last)
                or len(body) != expected_last - len(post.data) + 1):
            return web.Response(status=416, text="Content-Range does not continue the upload")
        if self.scenario == "cut_upload" and not self._cut and post.chunks > 1 and len(post.data) > 0:
            self._cut = True  # the second chunk is lost on its way: nothing of it is kept
            return web.Response(status=503, text="upstream connect error")
        post.data.extend(body)
        if len(post.data) < post.size:
            return web.Response(status=206)
        if post.post_info.get("privacy_level") != "SELF_ONLY":
            post.post_id = str(7_400_000_000_000_000_000 + next(self._ids))
        await self.late_answer(self.complete_delay_s)  # posted; a kill can come before the answer
        return web.Response(status=201)

    async def _status(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        post = self.posts.get((await request.json()).get("publish_id", ""))
        if post is None:
            return _answer({}, 400, "invalid_publish_id", "The publish_id does not exist.")
        whole = len(post.data) == post.size
        return _answer({"status": "PUBLISH_COMPLETE" if whole else "PROCESSING_UPLOAD",
                        "publicaly_available_post_id": [post.post_id] if whole and post.post_id else [],
                        "uploaded_bytes": len(post.data)})

    async def _query(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        wanted = (await request.json()).get("filters", {}).get("video_ids", [])
        videos = [{"id": i, **self.statistics[i]} for i in wanted if i in self.statistics]
        return _answer({"videos": videos, "cursor": 0, "has_more": False})


def _answer(data: dict[str, Any], status: int = 200, code: str = "ok", message: str = "") -> web.Response:
    return web.json_response({"data": data, "error": {"code": code, "message": message, "log_id": _log_id()}},
                             status=status)


def _log_id() -> str:
    return f"2026120412000{random_ids.token_hex(8).upper()}"
