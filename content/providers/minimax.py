"""Provider `minimax`: MiniMax Hailuo, text to video.

Protocol (reference/provider_apis.md §8, from MiniMax's API documentation): `Authorization: Bearer`;
`POST /v1/video_generation` answers `{task_id, base_resp}`; `GET /v1/query/video_generation?task_id=` walks Preparing /
Queueing / Processing to Success (`file_id`) or Fail (Failed, says its CLI); `GET /v1/files/retrieve?file_id=` hands
out a temporary `download_url`. Errors come as HTTP 200 with `base_resp.status_code` (1008: no balance; 1026/1027:
moderation). Hailuo's text to video is landscape only: set `letterbox_to_portrait` to let its clips be framed into a
9:16 Reel (over a blurred copy of themselves); otherwise failover passes it by for Reels.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
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
MODELS = {"MiniMax-Hailuo-2.3": HAILUO, "MiniMax-Hailuo-02": HAILUO,
          "T2V-01": ModelSpec((6,), PRICES, resolutions={"720P": 1.0}),
          "T2V-01-Director": ModelSpec((6,), PRICES, resolutions={"720P": 1.0})}


class MinimaxParams(HttpParams):
    model: str = Field("MiniMax-Hailuo-2.3", description="the Hailuo model")
    resolution: str = Field("768P", pattern="^(512P|720P|768P|1080P)$")
    letterbox_to_portrait: bool = Field(False, description="accept landscape clips for 9:16 Reels (blurred bars)")
    prices_usd_per_second: Prices = {"MiniMax-Hailuo-2.3": 0.047, "MiniMax-Hailuo-02": 0.047}
    prices_note: str = "UNVERIFIED: third-party figure (about $0.28 for 6 s at 768P)"


class MinimaxProvider(HttpProvider[MinimaxParams]):
    type_name = "minimax"
    max_prompt_chars = 2000
    params_model = MinimaxParams
    required_env = ("MINIMAX_API_KEY",)
    default_base_url = "https://api.minimax.io"

    @property
    def aspect_ratios(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("16:9", "9:16") if self.settings.letterbox_to_portrait else ("16:9",)

    models = MODELS
    unknown_model_durations = (6,)

    def tier(self) -> Tier:
        return Tier(resolution=self.settings.resolution)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('MINIMAX_API_KEY')}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body = {"model": self.settings.model, "prompt": self.prompt(request),
                "duration": int(self.billed_seconds(request.brief.duration_s)), "resolution": self.settings.resolution}
        answer = self._checked(await self.call("POST", "/v1/video_generation", json=body, create=True), create=True)
        return self.created_id(answer, "task_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        status = (await self._query(task_id)).get("status")
        if status in RUNNING:
            return TaskStatus("running", RUNNING[status])
        if status == "Success":
            return TaskStatus("succeeded", 1.0)
        if status in FAILED:
            return TaskStatus("failed", error=ProviderError(f"{self.name}: task {task_id} failed", ErrorClass.UNKNOWN))
        raise self.unknown_state(task_id, status)

    async def output_url(self, task_id: str) -> str:
        file_id = (await self._query(task_id)).get("file_id")
        answer = self._checked(await self.call("GET", "/v1/files/retrieve", params={"file_id": str(file_id)}))
        return self.video_url(member(answer, "file", "download_url"), task_id)

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
