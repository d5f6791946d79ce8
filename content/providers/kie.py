"""Provider `kie`: KIE.AI, a reseller with Veo 3.1, Runway and Kling behind one key, text to video.

Protocol (KIE's docs, docs.kie.ai, read 2026-12): `Authorization: Bearer`; every answer is an envelope
`{code, msg, data}` whose `code` (not the HTTP status, which is 200) says how it went: 401 auth, 402 no credits, 433
a sub-key's cap, 429 rate limit (no Retry-After), 422 a refused request (for Veo also its content policy), 455
maintenance, 500 server error, 501 generation failed. Three families, by model:
- Kling through the Market API: `POST /api/v1/jobs/createTask` `{model, input}` (`duration` a string), then
  `GET /api/v1/jobs/recordInfo?taskId=`: waiting / queuing / generating to success (`resultJson`, a JSON string
  with `resultUrls`) or fail (`failMsg`).
- Veo 3.1: `POST /api/v1/veo/generate`, then `GET /api/v1/veo/record-info?taskId=`: `successFlag` 0 running, 1 done
  (`response.resultUrls`), 2 or 3 failed (`errorMessage`). Priced per 8 s video.
- Runway: `POST /api/v1/runway/generate`, then `GET /api/v1/runway/record-detail?taskId=`: wait / queueing /
  generating to success (`videoInfo.videoUrl`) or fail.
KIE takes no key of ours and lists no tasks: a create whose answer is lost cannot be looked up, so its estimate
counts as spent. No cancel. Result links expire within a day: each download asks again.
"""
from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import MODERATION_WORDS, HttpParams, HttpProvider, Prices, member
from core.bounds import as_number
from core.errors import ErrorClass, ProviderError

USD_PER_CREDIT = 0.005
PRICES = "kie.ai/pricing (1 credit = $0.005), read 2026-06-30"
MODELS = {
    "veo3_fast": ModelSpec((8,), f"{PRICES}: 60 credits a video at 720p, 65 at 1080p, 180 at 4k",
                           resolutions={"720p": 1.0, "1080p": 65 / 60, "4k": 3.0}),
    "veo3": ModelSpec((8,), f"{PRICES}: 250 credits a video at 720p, 255 at 1080p, 370 at 4k",
                      resolutions={"720p": 1.0, "1080p": 255 / 250, "4k": 370 / 250}),
    "veo3_lite": ModelSpec((8,), f"{PRICES}: 30 credits a video at 720p, 35 at 1080p, 150 at 4k",
                           resolutions={"720p": 1.0, "1080p": 35 / 30, "4k": 5.0}),
    "runway": ModelSpec((5, 10), f"{PRICES}: 12 credits for 5 s, 30 for 10 s at 720p (priced at the 10 s rate); "
                                 "1080p 30 for 5 s only", resolutions={"720p": 1.0, "1080p": 2.0},
                        lengths_at={"1080p": (5,)}),
    "kling-2.6/text-to-video": ModelSpec((5, 10), f"{PRICES}: 55 credits for 5 s, twice that with sound",
                                         audio=2.0),
    "kling/v2-5-turbo-text-to-video-pro": ModelSpec((5, 10), f"{PRICES}: 42 credits for 5 s"),
    "kling-3.0/video": ModelSpec(tuple(range(3, 16)), f"{PRICES}: 14 credits/s std (720p), 18 pro (1080p), 67 at "
                                                      "4K; with sound about 1.5x",
                                 modes={"std": 1.0, "pro": 18 / 14, "4K": 67 / 14}, audio=1.5),
}
VEO, RUNWAY = ("veo3_fast", "veo3", "veo3_lite"), ("runway",)
CODES: dict[int, ErrorClass] = {
    401: ErrorClass.AUTH, 402: ErrorClass.BILLING, 433: ErrorClass.BILLING, 429: ErrorClass.RATE_LIMIT,
    400: ErrorClass.INVALID_REQUEST, 404: ErrorClass.INVALID_REQUEST, 422: ErrorClass.INVALID_REQUEST,
    451: ErrorClass.INVALID_REQUEST, 505: ErrorClass.INVALID_REQUEST,
    455: ErrorClass.TEMPORARY, 500: ErrorClass.TEMPORARY, 501: ErrorClass.UNKNOWN,
}
RUNNING = {"waiting": 0.0, "wait": 0.0, "queuing": 0.05, "queueing": 0.05, "generating": None}


class KieParams(HttpParams):
    model: Literal["veo3_fast", "veo3", "veo3_lite", "runway", "kling-2.6/text-to-video",
                   "kling/v2-5-turbo-text-to-video-pro", "kling-3.0/video"] = "veo3_fast"
    resolution: Literal["720p", "1080p", "4k"] = Field("720p", description="Veo and Runway (Runway: 720p or 1080p)")
    mode: Literal["std", "pro", "4K"] = Field("std", description="kling-3.0/video: std 720p, pro 1080p, 4K")
    sound: bool = Field(False, description="kling-2.6 and kling-3.0: make sound (it costs more)")
    prices_usd_per_second: Prices = {
        "veo3_fast": 0.0375, "veo3": 0.15625, "veo3_lite": 0.01875, "runway": 0.015,
        "kling-2.6/text-to-video": 0.055, "kling/v2-5-turbo-text-to-video-pro": 0.042, "kling-3.0/video": 0.07}
    prices_note: str = "KIE's credit prices (1 credit = $0.005) from kie.ai/pricing, 2026-06-30: check them"
    poll_interval_s: float = 10.0


class KieProvider(HttpProvider[KieParams]):
    type_name = "kie"
    max_prompt_chars = 1800  # Runway's, the smallest of the three
    params_model = KieParams
    required_env = ("KIE_API_KEY",)
    default_base_url = "https://api.kie.ai"

    models = MODELS

    def tier(self) -> Tier:
        model = self.settings.model
        return Tier(resolution=self.settings.resolution if model in VEO + RUNWAY else "",
                    mode=self.settings.mode if model == "kling-3.0/video" else "", audio=self.settings.sound)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('KIE_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        model, prompt = self.settings.model, self.prompt(request)
        seconds = int(self.billed_seconds(request.brief.duration_s))
        if model in VEO:  # the docs name the ratio both ways (aspectRatio, and lately aspect_ratio): both are sent
            path, body = "/api/v1/veo/generate", {
                "prompt": prompt, "model": model, "generationType": "TEXT_2_VIDEO", "aspectRatio": "9:16",
                "aspect_ratio": "9:16", "resolution": self.settings.resolution, "duration": seconds}
        elif model in RUNWAY:
            path, body = "/api/v1/runway/generate", {
                "prompt": prompt, "duration": seconds, "quality": self.settings.resolution, "aspectRatio": "9:16",
                "waterMark": ""}
        else:
            inputs: dict[str, Any] = {"prompt": prompt, "aspect_ratio": "9:16", "duration": str(seconds)}
            if self.spec is not None and self.spec.audio is not None:
                inputs["sound"] = self.settings.sound
            if self.spec is not None and self.spec.modes:
                inputs["mode"] = self.settings.mode
            path, body = "/api/v1/jobs/createTask", {"model": model, "input": inputs}
        answer = self._checked(await self.call("POST", path, json=body, create=True), create=True)
        return f"{self._family()}:{self.created_id(answer, 'data', 'taskId')}"

    async def poll_one(self, task_id: str) -> TaskStatus:
        family, _, kie_id = task_id.partition(":")
        task = await self._task(family, kie_id)
        if family == "veo":
            flag = task.get("successFlag")
            if flag == 0:
                return TaskStatus("running", None)
            if flag == 1:
                return TaskStatus("succeeded", 1.0)
            if flag in (2, 3):
                return self.task_failed(str(task.get("errorMessage") or "the video failed"))
            raise self.unknown_state(task_id, flag)
        state = task.get("state")
        if state in RUNNING:
            return TaskStatus("running", RUNNING[state])
        if state == "success":
            credits = as_number(task.get("creditsConsumed"))  # Market only, where KIE reports it
            return TaskStatus("succeeded", 1.0, cost_usd=credits * USD_PER_CREDIT if credits is not None else None)
        if state == "fail":
            return self.task_failed(str(task.get("failMsg") or task.get("failCode") or "the video failed"))
        raise self.unknown_state(task_id, state)

    async def output_url(self, task_id: str) -> str:
        family, _, kie_id = task_id.partition(":")
        task = await self._task(family, kie_id)
        if family == "veo":
            return self.video_url(member(task, "response", "resultUrls", 0), task_id)
        if family == "runway":
            return self.video_url(member(task, "videoInfo", "videoUrl"), task_id)
        try:
            result = json.loads(task.get("resultJson") or "{}")
        except (TypeError, ValueError):
            result = {}
        return self.video_url(member(result, "resultUrls", 0), task_id)

    def _family(self) -> str:
        model = self.settings.model
        return "veo" if model in VEO else "runway" if model in RUNWAY else "market"

    async def _task(self, family: str, kie_id: str) -> dict[str, Any]:
        path = {"veo": "/api/v1/veo/record-info", "runway": "/api/v1/runway/record-detail"}.get(
            family, "/api/v1/jobs/recordInfo")
        task = member(self._checked(await self.call("GET", path, params={"taskId": kie_id})), "data")
        if not isinstance(task, dict):
            raise ProviderError(f"{self.name}: task {kie_id} came back without its record", ErrorClass.TEMPORARY)
        return task

    def _checked(self, answer: Any, create: bool = False) -> dict[str, Any]:
        """KIE answers HTTP 200 to its failures: the verdict is the envelope's `code`."""
        if not isinstance(answer, dict):
            raise ProviderError(f"{self.name}: an answer that is not an object", ErrorClass.TEMPORARY,
                                ambiguous=create)
        code = answer.get("code")
        if code == 200:
            return answer
        message = str(answer.get("msg") or answer.get("message") or "error")
        kind = CODES.get(code, ErrorClass.UNKNOWN) if isinstance(code, int) else ErrorClass.TEMPORARY
        if kind == ErrorClass.INVALID_REQUEST and any(word in message.lower() for word in MODERATION_WORDS):
            kind = ErrorClass.CONTENT_VIOLATION  # Veo's content policy comes as a 422
        raise ProviderError(f"{self.name}: {message} (code {code})", kind,
                            ambiguous=create and not isinstance(code, int))
