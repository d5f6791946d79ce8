"""Provider `runway`: Runway's API (gen4.5, Veo 3.x through Runway), text to video.

Protocol (reference/provider_apis.md §1, from Runway's official SDK): `Authorization: Bearer` plus the
`X-Runway-Version` header on every call; `POST /v1/text_to_video` answers `{"id"}`; `GET /v1/tasks/{id}` walks
PENDING / THROTTLED / RUNNING (with `progress`) to SUCCEEDED (`output` URLs that expire in 24–48 h: the task is
fetched again for fresh ones), FAILED (`failure`, `failureCode`) or CANCELLED; `DELETE /v1/tasks/{id}` cancels.
Runway asks not to poll a task more often than every five seconds. There is no way to look a task up by our key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from core.bounds import as_number
from core.errors import ErrorClass, ProviderError

API_VERSION = "2024-11-06"


@dataclass(frozen=True)
class RunwayModel:
    durations: tuple[int, ...]
    portrait: str  # the 9:16 `ratio` it takes
    text_to_video: bool = True


MODELS = {
    "gen4.5": RunwayModel(tuple(range(2, 11)), "720:1280"),
    "gen4_turbo": RunwayModel(tuple(range(2, 11)), "720:1280", text_to_video=False),
    "veo3.1": RunwayModel((4, 6, 8), "1080:1920"),
    "veo3.1_fast": RunwayModel((4, 6, 8), "1080:1920"),
    "veo3": RunwayModel((8,), "1080:1920"),
}


class RunwayParams(HttpParams):
    model: Literal["gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast", "veo3"] = "gen4.5"
    prices_usd_per_second: Prices = {"gen4.5": 0.12, "gen4_turbo": 0.05, "veo3.1": 0.40,
                                               "veo3.1_fast": 0.15, "veo3": 0.40}
    prices_note: str = "UNVERIFIED: third-party figures (1 credit = $0.01); check Runway's pricing page"
    poll_interval_s: float = 6.0
    min_poll_interval_s: float = Field(5.0, ge=0, le=600, description="Runway: no more often than every 5 s per task")


class RunwayProvider(HttpProvider[RunwayParams]):
    type_name = "runway"
    max_prompt_chars = 1000
    params_model = RunwayParams
    required_env = ("RUNWAY_API_KEY",)
    default_base_url = "https://api.dev.runwayml.com"

    @property
    def spec(self) -> RunwayModel:
        return MODELS[self.settings.model]

    def cannot_make(self, request: GenerationRequest) -> str | None:
        if not self.spec.text_to_video:
            return f"{self.settings.model} makes video from an image only"
        return super().cannot_make(request)

    def durations(self) -> tuple[int, ...]:
        return self.spec.durations

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('RUNWAY_API_KEY')}", "X-Runway-Version": API_VERSION}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body = {"model": self.settings.model, "promptText": self.prompt(request),
                "ratio": self.spec.portrait, "duration": int(self.billed_seconds(request.brief.duration_s))}
        return self.created_id(await self.call("POST", "/v1/text_to_video", json=body, create=True), "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        task = await self.fetch_object(f"/v1/tasks/{task_id}")
        status, hint = task.get("status"), self.settings.min_poll_interval_s
        if status in ("PENDING", "THROTTLED"):
            return TaskStatus("running", 0.0, poll_after_s=hint)
        if status == "RUNNING":
            return TaskStatus("running", as_number(task.get("progress")), poll_after_s=hint)
        if status == "SUCCEEDED":
            return TaskStatus("succeeded", 1.0)
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
