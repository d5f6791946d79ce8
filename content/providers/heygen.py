"""Provider `heygen`: a HeyGen avatar speaks the brief (hook, beats, call to action) in a 9:16 video.

Protocol (HeyGen's v3 API as its CLI, generated from HeyGen's OpenAPI spec, speaks it; v1/v2 were shut down on
2026-10-31): `x-api-key`; `POST /v3/videos` with `type: "avatar"`, `avatar_id`, `script`, `voice_id`,
`aspect_ratio` "9:16", `resolution` and `engine` answers `{"data": {"video_id", "status"}}`; `GET /v3/videos/{id}`
walks pending (waiting, queued) / processing to completed (`video_url`, presigned: asked again when it has expired)
or failed (`failure_code`, `failure_message`). Errors are `{"error": {"code", "message"}}` (402
insufficient_credit, 429 with Retry-After). A create carries our key as its `title` (and as an Idempotency-Key,
which HeyGen documents for some endpoints only): a lost answer is found by listing `GET /v3/videos?title=`. No
cancel. The video lasts as long as the avatar speaks, so there is no length limit to declare; billed per second.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from core.errors import ErrorClass, ProviderError

ENGINES = {"avatar-iv": "avatar_iv", "digital-twin": "avatar_iv", "avatar-iii": "avatar_iii"}  # price row → engine
LIST_PAGES = 5  # pages of a title's matches read before saying "not known"


class HeygenParams(HttpParams):
    model: Literal["avatar-iv", "digital-twin", "avatar-iii"] = Field(
        "digital-twin", description="the price row and engine: avatar-iv (a photo avatar on Avatar IV), digital-twin "
                                    "(a digital twin or studio avatar on Avatar IV), avatar-iii (the older engine)")
    avatar_id: str = Field("Daisy-inskirt-20220818", description="your avatar or photo-avatar look (the default is "
                                                                 "HeyGen's example studio avatar)")
    voice_id: str = Field("2d5b0e6cf36f460aa7fc47e3eee4ba54", description="your voice (HeyGen's example voice)")
    resolution: Literal["720p", "1080p"] = Field("1080p", description="720p and 1080p cost the same")
    prices_usd_per_second: Prices = {"avatar-iv": 0.05, "digital-twin": 0.0667, "avatar-iii": 0.0167}
    prices_note: str = "HeyGen's API pricing page (pay-as-you-go wallet, per second, 720p/1080p), read 2026-12"


class HeygenProvider(HttpProvider[HeygenParams]):
    type_name = "heygen"
    speaks = True
    can_find_tasks = True  # by our key, the title of the video it made
    params_model = HeygenParams
    required_env = ("HEYGEN_API_KEY",)
    default_base_url = "https://api.heygen.com"

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.secrets.get("HEYGEN_API_KEY") or ""}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        brief = request.brief
        script = " ".join([brief.hook, *brief.beats, brief.cta])[:5000]
        body = {"type": "avatar", "avatar_id": self.settings.avatar_id, "script": script,
                "voice_id": self.settings.voice_id, "aspect_ratio": "9:16", "resolution": self.settings.resolution,
                "engine": {"type": ENGINES[self.settings.model]}, "title": idempotency_key}
        answer = await self.call("POST", "/v3/videos", json=body, create=True,
                                 headers={"Idempotency-Key": idempotency_key})
        return self.created_id(answer, "data", "video_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        video = await self._video(task_id)
        status = video.get("status")
        if status == "completed":
            return TaskStatus("succeeded", 1.0)
        if status == "failed":
            return self.task_failed(str(video.get("failure_message") or video.get("failure_code") or
                                        "the video failed"))
        if status in ("pending", "waiting", "queued", "processing"):
            return TaskStatus("running", None if status == "processing" else 0.0)
        raise self.unknown_state(task_id, status)

    async def find_one(self, idempotency_key: str) -> str | None:
        """The video titled with our key: the title filter matches substrings, so the title must be equal."""
        params: dict[str, str | int] = {"title": idempotency_key, "limit": 100}
        for _ in range(LIST_PAGES):
            answer = await self.call("GET", "/v3/videos", params=params)
            videos = member(answer, "data")
            if not isinstance(videos, list):
                raise ProviderError(f"{self.name}: the video list came back without its videos", ErrorClass.TEMPORARY)
            for video in videos:
                if isinstance(video, dict) and video.get("title") == idempotency_key and video.get("id"):
                    return str(video["id"])
            if not member(answer, "has_more") or not member(answer, "next_token"):
                return None
            params["token"] = str(answer["next_token"])
        raise ProviderError(f"{self.name}: too many videos titled like {idempotency_key} to look through",
                            ErrorClass.UNKNOWN, ambiguous=True)

    async def output_url(self, task_id: str) -> str:
        return self.video_url((await self._video(task_id)).get("video_url"), task_id)

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = super().http_error(status, body, headers)
        code = str(((body or {}).get("error") or {}).get("code", "")) if isinstance(body, dict) else ""
        if "credit" in code.lower():  # 402 insufficient_credit (quota_exceeded is a 429: a rate limit)
            return ProviderError(str(error), ErrorClass.BILLING)
        return error

    async def _video(self, task_id: str) -> dict[str, Any]:
        return await self.fetch_object(f"/v3/videos/{task_id}", "data")
