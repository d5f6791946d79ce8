"""Kling's API as its documentation describes it (reference/provider_apis.md §4), JWT checks included."""
from __future__ import annotations

import json
import time
from typing import Any

import jwt
from aiohttp import web

from tests.fakes.base import FakeApi, FakeTask

FIELDS = {"model_name", "model", "prompt", "negative_prompt", "cfg_scale", "mode", "camera_control", "aspect_ratio",
          "duration", "callback_url", "external_task_id", "sound", "watermark_info", "multi_shot", "shot_type",
          "multi_prompt"}
FIVE_TEN, BOTH = ("5", "10"), ("std", "pro")
# Each text-to-video model's lengths and modes, and whether it takes `sound` (its docs' capability map)
MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "kling-v1": (FIVE_TEN, BOTH, False), "kling-v1-6": (FIVE_TEN, BOTH, False),
    "kling-v2-master": (FIVE_TEN, ("pro",), False), "kling-v2-1-master": (FIVE_TEN, ("pro",), False),
    "kling-v2-5-turbo": (FIVE_TEN, BOTH, False), "kling-v2-6": (FIVE_TEN, BOTH, True),
    "kling-v3": (tuple(str(n) for n in range(3, 16)), BOTH, True)}
ACCESS_KEY = "ak-test"


def failure(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "request_id": "req-1"}, status=status)


def answer(data: dict[str, Any]) -> web.Response:
    return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "req-1", "data": data})


class FakeKling(FakeApi):
    echoed_keys = (ACCESS_KEY, FakeApi.key)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/videos/text2video", self.create)
        router.add_get("/v1/videos/text2video", self.listing)
        router.add_get("/v1/videos/text2video/{id}", self.query)

    def refused(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return failure(401, 1001, "Authorization is empty")
        if not header.startswith("Bearer "):
            return failure(401, 1002, "Authorization is invalid")
        try:
            claims = jwt.decode(header[7:], self.accepted_key, algorithms=["HS256"],
                                options={"require": ["exp", "nbf", "iss"]})
        except jwt.ExpiredSignatureError:
            return failure(401, 1004, "Authorization is expired")
        except jwt.ImmatureSignatureError:
            return failure(401, 1003, "Authorization is not yet valid")
        except jwt.PyJWTError:
            return failure(401, 1002, "Authorization is invalid")
        if claims["iss"] != ACCESS_KEY or claims["exp"] - time.time() > 3600:
            return failure(401, 1002, "Authorization is invalid")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        unknown = set(body) - FIELDS
        if unknown:
            return failure(400, 1200, f"invalid request parameters: {sorted(unknown)}")
        if body.get("model_name", "kling-v1") not in MODELS:
            return failure(400, 1201, "model_name is invalid")
        lengths, modes, takes_sound = MODELS[body.get("model_name", "kling-v1")]
        if body.get("mode", "std") not in modes:
            return failure(400, 1201, "mode is not supported by the model")
        if "sound" in body and (not takes_sound or body["sound"] not in ("on", "off")):
            return failure(400, 1201, "sound is not supported by the model")
        if body.get("sound") == "on" and body.get("model_name") == "kling-v2-6" and body.get("mode", "std") != "pro":
            return failure(400, 1201, "kling-v2-6 makes sound in pro mode only")
        if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
            return failure(400, 1201, "aspect_ratio is invalid")
        if body.get("duration", "5") not in lengths:  # a string, as documented
            return failure(400, 1201, "duration is invalid")
        if not body.get("prompt") or len(body["prompt"]) > 2500:
            return failure(400, 1201, "prompt is invalid")
        if any(t.body.get("external_task_id") == body.get("external_task_id") for t in self.tasks.values()):
            return failure(400, 1201, "external_task_id already exists")
        if self.scenario == "rate_limit":
            return failure(429, 1302, "The API request is too fast, please slow down")
        if self.scenario == "credits":
            return failure(429, 1102, "Resource pack exhausted or expired")
        if self.scenario == "server_error":
            return failure(500, 5000, "Server internal error")
        task = self.new_task(body, prefix="867283741")
        data = {"task_id": task.id, "task_status": "submitted",
                "task_info": {"external_task_id": body.get("external_task_id")},
                "created_at": 1774805076166, "updated_at": 1774805076166}
        if self.scenario == "malformed":
            return web.Response(text=json.dumps({"code": 0, "data": data})[:30], content_type="application/json")
        return answer(data)

    async def listing(self, request: web.Request) -> web.Response:
        """The account's tasks, newest first, a page at a time (pageNum 1-1000, pageSize 1-500)."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        page, size = int(request.query.get("pageNum", "1")), int(request.query.get("pageSize", "30"))
        if not (1 <= page <= 1000 and 1 <= size <= 500):
            return failure(400, 1201, "pageNum or pageSize is invalid")
        newest_first = [*self.tasks.values()][::-1][(page - 1) * size:page * size]
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "req-1",
                                  "data": [{**self.summary(task), "task_status": "submitted"}
                                           for task in newest_first]})

    def summary(self, task: FakeTask) -> dict[str, Any]:
        return {"task_id": task.id, "task_info": {"external_task_id": task.body.get("external_task_id")},
                "created_at": 1774805076166, "updated_at": 1774805076166}

    async def query(self, request: web.Request) -> web.Response:
        """One task, by Kling's own task id (the only lookup its docs confirm for this path)."""
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return failure(404, 1203, "The requested resource does not exist")
        task.polls += 1
        data = self.summary(task)
        if task.polls == 1:
            return answer({**data, "task_status": "submitted"})
        if task.running(self.scenario):
            return answer({**data, "task_status": "processing"})
        if self.scenario == "moderation":
            return answer({**data, "task_status": "failed",
                           "task_status_msg": "Failure to pass the risk control system"})
        return answer({**data, "task_status": "succeed", "final_unit_deduction": "5",
                       "task_result": {"videos": [{"id": "v1", "url": self.media_link(), "duration": "5.042"}]}})
