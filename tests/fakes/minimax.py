"""MiniMax's video API as its documentation describes it (reference/provider_apis.md §8): errors as HTTP 200 with
`base_resp.status_code`, and three steps to a video (create, query, file retrieve)."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi

FIELDS = {"model", "prompt", "prompt_optimizer", "fast_pretreatment", "duration", "resolution", "callback_url",
          "first_frame_image", "aigc_watermark"}
MODELS = {"MiniMax-Hailuo-2.3", "MiniMax-Hailuo-02", "T2V-01-Director", "T2V-01"}
V2_MODELS = {"MiniMax-H3": (("768P", "2K"), range(4, 16)), "MiniMax-H3-Max": (("480P", "768P"), range(5, 16))}


def base(code: int = 0, message: str = "success", **body: Any) -> web.Response:
    return web.json_response({**body, "base_resp": {"status_code": code, "status_msg": message}})


class FakeMinimax(FakeApi):
    fails_as: str | None = None  # set: every task ends in this state with no error code (docs: Fail; CLI: Failed)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/video_generation", self.create)
        router.add_get("/v1/query/video_generation", self.query)
        router.add_get("/v1/files/retrieve", self.retrieve)
        router.add_post("/v2/video_generation", self.create_v2)
        router.add_get("/v2/query/video_generation/{id}", self.query_v2)

    def refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return base(1004, "login fail: Please carry the API secret key in the 'Authorization' field")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        if set(body) - FIELDS or body.get("model") not in MODELS or not body.get("prompt"):
            return base(2013, f"invalid params: {sorted(set(body) - FIELDS)}")
        if body.get("resolution", "768P") not in ("512P", "720P", "768P", "1080P") or \
                body.get("duration", 6) not in (6, 10) or (body.get("resolution") == "1080P" and body["duration"] != 6):
            return base(2013, "invalid params: duration/resolution")
        if self.scenario == "rate_limit":
            return base(1002, "rate limit exceeded(RPM)")
        if self.scenario == "credits":
            return base(1008, "insufficient balance")
        if self.scenario == "server_error":
            return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        task = self.new_task(body, prefix="1069161122")
        if self.scenario == "malformed":
            return web.Response(text=json.dumps({"task_id": task.id})[:14], content_type="application/json")
        return base(task_id=task.id)

    async def query(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.query.get("task_id", ""))
        if task is None:
            return base(2013, "invalid params: task_id")
        if task.polls == 1:
            return base(task_id=task.id, status="Queueing")
        if task.running(self.scenario):
            return base(task_id=task.id, status="Processing")
        if self.scenario == "moderation":
            return base(1027, "output video sensitive", task_id=task.id, status="Fail")
        if self.fails_as:
            return base(task_id=task.id, status=self.fails_as)
        return base(task_id=task.id, status="Success", file_id=f"file-{task.id}", video_width=1366,
                    video_height=768)

    async def retrieve(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        file_id = request.query.get("file_id", "")
        if not file_id.startswith("file-") or file_id[5:] not in self.tasks:
            return base(2013, "invalid params: file_id")
        return base(file={"file_id": 123, "bytes": len(self.video), "created_at": 1700469398,
                          "filename": "output_aigc.mp4", "purpose": "video_generation",
                          "download_url": self.media_link()})

    async def create_v2(self, request: web.Request) -> web.Response:
        """v2 (the H3 models): real HTTP codes with an OpenAI-style error body."""
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return v2_error(401, "authorized_error", "login fail: Please carry the API secret key (1004)")
        body: dict[str, Any] = await request.json()
        if (problem := v2_problem(body)) is not None:
            return v2_error(400, "bad_request_error", f"invalid params, {problem} (2013)")
        if self.scenario == "rate_limit":
            return v2_error(429, "rate_limit_error", "rate limit, please retry later (1002)")
        if self.scenario == "credits":
            return v2_error(402, "insufficient_balance_error", "insufficient balance (1008)")
        if self.scenario == "server_error":
            return v2_error(500, "server_error", "internal error (1000)")
        task = self.new_task(body, prefix="4240109857")
        if self.scenario == "malformed":
            return web.Response(text=json.dumps({"task_id": task.id})[:14], content_type="application/json")
        return web.json_response({"task_id": task.id})

    async def query_v2(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.accepted_key}":
            return v2_error(401, "authorized_error", "login fail (1004)")
        task = self.polled(request.match_info["id"])
        if task is None:
            return v2_error(400, "bad_request_error", "invalid task_id (2013)")
        view = {"id": task.id, "model": task.body["model"], "status": "queued", "created_at": 1785125529,
                "resolution": task.body["resolution"], "duration": task.body["duration"], "ratio": task.body["ratio"],
                "task_type": "generation", "modality": "video"}
        if task.polls == 1:
            return web.json_response({"task": view})
        if task.running(self.scenario):
            return web.json_response({"task": {**view, "status": "running"}})
        if self.scenario == "moderation":
            return web.json_response({"task": {**view, "status": "failed", "usage": {}, "error": {
                "code": "1027", "message": "video content is sensitive"}}})
        return web.json_response({"task": {**view, "status": "succeeded", "content": {"url": self.media_link()},
                                           "usage": {"output_seconds": task.body["duration"]}}})


def v2_error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"type": "error", "error": {"type": kind, "message": message, "http_code": str(status)},
                              "request_id": "021785229015510a2c883cf675b9804d"}, status=status)


def v2_problem(body: dict[str, Any]) -> str | None:
    """What v2 refuses: unknown fields, a missing prompt, a model's resolution or length, a frame mixed with a
    reference, an image that is not a URL or data URI."""
    model, content = body.get("model"), body.get("content")
    if set(body) - {"model", "content", "resolution", "duration", "ratio", "callback_url", "extra", "aigc_watermark"}:
        return f"unknown fields {sorted(body)}"
    if model not in V2_MODELS or not isinstance(content, list) or \
            not any(item.get("type") == "text" and item.get("text") for item in content):
        return "content must include a non-empty text item (prompt is required)"
    resolutions, lengths = V2_MODELS[model]
    if body.get("resolution") not in resolutions or body.get("duration") not in lengths:
        return "resolution or duration is not supported by the model"
    if body.get("ratio", "adaptive") not in ("adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"):
        return "ratio is invalid"
    roles = {item.get("role") for item in content if item.get("type") == "image_url"}
    if roles & {"first_frame", "last_frame"} and roles & {"reference_image"}:
        return "frames and references cannot be mixed"
    for item in content:
        if item.get("type") == "image_url" and not str(item.get("image_url", {}).get("url", "")).startswith(
                ("https://", "http://", "mm_file://", "data:image/")):
            return "image_url.url must be a URL or a data URI"
    return None
