"""Provider `replicate`: any video model on Replicate (Veo, Kling, Hailuo, Wan...), text to video.

Protocol (reference/provider_apis.md §9, from Replicate's official client): `Authorization: Bearer`;
`POST /v1/models/{owner}/{name}/predictions` with `{"input": ...}` answers a Prediction; `GET /v1/predictions/{id}`
walks starting / processing to succeeded (`output`: a URL, or a list of them) or failed (`error`) / canceled;
`POST /v1/predictions/{id}/cancel` cancels. Errors are RFC 7807 problem details (402: billing). Inputs differ per
model, so the model's own fields go in `extra_input`.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member

MODELS = {"google/veo-3.1-fast": ModelSpec((4, 6, 8), "the model page, read 2026-11: $0.10/s silent, $0.15/s with "
                                                     "sound (generate_audio, on by default)", audio=1.5)}


class ReplicateParams(HttpParams):
    model: str = Field("google/veo-3.1-fast", description="owner/name of an official model")
    duration_field: str = Field("duration", description="the model's input field for the length in seconds")
    extra_input: dict[str, Any] = Field({}, description="model-specific input fields")
    prices_usd_per_second: Prices = {"google/veo-3.1-fast": 0.10}
    prices_note: str = "from the model page (Veo 3.1 Fast, silent: sound costs 1.5x); each model has its own price"
    poll_interval_s: float = 2.0


class ReplicateProvider(HttpProvider[ReplicateParams]):
    type_name = "replicate"
    params_model = ReplicateParams
    required_env = ("REPLICATE_API_TOKEN",)
    default_base_url = "https://api.replicate.com"

    models = MODELS
    unknown_model_durations = (4, 6, 8)

    def tier(self) -> Tier:
        """A model that makes sound makes it unless `generate_audio` is false (Veo on Replicate: on by default)."""
        spec = self.spec
        makes_sound = spec is not None and spec.audio is not None
        return Tier(audio=bool(self.settings.extra_input.get("generate_audio", makes_sound)))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('REPLICATE_API_TOKEN')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        inputs = {"prompt": self.prompt(request), "aspect_ratio": "9:16",
                  self.settings.duration_field: int(self.billed_seconds(request.brief.duration_s)),
                  **self.settings.extra_input}
        prediction = await self.call("POST", f"/v1/models/{self.settings.model}/predictions", json={"input": inputs},
                                     create=True)
        return self.created_id(prediction, "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        prediction = await self.fetch_object(f"/v1/predictions/{task_id}")
        status = prediction.get("status")
        if status in ("starting", "processing"):
            return TaskStatus("running", 0.0 if status == "starting" else None)
        if status == "succeeded":
            return TaskStatus("succeeded", 1.0)
        if status in ("failed", "canceled"):
            return self.task_failed(str(prediction.get("error") or f"the prediction was {status}"))
        raise self.unknown_state(task_id, status)

    async def output_url(self, task_id: str) -> str:
        output = (await self.fetch_object(f"/v1/predictions/{task_id}")).get("output")  # a URL, or a list of them
        return self.video_url(member(output, 0) if isinstance(output, list) else output, task_id)

    async def cancel_one(self, task_id: str) -> bool:
        await self.call("POST", f"/v1/predictions/{task_id}/cancel")
        return True
