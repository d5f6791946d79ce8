"""HeyGen's v3 videos API as its CLI (generated from HeyGen's OpenAPI spec) and docs describe it: create, get and
list by title; errors as `{"error": {"code", "message"}}`. The v1/v2 endpoints are gone (shut down 2026-10-31)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

FIELDS = {"type", "avatar_id", "script", "voice_id", "voice_settings", "audio_url", "audio_asset_id", "aspect_ratio",
          "resolution", "engine", "expressiveness", "motion_prompt", "background", "remove_background", "fit",
          "output_format", "caption", "title", "callback_url", "callback_id", "watermark"}
PAGE = 100  # the most one list answer holds


def failure(status: int, code: str, message: str, param: str | None = None, **headers: str) -> web.Response:
    error = {"code": code, "message": message, **({"param": param} if param else {})}
    return web.json_response({"error": error}, status=status, headers=headers)


def invalid(body: dict[str, Any]) -> web.Response | None:
    """What `POST /v3/videos` answers 400 to (type "avatar")."""
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        return failure(400, "invalid_parameter", f"Unknown field(s): {', '.join(unknown)}", unknown[0])
    if body.get("type") != "avatar":
        return failure(400, "invalid_parameter", "type: must be one of avatar, image, cinematic_avatar, studio",
                       "type")
    if not body.get("avatar_id"):
        return failure(400, "invalid_parameter", "avatar_id is required", "avatar_id")
    if not 1 <= len(body.get("script") or "") <= 5000:
        return failure(400, "invalid_parameter", "script: 1 to 5000 characters", "script")
    if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "4:5", "5:4", "1:1", "auto"):
        return failure(400, "invalid_parameter", "aspect_ratio is invalid", "aspect_ratio")
    if body.get("resolution") not in (None, "720p", "1080p", "4k"):
        return failure(400, "invalid_parameter", "resolution is invalid", "resolution")
    if (body.get("engine") or {"type": "avatar_iv"}).get("type") not in ("avatar_iv", "avatar_v", "avatar_iii"):
        return failure(400, "invalid_parameter", "engine.type is invalid", "engine")
    return None


class FakeHeygen(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v3/videos", self.create)
        router.add_get("/v3/videos", self.listing)
        router.add_get("/v3/videos/{id}", self.detail)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-api-key") != self.accepted_key:
            return failure(401, "unauthorized", "The API key is invalid, expired or missing")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        if (problem := invalid(body)) is not None:
            return problem
        if self.scenario == "rate_limit":
            return failure(429, "rate_limit_exceeded", "Too many requests", **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return failure(402, "insufficient_credit", "Your account has 5 credits but this video requires 10 "
                                                       "credits.")
        if self.scenario == "server_error":
            return failure(500, "internal_error", "Internal server error")
        task = self.new_task(body, prefix=uuid.uuid4().hex)
        answer = {"data": {"video_id": task.id, "status": "waiting", "output_format": "mp4"}}
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(answer)[:30], content_type="application/json")
        return web.json_response(answer)

    def view(self, task_id: str) -> dict[str, Any]:
        task = self.tasks[task_id]
        data: dict[str, Any] = {"id": task.id, "title": task.body.get("title"), "status": "pending",
                                "created_at": 1700000000, "video_url": None, "thumbnail_url": None, "duration": None}
        if task.polls <= 1:
            return data
        if task.running(self.scenario):
            return {**data, "status": "processing"}
        if self.scenario == "moderation":
            return {**data, "status": "failed", "failure_code": "moderation_rejected",
                    "failure_message": "The script was flagged by content moderation"}
        return {**data, "status": "completed", "video_url": self.media_link(), "duration": 5.0}

    async def detail(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return failure(404, "video_not_found", "Video not found")
        return web.json_response({"data": self.view(task.id)})

    async def listing(self, request: web.Request) -> web.Response:
        """Newest first; `title` filters by substring; `token` is the offset of the next page."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        title, start = request.query.get("title", ""), int(request.query.get("token", "0"))
        limit = min(int(request.query.get("limit", "10")), PAGE)
        matching = [task_id for task_id in reversed(self.tasks)
                    if title in (self.tasks[task_id].body.get("title") or "")]
        page = matching[start:start + limit]
        more = start + limit < len(matching)
        return web.json_response({"data": [self.view(task_id) for task_id in page], "has_more": more,
                                  "next_token": str(start + limit) if more else None})
