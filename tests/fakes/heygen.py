"""HeyGen's v2 generate and v1 status endpoints as its documentation describes them (reference/provider_apis.md §6)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi


def failure(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"data": None, "error": {"code": code, "message": message}}, status=status,
                             headers=headers)


class FakeHeygen(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v2/video/generate", self.generate)
        router.add_get("/v1/video_status.get", self.status)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("X-Api-Key") != self.accepted_key:
            return failure(401, "authentication_failed", "Unauthorized: invalid API key")
        return None

    async def generate(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        scenes = body.get("video_inputs")
        if not scenes or not isinstance(scenes, list):
            return failure(400, "invalid_parameter", "video_inputs is invalid: field required")
        scene = scenes[0]
        if scene.get("character", {}).get("type") not in ("avatar", "talking_photo") or \
                not scene.get("character", {}).get("avatar_id"):
            return failure(400, "invalid_parameter", "character is invalid")
        voice = scene.get("voice", {})
        if voice.get("type") != "text" or not voice.get("voice_id") or not 0 < len(voice.get("input_text", "")) < 5000:
            return failure(400, "invalid_parameter", "voice is invalid")
        size = body.get("dimension", {"width": 1920, "height": 1080})
        if any(v % 2 or not 128 <= v <= 4096 for v in (size.get("width", 0), size.get("height", 0))):
            return failure(400, "invalid_parameter", "Width and height must be even, between 128 and 4096")
        if self.scenario == "rate_limit":
            return failure(429, "rate_limit_exceeded", "Too many requests", **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return failure(400, "insufficient_credit", "Insufficient credit to generate the video")
        if self.scenario == "server_error":
            return failure(500, "internal_error", "Internal server error")
        task = self.new_task(body, prefix=uuid.uuid4().hex)
        answer = {"error": None, "data": {"video_id": task.id}}
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(answer)[:30], content_type="application/json")
        return web.json_response(answer)

    async def status(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.query.get("video_id", ""))
        if task is None:
            return web.json_response({"code": 400, "message": "video not found", "data": None}, status=400)
        data: dict[str, Any] = {"id": task.id, "video_url": None, "thumbnail_url": None, "duration": None,
                                "created_at": 1700000000, "error": None, "callback_id": task.body.get("callback_id")}
        if task.polls == 1:
            data["status"] = "waiting"
        elif task.running(self.scenario):
            data["status"] = "processing"
        elif self.scenario == "moderation":
            data.update(status="failed", error={"code": 40102, "message": "moderation rejected",
                                                "detail": "The script was flagged by content moderation"})
        else:
            data.update(status="completed", video_url=self.media_link(), duration=5.0)
        return web.json_response({"code": 100, "message": "Success", "data": data})
