"""Provider `fal`: any video model on fal.ai's queue (Pika, Kling, Luma, Veo resellers), text to video.

Protocol (reference/provider_apis.md §10, from fal's official client): `Authorization: Key <FAL_KEY>`;
`POST {queue}/{model id}` answers `{request_id, status_url, response_url, cancel_url}`; the status answers IN_QUEUE /
IN_PROGRESS (HTTP 202) or COMPLETED (200) — a failed request is COMPLETED too, with `error` and `error_type`; the
result holds the model's output (`video.url`); `PUT cancel_url` cancels a request that has not started. Those URLs
use only the model's owner/app (its subpath dropped), which is how fal's own client rebuilds them from a request id
after a restart.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from core.errors import ErrorClass, ProviderError

PRICES = "fal model pages (llms.txt), read 2026-11"
MODELS = {
    "fal-ai/pika/v2.2/text-to-video": ModelSpec((5, 10), f"{PRICES}: $0.20 per 5 s at 720p, $0.45 at 1080p",
                                                resolutions={"720p": 1.0, "1080p": 2.25}),
    "fal-ai/luma-dream-machine/ray-2-flash": ModelSpec((5, 9), f"{PRICES}: $0.20 per 5 s at 540p, 9 s 2x",
                                                       resolutions={"540p": 1.0, "720p": 2.0, "1080p": 4.0}),
}
SECONDS_AS_TEXT = {"fal-ai/luma-dream-machine/ray-2-flash"}  # takes "5s" or "9s", not a number


class FalParams(HttpParams):
    model: str = Field("fal-ai/pika/v2.2/text-to-video", description="the fal model id (owner/app/path)")
    prices_usd_per_second: Prices = {"fal-ai/pika/v2.2/text-to-video": 0.04,
                                               "fal-ai/luma-dream-machine/ray-2-flash": 0.0445}
    prices_note: str = "from fal's model pages (Pika 2.2: $0.20 per 5 s at 720p; ray-2-flash $0.40 per 9 s at 540p)"
    extra_input: dict[str, Any] = Field({}, description="model-specific input fields, e.g. resolution")
    poll_interval_s: float = 3.0


class FalProvider(HttpProvider[FalParams]):
    type_name = "fal"
    params_model = FalParams
    required_env = ("FAL_KEY",)
    default_base_url = "https://queue.fal.run"

    models = MODELS
    unknown_model_durations = (5, 10)

    def tier(self) -> Tier:
        return Tier(resolution=str(self.settings.extra_input.get("resolution", "")))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.secrets.get('FAL_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        seconds = int(self.billed_seconds(request.brief.duration_s))
        body = {"prompt": self.prompt(request), "aspect_ratio": "9:16",
                "duration": f"{seconds}s" if self.settings.model in SECONDS_AS_TEXT else seconds,
                **self.settings.extra_input}
        return self.created_id(await self.call("POST", f"/{self.settings.model}", json=body, create=True), "request_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        status = await self.fetch_object(f"{self._requests(task_id)}/status")
        state = status.get("status")
        if state == "IN_QUEUE":
            return TaskStatus("running", 0.0)
        if state == "IN_PROGRESS":
            return TaskStatus("running", None)
        if state == "COMPLETED":
            if status.get("error"):
                return TaskStatus("failed", error=self._failure(str(status["error"]), status.get("error_type")))
            return TaskStatus("succeeded", 1.0)
        raise self.unknown_state(task_id, state)

    async def cancel_one(self, task_id: str) -> bool:
        await self.call("PUT", f"{self._requests(task_id)}/cancel")
        return True

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = super().http_error(status, body, headers)
        text = str(error).lower()
        if "content_policy" in _detail_types(body) or "content policy" in text:
            return ProviderError(str(error), ErrorClass.CONTENT_VIOLATION)
        if status in (402, 403) and ("balance" in text or "locked" in text):
            return ProviderError(str(error), ErrorClass.BILLING)
        return error

    def error_detail(self, body: Any) -> str:
        if isinstance(body, dict) and isinstance(body.get("detail"), list):  # [{"loc", "msg", "type"}]
            return "; ".join(str(item.get("msg", "")) for item in body["detail"] if isinstance(item, dict))[:300]
        return super().error_detail(body)

    def _requests(self, request_id: str) -> str:
        app = "/".join(self.settings.model.split("/")[:2])
        return f"/{app}/requests/{request_id}"

    def _failure(self, message: str, error_type: Any) -> ProviderError:
        kind = ErrorClass.CONTENT_VIOLATION if "content_policy" in str(error_type) else ErrorClass.UNKNOWN
        return ProviderError(f"{self.name}: {message}" + (f" ({error_type})" if error_type else ""), kind)

    async def output_url(self, request_id: str) -> str:
        return self.video_url(member(await self.call("GET", self._requests(request_id)), "video", "url"), request_id)


def _detail_types(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("detail"), list):
        return " ".join(str(item.get("type", "")) for item in body["detail"] if isinstance(item, dict))
    return ""
