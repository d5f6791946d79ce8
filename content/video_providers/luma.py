"""Provider `luma`: Luma Dream Machine (ray-2, ray-flash-2), text to video.

Protocol (reference/provider_apis.md §5, from Luma's official SDK): `Authorization: Bearer`;
`POST /generations/video` answers a Generation; `GET /generations/{id}` walks queued / dreaming to completed
(`assets.video`) or failed (`failure_reason`, moderation among them); `DELETE /generations/{id}` stops and deletes it.
Error bodies are `{"detail": ...}`.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from content.video_providers.base import GenerationRequest, TaskStatus
from content.video_providers.http import HttpParams, HttpProvider
from core.errors import ProviderError

DURATIONS = (5, 9)


class LumaParams(HttpParams):
    model: str = Field("ray-2", description="ray-2 or ray-flash-2")
    resolution: Literal["540p", "720p", "1080p", "4k"] = "720p"
    prices_usd_per_second: dict[str, float] = {"ray-2": 0.08, "ray-flash-2": 0.03}
    prices_note: str = "UNVERIFIED: third-party figures for 720p"


class LumaProvider(HttpProvider):
    type_name = "luma"
    params_model = LumaParams
    required_env = ("LUMA_API_KEY",)
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"

    @property
    def luma(self) -> LumaParams:
        assert isinstance(self.params, LumaParams)
        return self.params

    def durations(self) -> tuple[int, ...]:
        return DURATIONS

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('LUMA_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body = {"model": self.luma.model, "prompt": request.brief.visual_prompt, "aspect_ratio": "9:16",
                "duration": f"{int(self.billed_seconds(request.brief.duration_s))}s",
                "resolution": self.luma.resolution}
        generation = await self.call("POST", "/generations/video", json=body, create=True)
        if not isinstance(generation, dict) or not isinstance(generation.get("id"), str):
            raise ProviderError(f"{self.name}: the create answer has no generation id", "temporary", ambiguous=True)
        return generation["id"]

    async def poll_one(self, task_id: str) -> TaskStatus:
        generation = await self._generation(task_id)
        state = generation.get("state")
        if state in ("queued", "dreaming"):
            return TaskStatus("running", 0.0 if state == "queued" else None)
        if state == "completed":
            return TaskStatus("succeeded", 1.0)
        if state == "failed":
            reason = str(generation.get("failure_reason") or "the generation failed")
            kind = "content_violation" if "moderat" in reason.lower() or "not allowed" in reason.lower() else "unknown"
            return TaskStatus("failed", error=ProviderError(f"{self.name}: {reason}", kind))
        raise ProviderError(f"{self.name}: generation {task_id} has an unknown state {state!r}", "unknown")

    async def output_url(self, task_id: str) -> str:
        video = ((await self._generation(task_id)).get("assets") or {}).get("video")
        if not isinstance(video, str):
            raise ProviderError(f"{self.name}: generation {task_id} has no video", "unknown")
        return video

    async def cancel_one(self, task_id: str) -> bool:
        await self.call("DELETE", f"/generations/{task_id}")
        return True

    async def _generation(self, task_id: str) -> dict[str, Any]:
        generation = await self.call("GET", f"/generations/{task_id}")
        if not isinstance(generation, dict):
            raise ProviderError(f"{self.name}: generation {task_id} answered with nothing", "temporary")
        return generation
