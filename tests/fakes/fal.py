"""fal.ai's queue API as its official client and docs describe it (reference/provider_apis.md §10)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

APP = "fal-ai/pika"
MODEL = f"{APP}/v2.2/text-to-video"
RAY_FLASH = "fal-ai/luma-dream-machine/ray-2-flash"
# Each model's input schema on its fal page: the lengths (Ray takes "5s"/"9s", not a number) and resolutions
MODELS: dict[str, tuple[tuple[Any, ...], tuple[str, ...]]] = {MODEL: ((5, 10), ("720p", "1080p")),
                                                              RAY_FLASH: (("5s", "9s"), ("540p", "720p", "1080p"))}
FIELDS = {"prompt", "negative_prompt", "aspect_ratio", "duration", "resolution", "seed", "loop"}


def detail(status: int, message: str, kind: str | None = None, **headers: str) -> web.Response:
    body: Any = [{"loc": ["body"], "msg": message, "type": kind}] if kind else message
    return web.json_response({"detail": body}, status=status, headers=headers)


class FakeFal(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        for model in MODELS:  # requests live under the model's owner/app, its subpath dropped
            app = "/".join(model.split("/")[:2])
            router.add_post(f"/{model}", self.submit)
            router.add_get(f"/{app}/requests/{{id}}/status", self.status)
            router.add_get(f"/{app}/requests/{{id}}", self.result)
            router.add_put(f"/{app}/requests/{{id}}/cancel", self.cancel)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Key {self.accepted_key}":
            return detail(401, "Invalid Key Authorization header format or credentials")
        return None

    def urls(self, model: str, request_id: str) -> dict[str, str]:
        base = f"{self.url}/{'/'.join(model.split('/')[:2])}/requests/{request_id}"
        return {"request_id": request_id, "status_url": f"{base}/status", "response_url": base,
                "cancel_url": f"{base}/cancel"}

    async def submit(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        unknown = set(body) - FIELDS
        if unknown or not body.get("prompt") or body.get("aspect_ratio") not in ("16:9", "9:16", "1:1", "4:5", "5:4",
                                                                                "3:2", "2:3"):
            return detail(422, f"invalid input: {sorted(unknown) or body}", "value_error")
        model = request.path.lstrip("/")
        lengths, resolutions = MODELS[model]
        if body.get("duration") not in lengths:
            return detail(422, f"duration: Input should be {' or '.join(map(repr, lengths))}", "literal_error")
        if body.get("resolution", resolutions[0]) not in resolutions:
            return detail(422, f"resolution: Input should be {' or '.join(resolutions)}", "literal_error")
        if self.scenario == "rate_limit":
            return detail(429, "Too many requests", **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return detail(403, "User is locked. Reason: Exhausted balance. Top up your balance at "
                               "fal.ai/dashboard/billing.")
        if self.scenario == "server_error":
            return detail(500, "Internal server error")
        task = self.new_task(body, prefix=str(uuid.uuid4()))
        answer = {**self.urls(model, task.id), "status": "IN_QUEUE", "queue_position": 0}
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(answer)[:20], content_type="application/json")
        return web.json_response(answer)

    async def status(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return detail(404, "Request not found")
        if task.cancelled:
            return web.json_response({"status": "COMPLETED", "error": "Request was cancelled",
                                      "error_type": "request_cancelled"})
        if task.polls == 1:
            return web.json_response({"status": "IN_QUEUE", "queue_position": 0}, status=202)
        if task.running(self.scenario):
            return web.json_response({"status": "IN_PROGRESS", "logs": []}, status=202)
        if self.scenario == "moderation":
            return web.json_response({"status": "COMPLETED", "error": "The prompt was flagged by the content checker",
                                      "error_type": "content_policy_violation"})
        return web.json_response({"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 41.2}})

    async def result(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return detail(404, "Request not found")
        if task.running(self.scenario):
            return detail(400, "Request is still in progress")
        return web.json_response({"video": {"url": self.media_link(), "content_type": "video/mp4",
                                            "file_name": "output.mp4", "file_size": len(self.video)}})

    async def cancel(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return detail(404, "Request not found")
        task.cancelled = True
        return web.json_response({"status": "CANCELLATION_REQUESTED"}, status=202)
