"""Provider `luma`: Luma Dream Machine (ray-2, ray-flash-2), text to video.

Protocol (reference/provider_apis.md §5, from Luma's official SDK): `Authorization: Bearer`;
`POST /generations/video` answers a Generation; `GET /generations/{id}` walks queued / dreaming to completed
(`assets.video`) or failed (`failure_reason`, moderation among them); `DELETE /generations/{id}` stops and deletes it.
Error bodies are `{"detail": ...}`.
"""
from __future__ import annotations

from typing import Literal

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member

PRICES = "lumaai SDK; UNVERIFIED prices (Ray 2 about $0.08/s at 720p; 720p costs 2x and 1080p 4x 540p), read 2026-11"
RAY = {"540p": 1.0, "720p": 2.0, "1080p": 4.0, "4k": 16.0}  # 4k: assumed by its pixels, 4x 1080p
RAY_MODEL = ModelSpec((5, 9), PRICES, resolutions=RAY)
MODELS = {"ray-2": RAY_MODEL, "ray-flash-2": RAY_MODEL}


class LumaParams(HttpParams):
    model: Literal["ray-2", "ray-flash-2"] = "ray-2"
    resolution: Literal["540p", "720p", "1080p", "4k"] = "720p"
    prices_usd_per_second: Prices = {"ray-2": 0.04, "ray-flash-2": 0.015}
    prices_note: str = "UNVERIFIED: third-party figures, at 540p (720p costs 2x, 1080p 4x)"


class LumaProvider(HttpProvider[LumaParams]):
    type_name = "luma"
    params_model = LumaParams
    required_env = ("LUMA_API_KEY",)
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"

    models = MODELS
    unknown_model_durations = (5, 9)

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.resolution)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('LUMA_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body = {"model": self.settings.model, "prompt": self.prompt(request), "aspect_ratio": "9:16",
                "duration": f"{int(self.billed_seconds(request.brief.duration_s))}s",
                "resolution": self.settings.resolution}
        return self.created_id(await self.call("POST", "/generations/video", json=body, create=True), "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        generation = await self.fetch_object(f"/generations/{task_id}")
        state = generation.get("state")
        if state in ("queued", "dreaming"):
            return TaskStatus("running", 0.0 if state == "queued" else None)
        if state == "completed":
            return TaskStatus("succeeded", 1.0)
        if state == "failed":
            return self.task_failed(str(generation.get("failure_reason") or "the generation failed"))
        raise self.unknown_state(task_id, state)

    async def output_url(self, task_id: str) -> str:
        return self.video_url(member(await self.fetch_object(f"/generations/{task_id}"), "assets", "video"), task_id)

    async def cancel_one(self, task_id: str) -> bool:
        await self.call("DELETE", f"/generations/{task_id}")
        return True
