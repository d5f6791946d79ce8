"""The shared base of the HTTP adapters: one aiohttp session per provider, JSON calls whose failures are mapped to the
engine's error classes at this one boundary (every answer redacted of our secrets first), and streamed downloads that
resume (or restart) when cut.

No call is retried here: the engine decides what to retry, and a create call is never retried blindly. A create whose
answer is lost (a timeout, a dropped connection, a garbled body) raises an *ambiguous* error, which the engine
reconciles by looking the task up.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import aiohttp
from pydantic import BaseModel, Field

from content.media.ffmpeg import ProgressCallback, run_ffmpeg
from content.providers.capabilities import ModelSpec, Tier
from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider
from core.bounds import MAX_WAIT_S, retry_after
from core.errors import ErrorClass, ProviderError
from core.settings import STRICT

DOWNLOAD_TRIES = 4  # a cut download resumes (or restarts) this many times before it counts as a temporary error
CHUNK = 1 << 16
MAX_PARTS = 4  # a video longer than the model makes is made as up to this many parts, then joined
PARTS = "parts:"  # a multi-part task id: "parts:<id>|<id>|..."
MODERATION_WORDS = ("moderat", "policy", "risk control", "content security", "sensitive", "flagged", "nsfw", "safety",
                    "not allowed")


ClipSeconds = Annotated[int, Field(ge=1, le=60)]  # a length a model makes
Prices = dict[str, Annotated[float, Field(ge=0, le=100)]]  # per model: USD per second of video


class HttpParams(BaseModel):
    """What every HTTP provider entry may set; each adapter gives its own defaults (model, prices, poll timing)."""

    model_config = STRICT

    base_url: str | None = Field(None, description="the API's address (a proxy, a regional endpoint, a test fake)")
    model: str
    prices_usd_per_second: Prices = Field(description="per model: what one second of video costs at its base tier "
                                                      "(base resolution and mode, no sound)")
    prices_note: str = Field("", description="where the prices come from; unverified figures say so")
    poll_interval_s: float = Field(5.0, gt=0, le=600, description="the longest wait between two polls of a task")
    timeout_s: float = Field(60.0, gt=0, le=MAX_WAIT_S, description="for one request (downloads: between two chunks)")
    durations_s: list[ClipSeconds] | None = Field(None, min_length=1, description="only these of the lengths the "
                                                  "model makes (unset: all; a model the adapter does not know: "
                                                  "the lengths it makes)")


class ExpiredUrl(ProviderError):
    """An output URL that no longer works: the task is fetched again for a fresh one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorClass.TEMPORARY)


P = TypeVar("P", bound=HttpParams)


class HttpProvider(VideoProvider, Generic[P]):
    """One configured HTTP API. Subclasses set `default_base_url`, their auth headers and their protocol for one
    task (`submit_one`, `poll_one`, `output_url`, and where the API has them `cancel_one` and `find_one`).

    A video longer than the model makes is made here as equal parts (each its own task, its own idempotency key
    `<key>-part<N>of<count>`) and joined after download; to the engine it is one task whose id lists the parts."""

    params_model: ClassVar[type[BaseModel]] = HttpParams
    default_base_url: ClassVar[str]
    models: ClassVar[Mapping[str, ModelSpec]] = {}  # what the vendor documents of each model it takes
    unknown_model_durations: ClassVar[tuple[int, ...]] = ()  # a model the table lacks: these lengths, unless set

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session: aiohttp.ClientSession | None = None

    @property
    def settings(self) -> P:
        """The entry's params, as the adapter's own model (`HttpProvider[RunwayParams]`)."""
        return self.params  # type: ignore[return-value]  # built from params_model, which is P

    @property
    def poll_interval_s(self) -> float:  # type: ignore[override]
        return self.settings.poll_interval_s

    @property
    def base_url(self) -> str:
        return (self.settings.base_url or self.default_base_url).rstrip("/")

    @property
    def spec(self) -> ModelSpec | None:
        """The configured model's capabilities and price multipliers (None: a model the table lacks)."""
        return self.models.get(self.settings.model)

    def tier(self) -> Tier:
        """What the entry asks of its model besides the length (adapters with resolutions, modes or sound say)."""
        return Tier()

    def misconfigured(self) -> str | None:
        spec, model = self.spec, self.settings.model
        if spec is not None and (refusal := spec.refusal(model, self.tier())) is not None:
            return refusal
        if spec is not None and not self.durations():
            return f"{model} makes none of durations_s {self.settings.durations_s} at this tier"
        if model not in self.settings.prices_usd_per_second:
            return f"no price for {model} in prices_usd_per_second (the budget needs an estimate)"
        return None

    def estimate_cost(self, request: GenerationRequest) -> float:
        billed = sum(self.billed_seconds(seconds) for seconds in self.part_lengths(request.brief.duration_s))
        return round(self.price_per_second() * billed, 6)

    def longest_video_s(self) -> float | None:
        return self.max_duration_s * MAX_PARTS if self.max_duration_s is not None else None

    def part_lengths(self, wanted_s: float) -> list[float]:
        """The video in as few equal parts as the model's longest allows."""
        longest = self.max_duration_s
        count = 1 if longest is None else max(1, math.ceil(wanted_s / longest - 1e-9))
        return [wanted_s / count] * count

    @abstractmethod
    async def submit_one(self, request: GenerationRequest, idempotency_key: str) -> str:
        """Create one task for `request.brief` (its length is one the model makes); returns its id."""

    @abstractmethod
    async def poll_one(self, task_id: str) -> TaskStatus:
        """One task's state now."""

    async def cancel_one(self, task_id: str) -> bool:
        return False

    async def find_one(self, idempotency_key: str) -> str | None:
        return None

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        lengths = self.part_lengths(request.brief.duration_s)
        if len(lengths) == 1:
            return await self.submit_one(request, idempotency_key)
        made: list[str] = []
        for index, seconds in enumerate(lengths):
            try:
                made.append(await self.submit_one(_part(request, seconds, index, len(lengths)),
                                                  _part_key(idempotency_key, index, len(lengths))))
            except ProviderError as exc:
                if not made:
                    raise
                await self._cancel_parts(made)  # parts already made may be billed: the estimate counts as spent
                raise ProviderError(f"{exc} (after {len(made)} of {len(lengths)} parts were made)", exc.error_class,
                                    retry_after_s=exc.retry_after_s, ambiguous=True) from None
        return PARTS + "|".join(made)

    async def poll(self, task_id: str) -> TaskStatus:
        if not task_id.startswith(PARTS):
            return await self.poll_one(task_id)
        parts = await asyncio.gather(*(self.poll_one(part) for part in _parts(task_id)))
        failed = next((status for status in parts if status.state == "failed"), None)
        if failed is not None:
            await self._cancel_parts(_parts(task_id))
            return failed
        if all(status.state == "succeeded" for status in parts):
            costs = [status.cost_usd for status in parts]
            return TaskStatus("succeeded", 1.0, None if None in costs else sum(c or 0.0 for c in costs))
        hints = [status.poll_after_s for status in parts if status.poll_after_s]
        progress = sum((1.0 if s.state == "succeeded" else s.progress or 0.0) for s in parts) / len(parts)
        return TaskStatus("running", progress, poll_after_s=max(hints) if hints else None)

    async def cancel(self, task_id: str) -> bool:
        if not task_id.startswith(PARTS):
            return await self.cancel_one(task_id)
        return await self._cancel_parts(_parts(task_id))

    async def find_task(self, idempotency_key: str) -> str | None:
        """The task made with this key; for a multi-part video, all its parts or none. Some parts without the
        rest cannot be resumed and may be billed: that is raised as an ambiguous failure, so its estimate counts."""
        single = await self.find_one(idempotency_key)
        if single is not None or not self.can_find_tasks:
            return single
        for count in range(2, MAX_PARTS + 1):
            if await self.find_one(_part_key(idempotency_key, 0, count)) is None:
                continue
            found = [await self.find_one(_part_key(idempotency_key, index, count)) for index in range(count)]
            if None in found:
                raise ProviderError(f"{self.name}: only {count - found.count(None)} of the video's {count} parts "
                                    f"were made", ErrorClass.UNKNOWN, ambiguous=True)
            return PARTS + "|".join(part for part in found if part is not None)
        return None

    def price_per_second(self) -> float:
        """The model's base price times its tier's multiplier (1080p, pro mode, sound)."""
        prices = self.settings.prices_usd_per_second
        if self.settings.model not in prices:
            raise ProviderError(f"{self.name}: no price for model {self.settings.model!r} in prices_usd_per_second",
                                ErrorClass.INVALID_REQUEST)
        spec = self.spec
        return prices[self.settings.model] * (spec.factor(self.tier()) if spec is not None else 1.0)

    def durations(self) -> tuple[int, ...]:
        """The lengths the model makes at the entry's tier, in seconds (empty: any length), narrowed to the entry's
        own `durations_s` when it sets them."""
        spec, chosen = self.spec, self.settings.durations_s
        if spec is None:
            return tuple(chosen or self.unknown_model_durations)
        return tuple(d for d in spec.lengths(self.tier()) if chosen is None or d in chosen)

    @property
    def max_duration_s(self) -> float | None:  # type: ignore[override]
        allowed = self.durations()
        return float(max(allowed)) if allowed else None

    def billed_seconds(self, wanted_s: float) -> float:
        """The length the provider will make (and bill) for a video of `wanted_s`: the shortest allowed one that is
        long enough."""
        allowed = self.durations()
        if not allowed:
            return wanted_s
        return float(min((d for d in allowed if d >= wanted_s), default=max(allowed)))

    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate a call (read from the environment by `secrets`, never logged)."""
        return {}

    @abstractmethod
    async def output_url(self, task_id: str) -> str:
        """Where the finished task's video is (asked afresh each time: links expire)."""

    async def download(self, task_id: str, destination: Path) -> Path:
        if not task_id.startswith(PARTS):
            return await self._download_one(task_id, destination)
        files = [await self._download_one(part, destination.with_name(f"{destination.stem}.part{n}.mp4"))
                 for n, part in enumerate(_parts(task_id), 1)]
        try:
            await join_videos(files, destination)
        finally:
            for file in files:
                file.unlink(missing_ok=True)
        return destination

    async def _download_one(self, task_id: str, destination: Path) -> Path:
        try:
            return await self.fetch_file(await self.output_url(task_id), destination, self.download_headers())
        except ExpiredUrl:  # the task hands out a fresh link
            return await self.fetch_file(await self.output_url(task_id), destination, self.download_headers())

    async def _cancel_parts(self, parts: list[str]) -> bool:
        """Best effort: a part that cannot be cancelled (or is already done) is left as it is."""
        results = await asyncio.gather(*(self.cancel_one(part) for part in parts), return_exceptions=True)
        return any(result is True for result in results)

    def download_headers(self) -> dict[str, str]:
        """Headers for fetching the video itself (most links are signed and need none)."""
        return {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        return self._session

    async def call(self, method: str, path: str, *, create: bool = False, **kwargs: Any) -> Any:
        """One API call, its JSON answer decoded; any failure raised as a ProviderError of the right class.

        `create`: the call that may start a paid task; an answer lost after the request went out is ambiguous."""
        return (await self.call_with_headers(method, path, create=create, **kwargs))[0]

    async def call_with_headers(self, method: str, path: str, *, create: bool = False,
                                **kwargs: Any) -> tuple[Any, Mapping[str, str]]:
        """`call`, with the answer's headers (some APIs put their poll hints there).

        Every answer is redacted here, where a provider's words enter the system: an API that echoes our key, a
        token made from it or a URL's password back (in an error, a task's failure message) cannot carry it into an
        error, the database, a report or the terminal."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        try:
            async with self.session().request(method, url, headers=headers, **kwargs) as response:
                body = await response.read()
                if response.status >= 400:
                    raise self.http_error(response.status, self.error_body(body), response.headers)
                if not body.strip():
                    return None, response.headers
                try:
                    return self.secrets.redact_answer(json.loads(body)), response.headers
                except ValueError:
                    raise ProviderError(f"{self.name}: the answer to {method} {path} is not JSON", ErrorClass.TEMPORARY,
                                        ambiguous=create) from None
        except aiohttp.ClientConnectorError as exc:  # never reached the server: nothing was sent
            raise ProviderError(f"{self.name}: cannot connect ({type(exc).__name__})", ErrorClass.TEMPORARY) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ProviderError(f"{self.name}: {method} {path} failed midway ({type(exc).__name__})",
                                ErrorClass.TEMPORARY,
                                ambiguous=create) from None

    def error_body(self, body: bytes) -> Any:
        """An error answer as JSON (or text when it is none), redacted like every answer: see `call_with_headers`."""
        try:
            return self.secrets.redact_answer(json.loads(body))
        except ValueError:
            return self.secrets.redact(body.decode("utf-8", "replace"))

    def created_id(self, answer: Any, *path: str) -> str:
        """The new task's id at `path` in a create answer. Without one the task may exist all the same: ambiguous."""
        value = member(answer, *path)
        if not isinstance(value, str) or not value:
            raise ProviderError(f"{self.name}: the create answer has no {'.'.join(path)}", ErrorClass.TEMPORARY,
                                ambiguous=True)
        return value

    async def fetch_object(self, path: str, *inside: str, **kwargs: Any) -> dict[str, Any]:
        """GET a JSON object (or the object at `inside` it): a task's state, which a poll cannot do without."""
        value = member(await self.call("GET", path, **kwargs), *inside)
        if not isinstance(value, dict):
            raise ProviderError(f"{self.name}: GET {path} answered without {'.'.join(inside) or 'an object'}",
                                ErrorClass.TEMPORARY)
        return value

    def video_url(self, value: Any, task_id: str) -> str:
        """A finished task's video link, or the error of a task that finished without one."""
        if not isinstance(value, str) or not value:
            raise ProviderError(f"{self.name}: task {task_id} finished without a video URL", ErrorClass.UNKNOWN)
        return value

    def task_failed(self, message: str) -> TaskStatus:
        """A task the provider reports failed, by its message: moderation wording (each API's own: risk control,
        flagged, NSFW...) makes it a content violation, anything else is unknown."""
        moderated = any(word in message.lower() for word in MODERATION_WORDS)
        kind = ErrorClass.CONTENT_VIOLATION if moderated else ErrorClass.UNKNOWN
        return TaskStatus("failed", error=ProviderError(f"{self.name}: {message}", kind))

    def unknown_state(self, task_id: str, state: Any) -> ProviderError:
        return ProviderError(f"{self.name}: task {task_id} is in a state this adapter does not know: {state!r}",
                             ErrorClass.UNKNOWN)

    def http_error(self, status: int, body: Any, headers: Any) -> ProviderError:
        """An HTTP error answer in the engine's classes; adapters refine it with their own error codes."""
        detail = self.error_detail(body)
        message = f"{self.name}: HTTP {status}" + (f": {detail}" if detail else "")
        if status == 429:
            return ProviderError(message, ErrorClass.RATE_LIMIT, retry_after_s=retry_after(headers))
        if status in (401, 403):
            return ProviderError(message, ErrorClass.AUTH)
        if status == 402:
            return ProviderError(message, ErrorClass.BILLING)
        if status in (408, 409) or status >= 500:
            return ProviderError(message, ErrorClass.TEMPORARY, retry_after_s=retry_after(headers))
        if 400 <= status < 500:
            return ProviderError(message, ErrorClass.INVALID_REQUEST)
        return ProviderError(message, ErrorClass.UNKNOWN)

    def error_detail(self, body: Any) -> str:
        """The human-readable part of an error body (adapters know their envelope)."""
        if isinstance(body, dict):
            for key in ("error", "message", "detail", "title"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value[:300]
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return value["message"][:300]
        return body[:300] if isinstance(body, str) else ""

    async def fetch_file(self, url: str, destination: Path, headers: dict[str, str] | None = None) -> Path:
        """Stream `url` to `destination` through a `.partial` file; a cut transfer resumes with a Range request
        (or starts over when the server ignores it). Raises ExpiredUrl when the link no longer works."""
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.settings.timeout_s,
                                        sock_read=self.settings.timeout_s)
        for attempt in range(1, DOWNLOAD_TRIES + 1):
            have = partial.stat().st_size if partial.exists() else 0
            ranged = {"Range": f"bytes={have}-"} if have else {}
            try:
                async with self.session().get(url, headers={**(headers or {}), **ranged}, timeout=timeout) as response:
                    if response.status in (403, 404, 410):
                        raise ExpiredUrl(f"{self.name}: the video's URL has expired (HTTP {response.status})")
                    if response.status >= 400:
                        raise self.http_error(response.status, self.error_body(await response.read()), response.headers)
                    resumed = response.status == 206
                    with partial.open("ab" if resumed else "wb") as out:
                        async for chunk in response.content.iter_chunked(CHUNK):
                            out.write(chunk)
                os.replace(partial, destination)
                return destination
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
                if attempt == DOWNLOAD_TRIES:
                    partial.unlink(missing_ok=True)
                    raise ProviderError(f"{self.name}: the download kept breaking off ({type(exc).__name__})",
                                        ErrorClass.TEMPORARY) from None
        raise AssertionError("unreachable")


async def join_videos(parts: list[Path], destination: Path) -> Path:
    """The parts one after the other, as they are (same model, same encoding): ffmpeg's concat demuxer, no re-encode;
    the optimizer makes the result platform-ready."""
    listing = destination.with_name(destination.name + ".parts.txt")
    listing.write_text("".join(f"file '{part.resolve()}'\n" for part in parts), encoding="utf-8")
    try:
        await run_ffmpeg(["-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(destination)],
                         what="joining the video's parts")
    finally:
        listing.unlink(missing_ok=True)
    return destination


def member(answer: Any, *path: str | int) -> Any:
    """`answer[path[0]][path[1]]...`, or None where the JSON does not have it."""
    for key in path:
        if isinstance(key, int):
            answer = answer[key] if isinstance(answer, list) and len(answer) > key else None
        else:
            answer = answer.get(key) if isinstance(answer, dict) else None
    return answer


def _part_key(idempotency_key: str, index: int, count: int) -> str:
    """A part's own idempotency key: which part, of how many (so a lookup knows when one is missing)."""
    return f"{idempotency_key}-part{index + 1}of{count}"


def _parts(task_id: str) -> list[str]:
    return task_id.removeprefix(PARTS).split("|")


def _part(request: GenerationRequest, seconds: float, index: int, count: int) -> GenerationRequest:
    """One part's request: its share of the length, and the prompt told which part it is."""
    brief = request.brief.model_copy(update={
        "duration_s": seconds, "visual_prompt": f"{request.brief.visual_prompt} (part {index + 1} of {count}, "
                                                 f"continuing the same scene)"})
    return dataclasses.replace(request, brief=brief)
