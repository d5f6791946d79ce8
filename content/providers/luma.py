"""Provider `luma`: Luma Dream Machine (ray-2, ray-flash-2), text to video.

Protocol (reference/provider_apis.md §5, from Luma's official SDK): `Authorization: Bearer`;
`POST /generations/video` answers a Generation; `GET /generations/{id}` walks queued / dreaming to completed
(`assets.video`) or failed (`failure_reason`, moderation among them); `DELETE /generations/{id}` stops and deletes it.
Error bodies are `{"detail": ...}`.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member

DURATIONS = (5, 9)


class LumaParams(HttpParams):
    model: str = Field("ray-2", description="ray-2 or ray-flash-2")
    resolution: Literal["540p", "720p", "1080p", "4k"] = "720p"
    prices_usd_per_second: Prices = {"ray-2": 0.08, "ray-flash-2": 0.03}
    prices_note: str = "UNVERIFIED: third-party figures for 720p"


class LumaProvider(HttpProvider[LumaParams]):
    type_name = "luma"
    params_model = LumaParams
    required_env = ("LUMA_API_KEY",)
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"

    def durations(self) -> tuple[int, ...]:
        return DURATIONS

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
