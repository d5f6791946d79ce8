"""Runway's API as its SDK and docs describe it (reference/provider_apis.md §1)."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import RETRY_AFTER_S, FakeApi

# The text-to-video models of runwayml 5.24 (veo3 and gen4_turbo are not among them), with their credits per second
RATIOS = {"gen4.5": {"1280:720", "720:1280"}, "veo3.1": {"1280:720", "720:1280", "1080:1920", "1920:1080"},
          "veo3.1_fast": {"1280:720", "720:1280", "1080:1920", "1920:1080"},
          "gemini_omni_flash": {"1280:720", "720:1280"},
          "kling2.5_turbo_pro": {"1920:1080", "1440:1440", "1080:1920", "1280:720", "720:720", "720:1280"}}
DURATIONS = {"gen4.5": set(range(2, 11)), "veo3.1": {4, 6, 8}, "veo3.1_fast": {4, 6, 8},
             "gemini_omni_flash": set(range(3, 11)), "kling2.5_turbo_pro": {5, 10}}
CREDITS_PER_SECOND = {"gen4.5": (12, 12), "veo3.1": (20, 40), "veo3.1_fast": (10, 15),  # (silent, with sound)
                      "gemini_omni_flash": (10, 10), "kling2.5_turbo_pro": (7, 7)}  # the fake's own figures
FIELDS = {"model", "promptText", "ratio", "duration", "seed", "contentModeration", "negativePrompt", "audio"}


def error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class FakeRunway(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/text_to_video", self.create)
        router.add_get("/v1/tasks/{id}", self.task)
        router.add_delete("/v1/tasks/{id}", self.delete)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return error(401, "Invalid API key or missing authorization header")
        if request.headers.get("X-Runway-Version") != "2024-11-06":
            return error(400, "X-Runway-Version header is required and must be a supported version")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        problem = validate(body)
        if problem:
            return error(400, problem)
        if self.scenario == "rate_limit":
            return error(429, "Too many requests", **{"Retry-After": str(RETRY_AFTER_S)})
        if self.scenario == "credits":
            return error(400, "You do not have enough credits to run this task.")
        if self.scenario == "server_error" or (self.creates_allowed is not None and
                                               len(self.tasks) >= self.creates_allowed):
            return error(502, "Bad gateway")
        task = self.new_task(body, prefix=str(uuid.uuid4()))
        if self.scenario == "malformed":
            return web.Response(text=json.dumps({"id": task.id})[:9], content_type="application/json")
        return web.json_response({"id": task.id})

    async def task(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return error(404, "Task not found")
        base = {"id": task.id, "createdAt": "2026-11-21T10:00:00.000Z"}
        estimated, refunded = {"estimatedCost": {"credits": credits(task.body)}}, {"cost": {"credits": 0}}
        if task.cancelled:
            return web.json_response({**base, **refunded, "status": "CANCELLED"})
        if task.polls == 1:  # a slow task waits its turn behind the account's others
            return web.json_response({**base, **estimated, "status": "THROTTLED" if self.scenario == "slow" else
                                      "PENDING"})
        if task.running(self.scenario):
            return web.json_response({**base, **estimated, "status": "RUNNING", "progress": task.progress()})
        if self.scenario == "moderation":
            return web.json_response({**base, **refunded, "status": "FAILED", "failureCode": "SAFETY.INPUT.TEXT",
                                      "failure": "Your prompt did not pass moderation"})
        return web.json_response({**base, "status": "SUCCEEDED", "cost": {"credits": credits(task.body)},
                                  "output": [self.media_link()]})

    async def delete(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return error(404, "Task not found")
        task.cancelled = True
        return web.Response(status=204)


def credits(body: dict[str, Any]) -> int:
    """What the task costs: credits per second (more with sound, Runway's default for Veo) times its length."""
    silent, with_sound = CREDITS_PER_SECOND[body["model"]]
    return (with_sound if body.get("audio", True) else silent) * int(body["duration"])


def validate(body: dict[str, Any]) -> str | None:
    """What Runway's API answers 400 to: unknown fields (it is camelCase), a missing required one, a bad value."""
    unknown = set(body) - FIELDS
    if unknown:
        return f"Unrecognized key(s) in object: {', '.join(sorted(unknown))}"
    model = body.get("model")
    if model not in RATIOS:
        return f"Invalid model: {model!r}"
    for required in ("promptText", "ratio"):
        if not body.get(required):
            return f"{required}: Required"
    if len(body["promptText"]) > 1000:
        return "promptText: String must contain at most 1000 character(s)"
    if body["ratio"] not in RATIOS[model]:
        return f"ratio: Invalid enum value for {model}"
    if not isinstance(body.get("duration"), int) or body["duration"] not in DURATIONS[model]:
        return f"duration: Invalid value for {model}"
    return None
