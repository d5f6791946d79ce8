"""Provider `minimax`: MiniMax Hailuo, text to video; MiniMax-H3 through the v2 API.

Protocol (reference/provider_apis.md §8, from MiniMax's API documentation): `Authorization: Bearer`;
`POST /v1/video_generation` answers `{task_id, base_resp}`; `GET /v1/query/video_generation?task_id=` walks Preparing /
Queueing / Processing to Success (`file_id`) or Fail (Failed, says its CLI); `GET /v1/files/retrieve?file_id=` hands
out a temporary `download_url`. Errors come as HTTP 200 with `base_resp.status_code` (1008: no balance; 1026/1027:
moderation). Hailuo's text to video is landscape only: set `letterbox_to_portrait` to let its clips be framed into a
9:16 Reel (over a blurred copy of themselves); otherwise failover passes it by for Reels.
The H3 models speak v2: `POST /v2/video_generation` with `content` items (the prompt as text; the persona's photo as
a `reference_image`, a data URI), `resolution`, `duration` and a native `ratio` answers `{task_id}`;
`GET /v2/query/video_generation/{id}` answers `{task}`: queued / running to succeeded (`content.url`) or failed,
cancelled, expired (`error.message`). v2 errors are real HTTP codes (422: input moderation). Neither API looks a
task up by our key.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from content.providers.images import data_uri
from core.errors import ErrorClass, ProviderError

CODES: dict[int, ErrorClass] = {
    **dict.fromkeys((1000, 1001, 1013, 1024, 1033), ErrorClass.TEMPORARY),
    **dict.fromkeys((1002, 1039, 1041, 2045, 2056), ErrorClass.RATE_LIMIT),
    **dict.fromkeys((1004, 2049), ErrorClass.AUTH),
    **dict.fromkeys((1008,), ErrorClass.BILLING),
    **dict.fromkeys((1026, 1027), ErrorClass.CONTENT_VIOLATION),
    **dict.fromkeys((2013,), ErrorClass.INVALID_REQUEST),
}
RUNNING = {"Preparing": 0.0, "Queueing": 0.05, "Processing": None}
FAILED = ("Fail", "Failed")  # the docs and MiniMax's MCP server say Fail, its official CLI Failed
PRICES = "MiniMax API docs; UNVERIFIED third-party prices (768P 6 s about $0.28, 1080P $0.49), read 2026-11"
HAILUO = ModelSpec((6, 10), PRICES, resolutions={"768P": 1.0, "1080P": 1.75}, lengths_at={"1080P": (6,)})
H3_PRICES = "MiniMax API docs (v2), prices per output second (768P $0.08, 2K $0.13; H3-Max 480P $0.05), read 2026-12"
MODELS = {"MiniMax-Hailuo-2.3": HAILUO, "MiniMax-Hailuo-02": HAILUO,
          "T2V-01": ModelSpec((6,), PRICES, resolutions={"720P": 1.0}),
          "T2V-01-Director": ModelSpec((6,), PRICES, resolutions={"720P": 1.0}),
          "MiniMax-H3": ModelSpec(tuple(range(4, 16)), H3_PRICES, resolutions={"768P": 1.0, "2K": 0.13 / 0.08},
                                  references=True),
          "MiniMax-H3-Max": ModelSpec(tuple(range(5, 16)), H3_PRICES, resolutions={"480P": 0.05 / 0.08, "768P": 1.0})}
V2 = "v2:"  # the prefix of a task made through the v2 API (the H3 models)
V2_RUNNING = {"queued": 0.0, "running": None}
V2_ENDED = ("failed", "cancelled", "expired")
RATIOS = ("9:16", "16:9", "1:1", "4:3", "3:4", "21:9")  # what H3 makes natively


class MinimaxParams(HttpParams):
    model: str = Field("MiniMax-Hailuo-2.3", description="the Hailuo model")
    resolution: str = Field("768P", pattern="^(480P|512P|720P|768P|1080P|2K)$")
    letterbox_to_portrait: bool = Field(False, description="accept landscape clips for 9:16 Reels (blurred bars)")
    prices_usd_per_second: Prices = {"MiniMax-Hailuo-2.3": 0.047, "MiniMax-Hailuo-02": 0.047, "MiniMax-H3": 0.08,
                                     "MiniMax-H3-Max": 0.08}
    prices_note: str = "UNVERIFIED: third-party figure (about $0.28 for 6 s at 768P)"


class MinimaxProvider(HttpProvider[MinimaxParams]):
    type_name = "minimax"
    max_prompt_chars = 2000
    params_model = MinimaxParams
    required_env = ("MINIMAX_API_KEY",)
    default_base_url = "https://api.minimax.io"

    @property
    def aspect_ratios(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._v2():
            return RATIOS
        return ("16:9", "9:16") if self.settings.letterbox_to_portrait else ("16:9",)

    models = MODELS
    unknown_model_durations = (6,)

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.resolution)

    def takes_reference(self) -> bool:
        return self.spec is not None and self.spec.references

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('MINIMAX_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        if self._v2():
            return V2 + await self._submit_v2(request)
        body = {"model": self.settings.model, "prompt": self.prompt(request),
                "duration": int(self.billed_seconds(request.brief.duration_s)), "resolution": self.settings.resolution}
        answer = self._checked(await self.call("POST", "/v1/video_generation", json=body, create=True), create=True)
        return self.created_id(answer, "task_id")

    async def _submit_v2(self, request: GenerationRequest) -> str:
        """H3 through the v2 API: the prompt and, for a persona with a photo, the photo as a reference image."""
        content: list[dict[str, Any]] = [{"type": "text", "text": self.prompt(request)}]
        if self.takes_reference() and request.look.reference_image is not None:
            content.append({"type": "image_url", "image_url": {"url": data_uri(request.look.reference_image)},
                            "role": "reference_image"})
        body = {"model": self.settings.model, "content": content, "resolution": self.settings.resolution,
                "duration": int(self.billed_seconds(request.brief.duration_s)), "ratio": request.brief.aspect_ratio}
        return self.created_id(await self.call("POST", "/v2/video_generation", json=body, create=True), "task_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        if task_id.startswith(V2):
            task = await self._task_v2(task_id)
            status = task.get("status")
            if status in V2_RUNNING:
                return TaskStatus("running", V2_RUNNING[status])
            if status == "succeeded":
                return TaskStatus("succeeded", 1.0)
            if status in V2_ENDED:
                return self.task_failed(str(member(task, "error", "message") or f"the task was {status}"))
            raise self.unknown_state(task_id, status)
        status = (await self._query(task_id)).get("status")
        if status in RUNNING:
            return TaskStatus("running", RUNNING[status])
        if status == "Success":
            return TaskStatus("succeeded", 1.0)
        if status in FAILED:
            return TaskStatus("failed", error=ProviderError(f"{self.name}: task {task_id} failed", ErrorClass.UNKNOWN))
        raise self.unknown_state(task_id, status)

    async def output_url(self, task_id: str) -> str:
        if task_id.startswith(V2):
            return self.video_url(member(await self._task_v2(task_id), "content", "url"), task_id)
        file_id = (await self._query(task_id)).get("file_id")
        answer = self._checked(await self.call("GET", "/v1/files/retrieve", params={"file_id": str(file_id)}))
        return self.video_url(member(answer, "file", "download_url"), task_id)

    def _v2(self) -> bool:
        return self.settings.model.startswith("MiniMax-H3")

    async def _task_v2(self, task_id: str) -> dict[str, Any]:
        return await self.fetch_object(f"/v2/query/video_generation/{task_id.removeprefix(V2)}", "task")

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        """v2 answers with HTTP codes: a 422 is its input moderation (1026)."""
        error = super().http_error(status, body, headers)
        if status == 422:
            return ProviderError(str(error), ErrorClass.CONTENT_VIOLATION)
        return error

    async def _query(self, task_id: str) -> dict[str, Any]:
        return self._checked(await self.call("GET", "/v1/query/video_generation", params={"task_id": task_id}))

    def _checked(self, answer: Any, create: bool = False) -> dict[str, Any]:
        """MiniMax answers HTTP 200 to most failures: the verdict is `base_resp.status_code`."""
        if not isinstance(answer, dict):
            raise ProviderError(f"{self.name}: an empty answer", ErrorClass.TEMPORARY, ambiguous=create)
        base = answer.get("base_resp") or {}
        code = base.get("status_code", 0)
        if code:
            kind = CODES.get(code, ErrorClass.UNKNOWN)
            raise ProviderError(f"{self.name}: {base.get('status_msg') or 'error'} (code {code})", kind)
        return answer
