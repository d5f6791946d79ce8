"""Replicate's predictions API as its official client describes it (reference/provider_apis.md §9): RFC 7807 errors."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

MODEL = "google/veo-3.1-fast"
INPUTS = {"prompt", "aspect_ratio", "duration", "resolution", "generate_audio", "negative_prompt", "seed", "image"}


def problem(status: int, title: str, detail: str, **headers: str) -> web.Response:
    return web.json_response({"type": "about:blank", "title": title, "status": status, "detail": detail},
                             status=status, headers=headers, content_type="application/problem+json")


class FakeReplicate(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(f"/v1/models/{MODEL}/predictions", self.create)
        router.add_get("/v1/predictions/{id}", self.prediction)
        router.add_post("/v1/predictions/{id}/cancel", self.cancel)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        inputs = body.get("input")
        if set(body) - {"input", "webhook", "webhook_events_filter", "stream"} or not isinstance(inputs, dict):
            return problem(422, "Input validation failed", "input is required")
        if set(inputs) - INPUTS or not inputs.get("prompt") or inputs.get("duration") not in (4, 6, 8) or \
                inputs.get("aspect_ratio") not in ("16:9", "9:16"):
            return problem(422, "Input validation failed", f"invalid input: {inputs}")
        if self.scenario == "rate_limit":
            return problem(429, "Too Many Requests", "Request was throttled. Your rate limit resets in ~7s.",
                           **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return problem(402, "Insufficient credit", "You have insufficient credit to run this model.")
        if self.scenario == "server_error":
            return problem(500, "Internal Server Error", "Something went wrong")
        task = self.new_task(body, prefix=uuid.uuid4().hex[:20])
        prediction = self.view(task.id, "starting")
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(prediction)[:15], content_type="application/json", status=201)
        return web.json_response(prediction, status=201)

    def view(self, task_id: str, status: str, **extra: Any) -> dict[str, Any]:
        return {"id": task_id, "model": MODEL, "version": "hidden", "status": status,
                "input": self.tasks[task_id].body["input"], "output": None, "logs": "", "error": None,
                "created_at": "2026-11-21T10:00:00Z",
                "urls": {"get": f"{self.url}/v1/predictions/{task_id}",
                         "cancel": f"{self.url}/v1/predictions/{task_id}/cancel"}, **extra}

    async def prediction(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return problem(404, "Not found", "The requested resource could not be found")
        if task.cancelled:
            return web.json_response(self.view(task.id, "canceled"))
        if task.polls == 1:
            return web.json_response(self.view(task.id, "starting"))
        if task.running(self.scenario):
            return web.json_response(self.view(task.id, "processing", logs="generating..."))
        if self.scenario == "moderation":
            return web.json_response(self.view(task.id, "failed", error="The input was flagged as sensitive (E005). "
                                                                        "Please try again with different inputs."))
        return web.json_response(self.view(task.id, "succeeded", output=self.media_link(),
                                           metrics={"predict_time": 41.2}))

    async def cancel(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return problem(404, "Not found", "The requested resource could not be found")
        task.cancelled = True
        return web.json_response(self.view(task.id, "canceled"))
