"""Provider `heygen`: a HeyGen avatar speaks the brief (hook, beats, call to action) in a 9:16 video.

Protocol (reference/provider_apis.md §6, from HeyGen's API documentation): `X-Api-Key`; `POST /v2/video/generate`
with one scene (the avatar and its voice reading the script) and `dimension` 720×1280 answers
`{"error": null, "data": {"video_id"}}`; `GET /v1/video_status.get?video_id=` walks pending (or waiting) /
processing to completed (`video_url`, valid 7 days: asked again when it has expired) or failed (`error`). No cancel.
The video lasts as long as the avatar speaks, so there is no length limit to declare; it is billed per second.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices
from core.errors import ErrorClass, ProviderError


class HeygenParams(HttpParams):
    model: str = Field("avatar-iii", description="the price row: avatar-iii, avatar-iv or digital-twin")
    avatar_id: str = Field("Daisy-inskirt-20220818", description="your avatar (the default is HeyGen's example)")
    voice_id: str = Field("2d5b0e6cf36f460aa7fc47e3eee4ba54", description="your voice (HeyGen's example voice)")
    avatar_style: str = "normal"
    prices_usd_per_second: Prices = {"avatar-iii": 0.0167, "avatar-iv": 0.05, "digital-twin": 0.0667}
    prices_note: str = "HeyGen's 2026 pay-as-you-go page (720p/1080p)"


class HeygenProvider(HttpProvider[HeygenParams]):
    type_name = "heygen"
    speaks = True
    params_model = HeygenParams
    required_env = ("HEYGEN_API_KEY",)
    default_base_url = "https://api.heygen.com"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Api-Key": self.secrets.get("HEYGEN_API_KEY") or ""}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        brief = request.brief
        script = " ".join([brief.hook, *brief.beats, brief.cta])[:5000]
        body = {"video_inputs": [{"character": {"type": "avatar", "avatar_id": self.settings.avatar_id,
                                                "avatar_style": self.settings.avatar_style},
                                  "voice": {"type": "text", "input_text": script, "voice_id": self.settings.voice_id}}],
                "dimension": {"width": 720, "height": 1280}, "callback_id": idempotency_key}
        answer = await self.call("POST", "/v2/video/generate", json=body, create=True)
        return self.created_id(answer, "data", "video_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        video = await self._status(task_id)
        status = video.get("status")
        if status in ("pending", "waiting", "processing"):
            return TaskStatus("running", 0.0 if status != "processing" else None)
        if status == "completed":
            return TaskStatus("succeeded", 1.0)
        if status == "failed":
            error = video.get("error") or {}
            return self.task_failed(str(error.get("detail") or error.get("message") or "the video failed"))
        raise self.unknown_state(task_id, status)

    async def output_url(self, task_id: str) -> str:
        return self.video_url((await self._status(task_id)).get("video_url"), task_id)

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = super().http_error(status, body, headers)
        code = str(((body or {}).get("error") or {}).get("code", "")) if isinstance(body, dict) else ""
        if "credit" in code.lower() or "quota" in code.lower() or "payment" in code.lower():
            return ProviderError(str(error), ErrorClass.BILLING)
        return error

    async def _status(self, task_id: str) -> dict[str, Any]:
        return await self.fetch_object("/v1/video_status.get", "data", params={"video_id": task_id})
