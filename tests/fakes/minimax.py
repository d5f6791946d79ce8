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


def base(code: int = 0, message: str = "success", **body: Any) -> web.Response:
    return web.json_response({**body, "base_resp": {"status_code": code, "status_msg": message}})


class FakeMinimax(FakeApi):
    fails_as: str | None = None  # set: every task ends in this state with no error code (docs: Fail; CLI: Failed)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/video_generation", self.create)
        router.add_get("/v1/query/video_generation", self.query)
        router.add_get("/v1/files/retrieve", self.retrieve)

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
