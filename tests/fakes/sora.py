"""OpenAI's Videos API as the official SDK speaks it (reference/provider_apis.md §2): multipart create, `seconds` as a
string, the `openai-poll-after-ms` hint, binary content, OpenAI's error envelope."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

POLL_AFTER_MS = "1"


def failure(status: int, message: str, code: str | None, kind: str = "invalid_request_error",
            **headers: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code}},
                             status=status, headers=headers)


SIZES = {"sora-2": ("720x1280", "1280x720"), "sora-2-pro": ("720x1280", "1280x720", "1024x1792", "1792x1024")}


class FakeSora(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/videos", self.create)
        router.add_get("/videos/{id}", self.retrieve)
        router.add_get("/videos/{id}/content", self.content)
        router.add_delete("/videos/{id}", self.delete)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return failure(401, "Incorrect API key provided.", "invalid_api_key")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        if not request.content_type.startswith("multipart/form-data"):
            return failure(400, "Expected multipart/form-data", None)
        form: dict[str, Any] = dict(await request.post())
        if not form.get("prompt") or form.get("seconds", "4") not in ("4", "8", "12") or \
                form.get("size", "720x1280") not in SIZES.get(str(form.get("model", "sora-2")), ()):
            return failure(400, f"Invalid value: {form}", "invalid_value")
        if self.scenario == "rate_limit":
            return failure(429, "Rate limit reached for requests", "rate_limit_exceeded", "requests",
                           **{"retry-after": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return failure(429, "You exceeded your current quota, please check your plan and billing details.",
                           "insufficient_quota", "insufficient_quota")
        if self.scenario == "server_error":
            return failure(500, "The server had an error while processing your request.", None, "server_error")
        task = self.new_task(form, prefix="video")
        video = self.view(task.id, "queued", progress=0)
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(video)[:18], content_type="application/json")
        return web.json_response(video)

    def view(self, task_id: str, status: str, **extra: Any) -> dict[str, Any]:
        body = self.tasks[task_id].body
        return {"id": task_id, "object": "video", "model": body.get("model", "sora-2"), "status": status,
                "progress": 0, "created_at": 1712697600, "completed_at": None, "expires_at": None,
                "prompt": body.get("prompt"), "size": body.get("size", "720x1280"),
                "seconds": body.get("seconds", "4"), "remixed_from_video_id": None, "error": None, **extra}

    async def retrieve(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return failure(404, "Video not found", "not_found")
        headers = {"openai-poll-after-ms": POLL_AFTER_MS}
        if task.polls == 1:
            return web.json_response(self.view(task.id, "queued"), headers=headers)
        if task.running(self.scenario):
            return web.json_response(self.view(task.id, "in_progress", progress=int(task.progress() * 100)),
                                     headers=headers)
        if self.scenario == "moderation":
            return web.json_response(self.view(task.id, "failed", error={
                "code": "moderation_blocked", "message": "Your request was blocked by our moderation system."}))
        return web.json_response(self.view(task.id, "completed", progress=100, completed_at=1712697700))

    async def delete(self, request: web.Request) -> web.Response:
        """OpenAI's `videos.delete`: the video is gone, its id answered with `deleted`."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        if self.tasks.pop(request.match_info["id"], None) is None:
            return failure(404, "Video not found", "not_found")
        return web.json_response({"id": request.match_info["id"], "object": "video.deleted", "deleted": True})

    async def content(self, request: web.Request) -> web.StreamResponse:
        if (refusal := self.refused(request)) is not None:
            return refusal
        if request.match_info["id"] not in self.tasks:
            return failure(404, "Video not found", "not_found")
        raise web.HTTPFound(self.media_link())
