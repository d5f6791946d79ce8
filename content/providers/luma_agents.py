"""Provider `luma_agents`: Luma's Agents API, where its newest video model (ray-3.2) runs, text to video.

Protocol (luma-agents 0.5.0, Luma's own SDK, and docs.agents.lumalabs.ai, read 2026-12): `Authorization: Bearer`
with an Agents key (not the Dream Machine one); `POST /v1/generations` with `model`, `type: "video"`, `prompt`,
`aspect_ratio` and `video: {resolution, duration}` answers a Generation `{id, state}`; `GET /v1/generations/{id}`
walks queued / processing to completed (`output[]`: `{type, url}`, links valid one hour: asked again for each
download) or failed (`failure_code`: content_moderated, budget_exhausted, rate_limited...; `failure_reason`).
No webhook, no cancel, no lookup by our key.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices
from core.errors import ErrorClass, ProviderError

PRICES = ("luma-agents 0.5.0 SDK; prices: third-party copies of Luma's pricing page, 2026-07 (5 s at 720p $0.30, "
          "1080p $1.20); 10 s, whose price the copies disagree on, is not used")
MODELS = {"ray-3.2": ModelSpec((5,), PRICES, resolutions={"360p": 0.2, "540p": 0.5, "720p": 1.0, "1080p": 4.0})}
FAILURES = {"content_moderated": ErrorClass.CONTENT_VIOLATION, "budget_exhausted": ErrorClass.BILLING,
            "rate_limited": ErrorClass.RATE_LIMIT, "invalid_request": ErrorClass.INVALID_REQUEST}


class LumaAgentsParams(HttpParams):
    model: Literal["ray-3.2"] = "ray-3.2"
    resolution: Literal["360p", "540p", "720p", "1080p"] = Field("720p", description="360p is a draft")
    prices_usd_per_second: Prices = {"ray-3.2": 0.06}
    prices_note: str = "UNVERIFIED: third-party copies of Luma's page, at 720p (1080p costs 4x)"


class LumaAgentsProvider(HttpProvider[LumaAgentsParams]):
    type_name = "luma_agents"
    max_prompt_chars = 6000
    aspect_ratios = ("9:16", "16:9", "1:1", "21:9")
    params_model = LumaAgentsParams
    required_env = ("LUMA_AGENTS_API_KEY",)
    default_base_url = "https://agents.lumalabs.ai"

    models = MODELS

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.resolution)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('LUMA_AGENTS_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body = {"model": self.settings.model, "type": "video", "prompt": self.prompt(request),
                "aspect_ratio": request.brief.aspect_ratio,
                "video": {"resolution": self.settings.resolution,
                          "duration": f"{int(self.billed_seconds(request.brief.duration_s))}s"}}
        return self.created_id(await self.call("POST", "/v1/generations", json=body, create=True), "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        generation = await self.fetch_object(f"/v1/generations/{task_id}")
        state = generation.get("state")
        if state in ("queued", "processing"):
            return TaskStatus("running", 0.0 if state == "queued" else None)
        if state == "completed":
            return TaskStatus("succeeded", 1.0)
        if state == "failed":
            reason = str(generation.get("failure_reason") or generation.get("failure_code") or "the video failed")
            kind = FAILURES.get(str(generation.get("failure_code")))
            return TaskStatus("failed", error=ProviderError(f"{self.name}: {reason}", kind)) if kind else \
                self.task_failed(reason)
        raise self.unknown_state(task_id, state)

    async def output_url(self, task_id: str) -> str:
        outputs = (await self.fetch_object(f"/v1/generations/{task_id}")).get("output") or []
        videos = [item.get("url") for item in outputs if isinstance(item, dict) and item.get("type") == "video"]
        return self.video_url(videos[0] if videos else None, task_id)
