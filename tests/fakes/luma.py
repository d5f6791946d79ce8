"""Luma's Dream Machine API as its official SDK describes it (reference/provider_apis.md §5)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

FIELDS = {"model", "prompt", "aspect_ratio", "duration", "resolution", "loop", "generation_type", "concepts",
          "keyframes", "callback_url"}


def detail(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"detail": message}, status=status, headers=headers)


class FakeLuma(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        for path in ("/generations", "/generations/video"):  # older docs, newer SDK
            router.add_post(path, self.create)
        router.add_get("/generations/{id}", self.generation)
        router.add_delete("/generations/{id}", self.delete)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return detail(401, "Invalid API key")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        if set(body) - FIELDS or body.get("model") not in ("ray-2", "ray-flash-2") or not body.get("prompt"):
            return detail(400, f"Invalid request: {sorted(set(body) - FIELDS)}")
        if body.get("aspect_ratio") not in ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21") or \
                body.get("duration", "5s") not in ("5s", "9s"):
            return detail(400, "Invalid aspect_ratio or duration")
        return self.started(body)

    def started(self, body: dict[str, Any]) -> web.Response:
        """The answer to a valid create: the scenario's refusal, or the new generation (201)."""
        if self.scenario == "rate_limit":
            return detail(429, "Too many concurrent generations", **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return detail(402, "Insufficient credits")
        if self.scenario == "server_error":
            return detail(503, "Service unavailable")
        task = self.new_task(body, prefix=str(uuid.uuid4()))
        generation = self.view(task.id, "queued")
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(generation)[:25], content_type="application/json", status=201)
        return web.json_response(generation, status=201)

    def view(self, task_id: str, state: str, **extra: Any) -> dict[str, Any]:
        task = self.tasks[task_id]
        return {"id": task_id, "generation_type": "video", "model": task.body["model"], "state": state,
                "failure_reason": None, "created_at": "2026-11-21T10:00:00Z", "assets": None,
                "request": task.body, **extra}

    async def generation(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None or task.cancelled:
            return detail(404, "Generation not found")
        if task.polls == 1:
            return web.json_response(self.view(task.id, "queued"))
        if task.running(self.scenario):
            return web.json_response(self.view(task.id, "dreaming"))
        if self.scenario == "moderation":
            return web.json_response(self.view(task.id, "failed", failure_reason="Advanced moderation failed"))
        return web.json_response(self.view(task.id, "completed", assets={"video": self.media_link()}))

    async def delete(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return detail(404, "Generation not found")
        task.cancelled = True
        return web.Response(status=204)
