"""Provider `runway`: Runway's API (gen4.5, and Veo 3.1, Gemini Omni Flash and Kling through Runway), text to video.

Protocol (reference/provider_apis.md §1, from Runway's official SDK): `Authorization: Bearer` plus the
`X-Runway-Version` header on every call; `POST /v1/text_to_video` answers `{"id"}`; `GET /v1/tasks/{id}` walks
PENDING / THROTTLED / RUNNING (with `progress` and `estimatedCost`) to SUCCEEDED (`cost.credits`, what was charged;
`output` URLs that expire in 24–48 h: the task is fetched again for fresh ones), FAILED (`failure`, `failureCode`)
or CANCELLED; `DELETE /v1/tasks/{id}` cancels.
Runway asks not to poll a task more often than every five seconds. There is no way to look a task up by our key.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from core.bounds import as_number
from core.errors import ErrorClass, ProviderError

API_VERSION = "2024-11-06"
SDK = "runwayml 5.24 text_to_video params, read 2026-12"
PRICES = "UNVERIFIED third-party credit figures (1 credit = $0.01), read 2026-11"
MODELS = {
    "gen4.5": ModelSpec(tuple(range(2, 11)), f"{SDK}; {PRICES}"),
    "veo3.1": ModelSpec((4, 6, 8), f"{SDK}; {PRICES}: 20 credits/s silent, 40 with sound", audio=2.0),
    "veo3.1_fast": ModelSpec((4, 6, 8), f"{SDK}; {PRICES}: 10 credits/s silent, 15 with sound", audio=1.5),
    "gemini_omni_flash": ModelSpec(tuple(range(3, 11)), f"{SDK}: 3-10 s; no price read: set one"),
    "kling2.5_turbo_pro": ModelSpec((5, 10), f"{SDK}; no price read: set one"),
    "gen4_turbo": ModelSpec((5, 10), SDK, unusable="makes video from an image only"),
    "veo3": ModelSpec((8,), SDK, unusable="is no longer a text-to-video model at Runway (use veo3.1)"),
}
# the 9:16 `ratio` each model takes, where it is not gen4.5's 720:1280
PORTRAIT = {"veo3.1": "1080:1920", "veo3.1_fast": "1080:1920", "kling2.5_turbo_pro": "1080:1920"}


class RunwayParams(HttpParams):
    model: Literal["gen4.5", "veo3.1", "veo3.1_fast", "gemini_omni_flash", "kling2.5_turbo_pro", "gen4_turbo",
                   "veo3"] = "gen4.5"
    audio: bool = Field(False, description="veo3.1 models: make sound (it costs more)")
    prices_usd_per_second: Prices = {"gen4.5": 0.12, "veo3.1": 0.20, "veo3.1_fast": 0.10}
    prices_note: str = "UNVERIFIED: third-party figures (1 credit = $0.01), silent; check Runway's pricing page"
    poll_interval_s: float = 6.0
    min_poll_interval_s: float = Field(5.0, ge=0, le=600, description="Runway: no more often than every 5 s per task")


class RunwayProvider(HttpProvider[RunwayParams]):
    type_name = "runway"
    max_prompt_chars = 1000
    params_model = RunwayParams
    required_env = ("RUNWAY_API_KEY",)
    default_base_url = "https://api.dev.runwayml.com"

    models = MODELS

    def tier(self) -> Tier:
        return Tier(audio=self.settings.audio)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('RUNWAY_API_KEY')}", "X-Runway-Version": API_VERSION}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body: dict[str, Any] = {"model": self.settings.model, "promptText": self.prompt(request),
                                "ratio": PORTRAIT.get(self.settings.model, "720:1280"),
                                "duration": int(self.billed_seconds(request.brief.duration_s))}
        if self.spec is not None and self.spec.audio is not None:  # Runway's default is sound, which costs more
            body["audio"] = self.settings.audio
        return self.created_id(await self.call("POST", "/v1/text_to_video", json=body, create=True), "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        task = await self.fetch_object(f"/v1/tasks/{task_id}")
        status, hint = task.get("status"), self.settings.min_poll_interval_s
        if status in ("PENDING", "THROTTLED"):
            return TaskStatus("running", 0.0, poll_after_s=hint)
        if status == "RUNNING":
            return TaskStatus("running", as_number(task.get("progress")), poll_after_s=hint)
        if status == "SUCCEEDED":  # `cost.credits`: what Runway charged (1 credit = $0.01)
            credits = as_number(member(task, "cost", "credits"))
            return TaskStatus("succeeded", 1.0, cost_usd=credits / 100 if credits is not None else None)
        if status == "CANCELLED":
            cancelled = ProviderError(f"{self.name}: task {task_id} was cancelled", ErrorClass.UNKNOWN)
            return TaskStatus("failed", error=cancelled)
        if status == "FAILED":
            return TaskStatus("failed", error=_task_failure(self.name, task))
        raise self.unknown_state(task_id, status)

    async def cancel_one(self, task_id: str) -> bool:
        await self.call("DELETE", f"/v1/tasks/{task_id}", headers={"Accept": "*/*"})
        return True

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = super().http_error(status, body, headers)
        if status == 400 and "enough credits" in str(error):
            return ProviderError(str(error), ErrorClass.BILLING)
        return error

    async def output_url(self, task_id: str) -> str:
        return self.video_url(member(await self.fetch_object(f"/v1/tasks/{task_id}"), "output", 0), task_id)


def _task_failure(provider: str, task: dict[str, Any]) -> ProviderError:
    """Runway's `failureCode`: SAFETY.* and INPUT_PREPROCESSING.SAFETY.* are moderation; an internal moderation
    problem may pass on a retry; anything else is unknown."""
    code = str(task.get("failureCode") or "")
    message = f"{provider}: {task.get('failure') or 'the task failed'}" + (f" ({code})" if code else "")
    if code.startswith("SAFETY.") or code.startswith("INPUT_PREPROCESSING.SAFETY"):
        return ProviderError(message, ErrorClass.CONTENT_VIOLATION)
    if code == "INPUT_PREPROCESSING.INTERNAL":
        return ProviderError(message, ErrorClass.TEMPORARY)
    return ProviderError(message, ErrorClass.UNKNOWN)
