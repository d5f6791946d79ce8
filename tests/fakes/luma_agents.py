"""Luma's Agents API (ray-3.2) as its SDK, luma-agents 0.5.0, describes it: one generations resource for images and
video, `video` options nested, `output[]` links, failures with a `failure_code`."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.luma import FakeLuma, detail

FIELDS = {"prompt", "model", "type", "aspect_ratio", "video", "source", "image_ref", "user_id", "web_search",
          "output_format", "style"}
VIDEO = {"duration", "resolution", "hdr", "exr_export", "loop", "start_frame", "end_frame", "keyframes",
         "keyframe_indexes", "edit", "source_position"}


def invalid(body: dict[str, Any]) -> str | None:
    """What the API answers 422 to for a ray-3.2 video."""
    video = body.get("video") or {}
    if set(body) - FIELDS or not isinstance(video, dict) or set(video) - VIDEO:
        return f"Extra inputs are not permitted: {sorted(set(body) - FIELDS)}"
    if body.get("model") != "ray-3.2" or body.get("type") != "video" or not 1 <= len(body.get("prompt") or "") <= 6000:
        return "model, type or prompt is invalid"
    if body.get("aspect_ratio", "16:9") not in ("9:16", "3:4", "1:1", "4:3", "16:9", "21:9"):
        return "aspect_ratio is not supported for video"
    if video.get("resolution", "720p") not in ("360p", "540p", "720p", "1080p") or \
            video.get("duration", "5s") not in ("5s", "10s"):
        return "video.resolution or video.duration is invalid"
    return None


class FakeLumaAgents(FakeLuma):
    """The key, errors and scenarios of the Dream Machine fake; the Agents API's paths and shapes."""

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/generations", self.create)
        router.add_get("/v1/generations/{id}", self.generation)

    def view(self, task_id: str, state: str, **extra: Any) -> dict[str, Any]:
        return {"id": task_id, "created_at": "2026-12-07T10:00:00Z", "model": "ray-3.2", "type": "video",
                "state": state, "failure_code": None, "failure_reason": None, "output": None, **extra}

    async def create(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        body: dict[str, Any] = await request.json()
        if (problem := invalid(body)) is not None:
            return detail(422, problem)
        return self.started(body)

    async def generation(self, request: web.Request) -> web.Response:
        if (refusal := self.refused(request)) is not None:
            return refusal
        task = self.polled(request.match_info["id"])
        if task is None:
            return detail(404, "Generation not found")
        if task.polls == 1:
            return web.json_response(self.view(task.id, "queued"))
        if task.running(self.scenario):
            return web.json_response(self.view(task.id, "processing"))
        if self.scenario == "moderation":
            return web.json_response(self.view(task.id, "failed", failure_code="content_moderated",
                                               failure_reason="The prompt did not pass moderation"))
        return web.json_response(self.view(task.id, "completed", output=[{"type": "video", "url": self.media_link()}]))
