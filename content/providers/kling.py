"""Provider `kling`: Kling AI's official API, text to video.

Protocol (reference/provider_apis.md §4, from Kling's API documentation): every call carries
`Authorization: Bearer <JWT>`, an HS256 token with `iss` = access key, `nbf` = now − 5 s and `exp` = now + 30 min,
signed with the secret key (made again shortly before it expires). `POST /v1/videos/text2video` answers
`{code, message, request_id, data: {task_id, task_status}}`; `GET /v1/videos/text2video/{task_id}` walks submitted /
processing to succeed (`task_result.videos[].url`, `final_unit_deduction`) or failed (`task_status_msg`). Errors carry
a service `code` beside the HTTP status; running out of credits is HTTP 429 with code 1102, not 402. There is no
cancel.

A create whose answer was lost is looked for by our `external_task_id` in the task list
(`GET /v1/videos/text2video?pageNum=&pageSize=`, each task with its `task_info.external_task_id`): the docs do not
confirm that the single-task path takes that id, and a "not found" there would send (and bill) the video twice. Only
a list read to its end says there is no such task; one too long to read leaves the estimate counted as spent.
"""
from __future__ import annotations

import time
from typing import Any, Literal

import jwt
from pydantic import Field

from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus
from content.providers.http import HttpParams, HttpProvider, Prices, member
from core.bounds import as_number
from core.errors import ErrorClass, ProviderError

TOKEN_LIFETIME_S = 1800
RENEW_BEFORE_S = 300
PATH = "/v1/videos/text2video"
LIST_PAGE_SIZE = 500  # the most the list answers at once
LIST_PAGES = 4  # a lost create is among the newest tasks; past this many, whether it exists is not known
SOURCE = "Kling API docs (capability map, read 2026-11)"
PRICES = "UNVERIFIED: Kling bills prepaid units; multipliers from third-party USD rate cards, read 2026-12"
PRO = {"std": 1.0, "pro": 5 / 3}
MODELS = {
    "kling-v1": ModelSpec((5, 10), f"{SOURCE}; {PRICES}", modes={"std": 1.0, "pro": 3.5}),
    "kling-v1-6": ModelSpec((5, 10), f"{SOURCE}; {PRICES}", modes=PRO),
    "kling-v2-master": ModelSpec((5, 10), f"{SOURCE}: one mode; {PRICES}", modes={"pro": 1.0}),
    "kling-v2-1-master": ModelSpec((5, 10), f"{SOURCE}: pro only; {PRICES}", modes={"pro": 1.0}),
    "kling-v2-5-turbo": ModelSpec((5, 10), f"{SOURCE}; {PRICES}", modes=PRO),
    "kling-v2-6": ModelSpec((5, 10), f"{SOURCE}: std without sound only; {PRICES}", modes=PRO, audio=2.0,
                            audio_modes=("pro",)),
    "kling-v3": ModelSpec(tuple(range(3, 16)), f"{SOURCE}: 3-15 s; {PRICES}: pro 4/3, sound 1.5x",
                          modes={"std": 1.0, "pro": 4 / 3}, audio=1.5),
}
# Kling's service codes (its error table), by class.
CODES: dict[int, ErrorClass] = {
    **dict.fromkeys((1000, 1001, 1002, 1003, 1004, 1103, 1304), ErrorClass.AUTH),
    **dict.fromkeys((1100, 1101, 1102), ErrorClass.BILLING),
    **dict.fromkeys((1200, 1201, 1202, 1203), ErrorClass.INVALID_REQUEST),
    **dict.fromkeys((1300, 1301), ErrorClass.CONTENT_VIOLATION),
    **dict.fromkeys((1302, 1303), ErrorClass.RATE_LIMIT),
    **dict.fromkeys((5000, 5001, 5002), ErrorClass.TEMPORARY),
}


class KlingParams(HttpParams):
    model: str = Field("kling-v2-5-turbo", description="Kling's model_name")
    mode: Literal["std", "pro"] = Field("std", description="std: 720p; pro: 1080p (costs more)")
    sound: bool = Field(False, description="kling-v2-6 (pro) and kling-v3: make sound (it costs more)")
    usd_per_unit: float | None = Field(None, gt=0, le=100, description="what one unit of your resource pack cost: "
                                       "set, each video's charge is Kling's own final_unit_deduction")
    prices_usd_per_second: Prices = {"kling-v2-5-turbo": 0.07, "kling-v2-6": 0.07, "kling-v3": 0.10,
                                               "kling-v2-1-master": 0.28}
    prices_note: str = "UNVERIFIED: Kling bills prepaid units; these are third-party per-second equivalents"
    poll_interval_s: float = 10.0


class KlingProvider(HttpProvider[KlingParams]):
    type_name = "kling"
    max_prompt_chars = 2500
    params_model = KlingParams
    required_env = ("KLING_ACCESS_KEY", "KLING_SECRET_KEY")
    default_base_url = "https://api-singapore.klingai.com"
    can_find_tasks = True  # by external_task_id, in the task list
    models = MODELS
    unknown_model_durations = (5, 10)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token, self._token_expires = "", 0.0

    def tier(self) -> Tier:
        return Tier(mode=self.settings.mode, audio=self.settings.sound)

    def auth_headers(self) -> dict[str, str]:
        now = time.time()
        if now > self._token_expires - RENEW_BEFORE_S:
            access, secret = self.secrets.get("KLING_ACCESS_KEY"), self.secrets.get("KLING_SECRET_KEY") or ""
            claims = {"iss": access, "exp": int(now) + TOKEN_LIFETIME_S, "nbf": int(now) - 5}
            self._token_expires = now + TOKEN_LIFETIME_S
            token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})
            self._token = self.secrets.register_token(token, self._token_expires)  # it opens the account like a key
        return {"Authorization": f"Bearer {self._token}"}

    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        body: dict[str, Any] = {
            "model_name": self.settings.model, "prompt": self.prompt(request), "mode": self.settings.mode,
            "aspect_ratio": "9:16", "duration": str(int(self.billed_seconds(request.brief.duration_s))),
            "external_task_id": idempotency_key}
        if self.spec is not None and self.spec.audio is not None:
            body["sound"] = "on" if self.settings.sound else "off"
        return self.created_id(await self.call("POST", PATH, json=body, create=True), "data", "task_id")

    async def poll_one(self, task_id: str) -> TaskStatus:
        task = await self._task(task_id)
        status = task.get("task_status")
        if status == "submitted":
            return TaskStatus("running", 0.0)
        if status == "processing":
            return TaskStatus("running", None)
        if status == "succeed":
            units, price = deducted_units(task.get("final_unit_deduction")), self.settings.usd_per_unit
            return TaskStatus("succeeded", 1.0, cost_usd=units * price if units is not None and price else None)
        if status == "failed":
            return self.task_failed(str(task.get("task_status_msg") or "the task failed"))
        raise self.unknown_state(task_id, status)

    async def find_one(self, idempotency_key: str) -> str | None:
        for page in range(1, LIST_PAGES + 1):
            tasks = member(await self.call("GET", PATH, params={"pageNum": page, "pageSize": LIST_PAGE_SIZE}), "data")
            if not isinstance(tasks, list):
                raise ProviderError(f"{self.name}: the task list came back without its tasks", ErrorClass.TEMPORARY)
            for task in tasks:
                if member(task, "task_info", "external_task_id") == idempotency_key and member(task, "task_id"):
                    return str(task["task_id"])
            if len(tasks) < LIST_PAGE_SIZE:  # read to its end: there is no such task
                return None
        raise ProviderError(f"{self.name}: more than {LIST_PAGES * LIST_PAGE_SIZE} tasks to look through for "
                            f"{idempotency_key}", ErrorClass.UNKNOWN, ambiguous=True)

    async def output_url(self, task_id: str) -> str:
        return self.video_url(member(await self._task(task_id), "task_result", "videos", 0, "url"), task_id)

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        error = super().http_error(status, body, headers)
        code = body.get("code") if isinstance(body, dict) else None
        if code in CODES:
            return ProviderError(f"{error} (code {code})", CODES[code], retry_after_s=error.retry_after_s)
        return error

    async def _task(self, task_id: str) -> dict[str, Any]:
        return await self.fetch_object(f"{PATH}/{task_id}", "data")


def deducted_units(value: Any) -> float | None:
    """`final_unit_deduction`, which Kling's docs give as a string ("5"); TaskStatus bounds the charge made of it."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return as_number(value)
