"""KIE.AI's API as its docs describe it: HTTP 200 with the verdict in the envelope's `code`; the Market API (Kling),
the Veo 3.1 API and the Runway API, each with its own state words; no Retry-After, no lookup by a client key."""
from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi, FakeTask

# each Market model's required input fields and lengths (strings, as KIE's schemas type them)
MARKET = {"kling-2.6/text-to-video": ({"prompt", "sound", "aspect_ratio", "duration"}, ("5", "10")),
          "kling/v2-5-turbo-text-to-video-pro": ({"prompt", "aspect_ratio", "duration"}, ("5", "10")),
          "kling-3.0/video": ({"prompt", "aspect_ratio", "duration"}, tuple(str(n) for n in range(3, 16)))}
CREDITS = 110  # what a Market task reports it consumed


def envelope(code: int, msg: str, data: Any = None) -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data})


class FakeKie(FakeApi):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v1/jobs/createTask", self.market)
        router.add_get("/api/v1/jobs/recordInfo", self.market_record)
        router.add_post("/api/v1/veo/generate", self.veo)
        router.add_get("/api/v1/veo/record-info", self.veo_record)
        router.add_post("/api/v1/runway/generate", self.runway)
        router.add_get("/api/v1/runway/record-detail", self.runway_record)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return envelope(401, "You do not have access permissions")
        return None

    def created(self, body: dict[str, Any], prefix: str) -> web.Response:
        """The account's answer to a valid create: its scenario's failure, or the new task's id."""
        if self.scenario == "rate_limit":
            return envelope(429, "Rate limited: your request will not enter the queue")
        if self.scenario == "credits":
            return envelope(402, "Insufficient credits")
        if self.scenario == "server_error":
            return envelope(455, "Service unavailable: maintenance")
        task = self.new_task(body, prefix=prefix)
        answer = {"code": 200, "msg": "success", "data": {"taskId": task.id}}
        if self.scenario == "malformed":
            return web.Response(text=json.dumps(answer)[:25], content_type="application/json")
        return web.json_response(answer)

    async def market(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        model, inputs = body.get("model"), body.get("input")
        if model not in MARKET or not isinstance(inputs, dict) or set(body) - {"model", "input", "callBackUrl"}:
            return envelope(422, f"model {model!r} is not supported or input is missing")
        required, lengths = MARKET[model]
        if missing := sorted(required - set(inputs)):
            return envelope(422, f"input.{missing[0]}: This field is required")
        if inputs["duration"] not in lengths or inputs["aspect_ratio"] not in ("16:9", "9:16", "1:1"):
            return envelope(422, "input.duration or input.aspect_ratio is invalid")
        if inputs.get("mode", "pro") not in ("std", "pro", "4K"):
            return envelope(422, "input.mode is invalid")
        return self.created(body, f"task_{model.replace('/', '_')}")

    async def veo(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        ratio = body.get("aspectRatio", body.get("aspect_ratio", "16:9"))
        if not body.get("prompt") or body.get("model", "veo3_fast") not in ("veo3", "veo3_fast", "veo3_lite") or \
                ratio not in ("16:9", "9:16", "Auto") or body.get("duration", 8) not in (4, 6, 8) or \
                body.get("resolution", "720p") not in ("720p", "1080p", "4k"):
            return envelope(422, "Invalid request parameters")
        return self.created(body, "veo_task")

    async def runway(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        if not body.get("prompt") or body.get("duration") not in (5, 10) or \
                body.get("quality") not in ("720p", "1080p") or \
                body.get("aspectRatio") not in ("16:9", "4:3", "1:1", "3:4", "9:16"):
            return envelope(422, "Invalid request parameters")
        if body["quality"] == "1080p" and body["duration"] == 10:
            return envelope(422, "1080p is only available for 5-second videos")
        return self.created(body, str(uuid.uuid4()))

    def record(self, request: web.Request, missing: str) -> FakeTask | web.Response:
        """The task a record call asks for (counted as a poll), or the answer refusing it."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.query.get("taskId", ""))
        return envelope(422, missing) if task is None else task

    async def market_record(self, request: web.Request) -> web.Response:
        task = self.record(request, "recordInfo is null")
        if isinstance(task, web.Response):
            return task
        data: dict[str, Any] = {"taskId": task.id, "model": task.body["model"], "param": json.dumps(task.body),
                                "resultJson": None, "failCode": "", "failMsg": "", "createTime": 1765182425861}
        if task.polls == 1:
            return envelope(200, "success", {**data, "state": "waiting"})
        if task.running(self.scenario):
            return envelope(200, "success", {**data, "state": "generating"})
        if self.scenario == "moderation":
            return envelope(200, "success", {**data, "state": "fail", "failCode": "501",
                                             "failMsg": "The prompt was flagged as sensitive content"})
        result = json.dumps({"resultUrls": [self.media_link()]})
        return envelope(200, "success", {**data, "state": "success", "resultJson": result, "costTime": 48213,
                                         "creditsConsumed": CREDITS, "completeTime": 1765182473000})

    async def veo_record(self, request: web.Request) -> web.Response:
        task = self.record(request, "record is null")
        if isinstance(task, web.Response):
            return task
        data: dict[str, Any] = {"taskId": task.id, "paramJson": json.dumps(task.body), "response": None,
                                "errorCode": None, "errorMessage": "", "createTime": "2026-12-07 10:25:00"}
        if task.running(self.scenario):
            return envelope(200, "success", {**data, "successFlag": 0})
        if self.scenario == "moderation":
            return envelope(200, "success", {**data, "successFlag": 3, "errorCode": 400,
                                             "errorMessage": "Your prompt was flagged by the content policy"})
        response = {"taskId": task.id, "resultUrls": [self.media_link()], "resolution": task.body.get("resolution")}
        return envelope(200, "success", {**data, "successFlag": 1, "response": response})

    async def runway_record(self, request: web.Request) -> web.Response:
        task = self.record(request, "record is null")
        if isinstance(task, web.Response):
            return task
        data: dict[str, Any] = {"taskId": task.id, "parentTaskId": "", "generateParam": {"prompt": task.body["prompt"]},
                                "failCode": None, "failMsg": "", "expireFlag": 0}
        if task.polls == 1:
            return envelope(200, "success", {**data, "state": "wait"})
        if task.running(self.scenario):
            return envelope(200, "success", {**data, "state": "queueing" if task.polls == 2 else "generating"})
        if self.scenario == "moderation":
            return envelope(200, "success", {**data, "state": "fail", "failCode": 400,
                                             "failMsg": "Inappropriate content detected (moderation)"})
        return envelope(200, "success", {**data, "state": "success",
                                         "videoInfo": {"videoId": task.id, "videoUrl": self.media_link()}})
