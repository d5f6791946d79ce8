"""Provider `veo`: Google Veo 3.x through the Gemini API's long-running operations, text to video.

Protocol (reference/provider_apis.md §3, from Google's python-genai SDK): `x-goog-api-key` on every call;
`POST /v1beta/models/{model}:predictLongRunning` with `instances[].prompt` (and `referenceImages`, inline base64
"asset" images: up to 3, Veo 3.1 and 3.1 Fast, 8 s videos) and `parameters` (aspectRatio "9:16",
durationSeconds, resolution) answers an operation `{name}`; `GET /v1beta/{name}` until `done`, then
`response.generateVideoResponse.generatedSamples[0].video.uri` (fetched with the key), or `error` (a google.rpc.Status),
or — the safety filters at work — `raiMediaFilteredCount` with no samples. No cancel, no lookup by our key.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from content.providers.images import inline_image
from core.errors import ErrorClass, ProviderError

PRICES = "python-genai SDK; prices: third parties citing ai.google.dev/gemini-api/docs/pricing, read 2026-11"
EIGHT = {"1080p": (8,), "4k": (8,), "reference": (8,)}  # 1080p, 4k and reference images: 8 s long only
MODELS = {
    "veo-3.1-generate-preview": ModelSpec((4, 6, 8), PRICES, resolutions={"720p": 1.0, "1080p": 1.0, "4k": 1.5},
                                          lengths_at=EIGHT, references=True),
    "veo-3.1-fast-generate-preview": ModelSpec((4, 6, 8), PRICES, resolutions={"720p": 1.0, "1080p": 1.2, "4k": 3.0},
                                               lengths_at=EIGHT, references=True),
    "veo-3.1-lite-generate-preview": ModelSpec((4, 6, 8), PRICES, resolutions={"720p": 1.0, "1080p": 1.6},
                                               lengths_at=EIGHT),
}


class VeoParams(HttpParams):
    model: str = Field("veo-3.1-fast-generate-preview", description="the Veo model id")
    resolution: Literal["720p", "1080p", "4k"] = Field("720p", description="1080p and 4k: 8 s parts, at a higher price")
    reference_images: bool = Field(False, description="send the persona's reference_image as an asset reference "
                                                      "(the same face in every video; Veo then makes 8 s clips only)")
    prices_usd_per_second: Prices = {"veo-3.1-generate-preview": 0.40,
                                               "veo-3.1-fast-generate-preview": 0.10,
                                               "veo-3.1-lite-generate-preview": 0.05}
    prices_note: str = "UNVERIFIED: third-party figures for 720p with sound (1080p and 4k cost more)"
    poll_interval_s: float = 10.0


class VeoProvider(HttpProvider[VeoParams]):
    type_name = "veo"
    params_model = VeoParams
    required_env = ("GEMINI_API_KEY",)
    default_base_url = "https://generativelanguage.googleapis.com"

    models = MODELS
    unknown_model_durations = (4, 6, 8)

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.resolution, reference=self.settings.reference_images)

    def takes_reference(self) -> bool:
        return self.settings.reference_images and self.misconfigured() is None

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.secrets.get("GEMINI_API_KEY") or ""}

    def download_headers(self) -> dict[str, str]:
        return self.auth_headers()

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        instance: dict[str, Any] = {"prompt": self.prompt(request)}
        if self.takes_reference() and request.look.reference_image is not None:
            instance["referenceImages"] = [{"image": inline_image(request.look.reference_image),
                                            "referenceType": "asset"}]
        body = {"instances": [instance],
                "parameters": {"aspectRatio": "9:16", "sampleCount": 1, "resolution": self.settings.resolution,
                               "durationSeconds": int(self.billed_seconds(request.brief.duration_s))}}
        operation = await self.call("POST", f"/v1beta/models/{self.settings.model}:predictLongRunning", json=body,
                                    create=True)
        return self.created_id(operation, "name")

    async def poll_one(self, task_id: str) -> TaskStatus:
        operation = await self.fetch_object(f"/v1beta/{task_id}")
        if not operation.get("done"):
            return TaskStatus("running", None)
        if isinstance(operation.get("error"), dict):
            error = operation["error"]
            return TaskStatus("failed", error=self._status_error(error.get("code"), error))
        answer = member(operation, "response", "generateVideoResponse") or {}
        if not answer.get("generatedSamples"):
            reasons = "; ".join(answer.get("raiMediaFilteredReasons") or []) or "no video came back"
            kind = ErrorClass.CONTENT_VIOLATION if answer.get("raiMediaFilteredCount") else ErrorClass.UNKNOWN
            return TaskStatus("failed", error=ProviderError(f"{self.name}: {reasons}", kind))
        return TaskStatus("succeeded", 1.0)

    async def output_url(self, task_id: str) -> str:
        operation = await self.fetch_object(f"/v1beta/{task_id}")
        return self.video_url(member(operation, "response", "generateVideoResponse", "generatedSamples", 0, "video",
                                     "uri"), task_id)

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = body.get("error") if isinstance(body, dict) else None
        return self._status_error(status, error if isinstance(error, dict) else {}, headers)

    def _status_error(self, code: Any, error: dict[str, Any], headers: Any = None) -> ProviderError:
        """A google.rpc.Status (`code`, `status`, `message`) in the engine's classes."""
        status, message = str(error.get("status") or ""), str(error.get("message") or "")
        text = f"{self.name}: {code} {status}: {message}"[:400]
        lowered = message.lower()
        if "api key not valid" in lowered or status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            return ProviderError(text, ErrorClass.AUTH)
        if "billing" in lowered or "credit" in lowered:
            return ProviderError(text, ErrorClass.BILLING)
        if status == "RESOURCE_EXHAUSTED" or code == 429:
            return ProviderError(text, ErrorClass.RATE_LIMIT, retry_after_s=_retry_delay(error))
        if status in ("UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED") or (isinstance(code, int) and code >= 500):
            return ProviderError(text, ErrorClass.TEMPORARY)
        if status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND") or code in (400, 404):
            return ProviderError(text, ErrorClass.INVALID_REQUEST)
        return ProviderError(text, ErrorClass.UNKNOWN)


def _retry_delay(error: dict[str, Any]) -> float | None:
    """google.rpc.RetryInfo's `retryDelay` ("7s"), when the error carries one."""
    for detail in error.get("details") or []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None
