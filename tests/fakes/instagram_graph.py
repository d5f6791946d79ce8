"""A loopback fake of the Instagram Graph API's content publishing (Meta's Content Publishing guide and its
IG User Media, media_publish, content_publishing_limit and error-code references): the same paths on
`/<version>/...` for both login hosts, the token in `Authorization: Bearer` (or `access_token`), errors in the Graph
envelope `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

Like Meta, it fetches the container's `video_url` itself (so the link must really work: here, a presigned link to
moto's S3 server) and checks it is an MP4; a container is processed over a few polls, expires when told to, and
publishes once at most (a second `media_publish` of it is refused). Scenarios play the failures a publisher meets:
rate limits (with the usage header, garbage or not), an invalid token, a full quota, a container that expires or
that Meta cannot process. A resumable container (`upload_type=resumable`, Facebook Login) gets its bytes posted to its
`uri` (rupload.facebook.com's protocol: `Authorization: OAuth`, `offset`, `file_size`, `{"success": true}`, errors as
`{"debug_info": {"retriable", "type", "message"}}`) and is processed once they came.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.base import LoopbackServer

TOKEN = "IGAAfake-token-456"
USER_ID = "17841400000000001"
SCENARIOS = ("ok", "rate_limit", "garbage_usage_header", "bad_token", "expired_token", "expire_first",
             "cannot_process", "cut_upload")
QUOTA_WINDOW_S = 86_400
PROCESSING_POLLS = 2  # polls a container answers IN_PROGRESS before FINISHED


@dataclass
class FakeContainer:
    id: str
    caption: str
    video_size: int
    cover_url: str
    ai_generated: bool
    share_to_feed: bool
    polls: int = 0
    status: str = "IN_PROGRESS"
    uploaded: bool = True  # a resumable container is processed once its bytes came


class FakeGraph(LoopbackServer):
    def __init__(self, scenario: str = "ok") -> None:
        assert scenario in SCENARIOS, scenario
        self.scenario = scenario
        self.containers: dict[str, FakeContainer] = {}
        self.media: list[dict[str, Any]] = []  # posts published, newest last
        self.publish_calls = 0
        self.requests: list[str] = []  # "METHOD /path" of every call
        self.hold_processing = False  # containers stay IN_PROGRESS while set
        self.publish_delay_s = 0.0  # media_publish posts at once, then waits this long before it answers
        self.list_delay_s = 0.0  # the account's media list waits this long before it answers
        self.hold_next_look_s = 0.0  # the next look at a container waits this long (once)
        self.quota_total = 50
        self._ids = itertools.count(1)
        self._limited = False
        self.tokens = {TOKEN}  # every token still valid (a renewed one does not end the old one)
        self.app = web.Application(client_max_size=256 * 2**20)  # a Reel in one upload
        self.uploads = 0  # bytes sent to rupload (resumable containers), whole or cut
        self.app.router.add_get("/refresh_access_token", self._refresh)
        self.app.router.add_post("/ig-api-upload/{version}/{container}", self._upload)
        self.app.router.add_route("*", "/{version}/{path:.*}", self._route)

    async def _route(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} /{request.match_info['path']}")
        if not request.match_info["version"].startswith("v"):
            return _error(400, "Unknown path components", 2500, "OAuthException")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or request.query.get("access_token")
        if token not in self.tokens or self.scenario == "bad_token":
            return _error(400, "Invalid OAuth access token - Cannot parse access token", 190, "OAuthException")
        if self.scenario == "expired_token":  # a long-lived token is good for 60 days
            return _error(400, "Error validating access token: Session has expired on Friday, 04-Dec-26 10:00:00 "
                          "PST.", 190, "OAuthException", subcode=463)
        if self.scenario in ("rate_limit", "garbage_usage_header") and not self._limited:
            self._limited = True  # the first call is refused, the next ones go through
            usage = ("{not json" if self.scenario == "garbage_usage_header" else
                     f'{{"{USER_ID}": [{{"type": "instagram", "call_count": 100, '
                     '"estimated_time_to_regain_access": 0.02}]}')
            return _error(400, "Application request limit reached", 4, "OAuthException",
                          headers={"X-Business-Use-Case-Usage": usage})
        parts = request.match_info["path"].strip("/").split("/")
        form = dict(await request.post()) if request.method == "POST" else {}
        params = {**request.query, **{k: str(v) for k, v in form.items()}}
        if parts == [USER_ID, "content_publishing_limit"] and request.method == "GET":
            return self._limit()
        if parts == [USER_ID, "media"] and request.method == "POST":
            return await self._create(params, request.match_info["version"])
        if parts == [USER_ID, "media"] and request.method == "GET":
            await self.late_answer(self.list_delay_s)
            data = [{"id": m["id"], "caption": m["caption"], "timestamp": m["timestamp"]} for m in self.media[::-1]]
            return web.json_response({"data": data[:int(params.get("limit", "25"))]})
        if parts == [USER_ID, "media_publish"] and request.method == "POST":
            return await self._publish(params.get("creation_id", ""))
        if len(parts) == 1 and parts[0] in self.containers and request.method == "GET":
            held, self.hold_next_look_s = self.hold_next_look_s, 0.0
            await self.late_answer(held)
            return self._container(self.containers[parts[0]])
        media = next((m for m in self.media if m["id"] == parts[0]), None)
        if media is not None and parts[1:] == ["insights"] and request.method == "GET":
            return self._insights(media, params.get("metric", ""))
        if media is not None and len(parts) == 1 and request.method == "GET":
            return web.json_response({"id": media["id"], "permalink": media["permalink"],
                                      "shortcode": media["shortcode"], "timestamp": media["timestamp"]})
        return _error(400, f"Unsupported {request.method} request. Object with ID '{parts[0]}' does not exist",
                      100, "GraphMethodException", subcode=33)

    def _insights(self, media: dict[str, Any], metric: str) -> web.Response:
        """A Reel's lifetime insights (Meta's media insights reference): each asked metric as `values[0].value`;
        deprecated ones refused as Meta does, and none at all for a post with too few viewers."""
        asked = metric.split(",")
        if any(name in ("plays", "impressions", "video_views") for name in asked):
            return _error(400, "(#100) The metric is no longer supported", 100, "OAuthException")
        counts = media.get("insights")
        if counts is None:
            return _error(400, "(#10) Not enough viewers for the media to show insights", 10, "OAuthException")
        data = [{"name": name, "period": "lifetime", "values": [{"value": counts[name]}], "id": f"{media['id']}/"
                 f"insights/{name}/lifetime"} for name in asked if name in counts]
        return web.json_response({"data": data})

    async def _refresh(self, request: web.Request) -> web.Response:
        """Instagram Login's token renewal: `grant_type=ig_refresh_token` and the token as `access_token`; a new
        long-lived token (60 days) comes back."""
        if request.query.get("grant_type") != "ig_refresh_token":
            return _error(400, "Unsupported grant_type", 100, "OAuthException")
        if request.query.get("access_token") not in self.tokens:
            return _error(400, "Invalid OAuth access token - Cannot parse access token", 190, "OAuthException")
        fresh = f"IGAArenewed-{next(self._ids)}-token"
        self.tokens.add(fresh)
        return web.json_response({"access_token": fresh, "token_type": "bearer", "expires_in": 5_183_944})

    def seed_posts(self, count: int, age_s: float) -> None:
        """`count` posts the account published `age_s` seconds ago (by hand, or another tool)."""
        for _ in range(count):
            media_id = str(18_000_000_000_000_000 + next(self._ids))
            self.media.append({"id": media_id, "caption": "posted elsewhere", "shortcode": media_id[-6:],
                               "permalink": f"https://www.instagram.com/reel/{media_id[-6:]}/", "container": "",
                               "published_at": time.time() - age_s, "timestamp": "2026-01-01T00:00:00+0000"})

    def _used(self) -> int:
        """Posts published in the rolling window, as content_publishing_limit counts them."""
        return sum(time.time() - media["published_at"] < QUOTA_WINDOW_S for media in self.media)

    def _limit(self) -> web.Response:
        used = self._used()
        return web.json_response({"data": [{"quota_usage": used,
                                            "config": {"quota_total": self.quota_total,
                                                       "quota_duration": QUOTA_WINDOW_S}}]})

    async def _create(self, params: dict[str, str], version: str) -> web.Response:
        if params.get("media_type") != "REELS":
            return _error(400, "The parameter media_type must be REELS for a video", 100, "OAuthException")
        if len(params.get("caption", "")) > 2200:
            return _error(400, "The caption is too long", 100, "OAuthException", subcode=2207018)
        if params.get("upload_type") == "resumable":  # the bytes come next, to the container's upload URI
            if "video_url" in params:
                return _error(400, "video_url cannot be used with upload_type=resumable", 100, "OAuthException")
            container = FakeContainer(str(17_900_000_000_000_000 + next(self._ids)), params.get("caption", ""), 0,
                                      "", params.get("is_ai_generated") == "true",
                                      params.get("share_to_feed", "true") == "true", uploaded=False)
            self.containers[container.id] = container
            return web.json_response({"id": container.id,
                                      "uri": f"{self.url}/ig-api-upload/{version}/{container.id}"})
        try:  # Meta cURLs the link: it must be public and an MP4
            async with aiohttp.ClientSession() as session, session.get(params.get("video_url", "")) as answer:
                video = await answer.read() if answer.status == 200 else b""
        except (aiohttp.ClientError, ValueError):
            video = b""
        if video[4:8] != b"ftyp":
            return _error(400, "The video could not be fetched from the URI", -2, "OAuthException", subcode=2207003)
        container = FakeContainer(str(17_900_000_000_000_000 + next(self._ids)), params.get("caption", ""),
                                  len(video), params.get("cover_url", ""), params.get("is_ai_generated") == "true",
                                  params.get("share_to_feed", "true") == "true")
        if self.scenario == "cannot_process":
            container.status = "ERROR"
        self.containers[container.id] = container
        return web.json_response({"id": container.id})

    async def _upload(self, request: web.Request) -> web.Response:
        """rupload.facebook.com: the whole file in one POST (`Authorization: OAuth`, `offset: 0`, `file_size`)."""
        self.requests.append(f"POST /ig-api-upload/{request.match_info['container']}")
        container = self.containers.get(request.match_info["container"])
        if request.headers.get("Authorization", "") not in {f"OAuth {token}" for token in self.tokens}:
            return web.json_response({"debug_info": {"retriable": False, "type": "AuthError",
                                                     "message": "Invalid OAuth access token"}}, status=401)
        body = await request.read()
        self.uploads += 1
        if self.scenario == "cut_upload" and self.uploads == 1:  # the connection broke halfway
            return web.json_response({"debug_info": {"retriable": True, "type": "PartialRequestError",
                                                     "message": "Partial request (did not match length of file)"}},
                                     status=500)
        if container is None or request.headers.get("offset") != "0" or request.headers.get(
                "file_size") != str(len(body)) or body[4:8] != b"ftyp":
            return web.json_response({"debug_info": {"retriable": False, "type": "ProcessingFailedError",
                                                     "message": "Request processing failed"}}, status=400)
        container.video_size, container.uploaded = len(body), True
        return web.json_response({"success": True, "message": "Upload successful."})

    def _container(self, container: FakeContainer) -> web.Response:
        container.polls += 1
        if container.status == "IN_PROGRESS" and container.uploaded and not self.hold_processing:
            if self.scenario == "expire_first" and len(self.containers) == 1:
                container.status = "EXPIRED"
            elif container.polls > PROCESSING_POLLS:
                container.status = "FINISHED"
        status = {"ERROR": "Error: the video's format is not supported", "EXPIRED": "Expired"}.get(
            container.status, container.status.title())
        return web.json_response({"id": container.id, "status_code": container.status, "status": status})

    async def _publish(self, creation_id: str) -> web.Response:
        self.publish_calls += 1
        if self._used() >= self.quota_total:
            return _error(400, "You reached maximum number of posts that is allowed to be published", 9,
                          "OAuthException", subcode=2207042)
        container = self.containers.get(creation_id)
        if container is None:
            return _error(400, "Media ID is not available", 9007, "OAuthException", subcode=2207027)
        if container.status != "FINISHED":  # not processed, expired, or published already: one post per container
            return _error(400, f"The media is not ready for publishing ({container.status})", 9007,
                          "OAuthException", subcode=2207027)
        container.status = "PUBLISHED"
        media_id = str(18_000_000_000_000_000 + next(self._ids))
        self.media.append({"id": media_id, "caption": container.caption, "shortcode": f"C{media_id[-6:]}",
                           "permalink": f"https://www.instagram.com/reel/C{media_id[-6:]}/",
                           "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                           "published_at": time.time(), "container": container.id})
        if self.publish_delay_s:
            await self.late_answer(self.publish_delay_s)  # posted; the answer is late (a kill can come before it)
        return web.json_response({"id": media_id})


def _error(status: int, message: str, code: int, kind: str, subcode: int | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjK"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return web.json_response({"error": error}, status=status, headers=headers)
