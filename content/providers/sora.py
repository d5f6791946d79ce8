"""Provider `sora`: OpenAI's Videos API (sora-2, sora-2-pro). DEPRECATED: OpenAI shut it down on 2026-09-24; the
adapter stays for proxies and compatible servers, and `config check` warns when it is configured.

Protocol (reference/provider_apis.md §2, from OpenAI's official SDK): `Authorization: Bearer`; `POST /videos` as
multipart form (`prompt`, `model`, `seconds` as a string, `size` "720x1280") answers a Video object; `GET /videos/{id}`
walks queued / in_progress (`progress` in percent) to completed or failed (`error`), and the `openai-poll-after-ms`
header says when to ask again; `GET /videos/{id}/content` is the MP4. Errors use OpenAI's `{"error": {...}}` envelope.
"""
from __future__ import annotations

from typing import Any, Literal

import aiohttp
from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices
from core.bounds import as_number, header_number
from core.errors import ErrorClass, ProviderError

PRICES = "OpenAI SDK sizes; UNVERIFIED third-party prices, read 2026-11"
MODELS = {"sora-2": ModelSpec((4, 8, 12), PRICES, resolutions={"720x1280": 1.0}),
          "sora-2-pro": ModelSpec((4, 8, 12), PRICES, resolutions={"720x1280": 1.0, "1024x1792": 5 / 3})}


class SoraParams(HttpParams):
    model: str = Field("sora-2", description="sora-2 or sora-2-pro")
    size: Literal["720x1280", "1024x1792"] = "720x1280"
    prices_usd_per_second: Prices = {"sora-2": 0.10, "sora-2-pro": 0.30}
    prices_note: str = "UNVERIFIED: third-party figures for 720x1280 (sora-2-pro at 1024x1792: $0.50)"
    poll_interval_s: float = 5.0


class SoraProvider(HttpProvider[SoraParams]):
    type_name = "sora"
    max_prompt_chars = 32000
    params_model = SoraParams
    required_env = ("OPENAI_API_KEY",)
    default_base_url = "https://api.openai.com/v1"
    deprecated = "OpenAI shut the Sora video API down on 2026-09-24; only an OpenAI-compatible server still works"

    models = MODELS
    unknown_model_durations = (4, 8, 12)

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.size)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('OPENAI_API_KEY')}"}

    def download_headers(self) -> dict[str, str]:
        return {**self.auth_headers(), "Accept": "application/binary"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        form = aiohttp.FormData(default_to_multipart=True)  # as the SDK sends it
        for field, value in (("prompt", self.prompt(request)), ("model", self.settings.model),
                             ("seconds", str(int(self.billed_seconds(request.brief.duration_s)))),
                             ("size", self.settings.size)):
            form.add_field(field, value)
        return self.created_id(await self.call("POST", "/videos", data=form, create=True), "id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        video, hint = await self._video(task_id)
        status = video.get("status")
        if status in ("queued", "in_progress"):
            percent = as_number(video.get("progress"))
            return TaskStatus("running", percent / 100 if percent is not None else None, poll_after_s=hint)
        if status == "completed":
            return TaskStatus("succeeded", 1.0)
        if status == "failed":
            error = video.get("error") or {}
            return TaskStatus("failed", error=self._classified(400, error, None))
        raise self.unknown_state(task_id, status)

    async def output_url(self, task_id: str) -> str:
        return f"{self.base_url}/videos/{task_id}/content"

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = body.get("error") if isinstance(body, dict) else None
        return self._classified(status, error if isinstance(error, dict) else {}, headers,
                                fallback=super().http_error(status, body, headers))

    def _classified(self, status: int, error: dict[str, Any], headers: Any,
                    fallback: ProviderError | None = None) -> ProviderError:
        """OpenAI's error `code`: insufficient_quota is billing, moderation_blocked a content violation."""
        code = str(error.get("code") or "")
        message = f"{self.name}: {error.get('message') or 'the video failed'}" + (f" ({code})" if code else "")
        if code == "insufficient_quota":
            return ProviderError(message, ErrorClass.BILLING)
        if "moderation" in code or "content_policy" in code:
            return ProviderError(message, ErrorClass.CONTENT_VIOLATION)
        return fallback or ProviderError(message, ErrorClass.UNKNOWN)

    async def _video(self, task_id: str) -> tuple[dict[str, Any], float | None]:
        """The Video object, and OpenAI's `openai-poll-after-ms` hint in seconds."""
        video, headers = await self.call_with_headers("GET", f"/videos/{task_id}")
        if not isinstance(video, dict):
            raise ProviderError(f"{self.name}: GET /videos/{task_id} answered without an object", ErrorClass.TEMPORARY)
        hint = header_number(headers, "openai-poll-after-ms")
        return video, hint / 1000 if hint is not None else None
