"""The contract every video provider adapter fulfils; the engine only ever sees this.

Paid APIs are asynchronous tasks: create, poll, download. The engine persists each step before it takes it, so the
contract mirrors those steps: `submit` (the one call that can cost money, never retried blindly), `poll`, `download`,
and the optional `cancel` and `find_task` (look a task up by the idempotency key, to reconcile a create whose
outcome is unknown). Adapters raise ProviderError with the engine's error class; they never touch the database.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel

from content.briefs.brief import Brief
from content.briefs.prompt_policy import fit_prompt
from content.media.ffmpeg import ProgressCallback
from content.media.footage import FindFootage
from content.media.look import Look
from core.bounds import bounded, charge_usd, wait_s
from core.errors import ProviderError
from core.secrets import Secrets
from core.settings import STRICT


class NoParams(BaseModel):
    model_config = STRICT


@dataclass(frozen=True)
class GenerationRequest:
    job_id: int
    brief: Brief
    look: Look
    workdir: Path
    quality: str = "standard"
    platform: str = "instagram_reels"  # what the video is made for (its frame)
    variants: tuple[str, ...] = ()  # other platforms: a maker that composes delivers a reframed variant for each


@dataclass(frozen=True)
class TaskStatus:
    """What a poll learned: `error` is set when the task failed at the provider (moderation, a task failure).

    The provider's numbers are bounded here, for every adapter (core.bounds), before the engine sees them."""

    state: Literal["running", "succeeded", "failed"]
    progress: float | None = None  # 0..1 when the provider reports it
    cost_usd: float | None = None  # what the provider says it charged, when it says
    error: ProviderError | None = None
    poll_after_s: float | None = None  # the provider's own hint: do not ask again sooner

    def __post_init__(self) -> None:
        object.__setattr__(self, "progress", bounded(self.progress, 0.0, 1.0))  # frozen: set once, here
        object.__setattr__(self, "cost_usd", charge_usd(self.cost_usd))
        object.__setattr__(self, "poll_after_s", wait_s(self.poll_after_s))


class VideoProvider(ABC):
    """One configured provider entry: a user-chosen name, a type (the adapter class) and validated params."""

    type_name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]] = NoParams
    required_env: ClassVar[tuple[str, ...]] = ()
    poll_interval_s: ClassVar[float] = 5.0
    can_find_tasks: ClassVar[bool] = False  # True when find_task answers "no such task" reliably
    aspect_ratios: ClassVar[tuple[str, ...]] = ("9:16",)  # what the provider can make
    max_duration_s: ClassVar[float | None] = None  # the longest video one task can make (None: no limit)
    deprecated: ClassVar[str | None] = None  # why this type should no longer be used (`config check` says so)
    reads_prompt: ClassVar[bool] = True  # the visual prompt goes to a service that may refuse (and bill) it
    max_prompt_chars: ClassVar[int | None] = None  # the API's limit on the prompt's length
    speaks: ClassVar[bool] = False  # its videos carry their own narration: a composed Reel adds no voiceover
    composes: ClassVar[bool] = False  # it makes the whole Reel itself (scenes, captions, sound): never asked for clips

    def __init__(self, name: str, params: BaseModel, secrets: Secrets, data_dir: Path | None = None) -> None:
        self.name = name
        self.params = params
        self.secrets = secrets
        self.data_dir = data_dir

    def tuned(self, params: dict[str, object]) -> "VideoProvider":
        """This provider with other params (a quality tier's model or resolution); the config check validated them."""
        return type(self)(self.name, self.params_model.model_validate(params), self.secrets, self.data_dir)

    def missing_requirements(self) -> list[str]:
        """What keeps this provider from running (unset environment keys); empty when ready."""
        return [key for key in self.required_env if not self.secrets.has(key)]

    def misconfigured(self) -> str | None:
        """Why this entry cannot make any video as configured (a model that does not take its resolution or mode),
        checked against the vendor's documented capabilities; None when it can. `config check` says it."""
        return None

    def takes_reference(self) -> bool:
        """Whether it sends the persona's reference image along as a character reference: for a persona that has
        one, such providers are tried first, so the influencer looks the same from video to video."""
        return False

    def cannot_make(self, request: GenerationRequest) -> str | None:
        """Why this provider cannot make the requested video (its settings, aspect ratio, length), or None when it
        can: failover skips it rather than send a request the vendor refuses or pay for a video that cannot be used."""
        if (refusal := self.misconfigured()) is not None:
            return refusal
        brief = request.brief
        if brief.aspect_ratio not in self.aspect_ratios:
            return f"cannot make {brief.aspect_ratio} (only {', '.join(self.aspect_ratios)})"
        longest = self.longest_video_s()
        if longest is not None and brief.duration_s > longest + 1e-9:
            return f"makes at most {longest:g} s, the video needs {brief.duration_s:g} s"
        return None

    def prompt(self, request: GenerationRequest) -> str:
        """The visual prompt as this API takes it: within its length limit, cut at a word boundary."""
        return fit_prompt(request.brief.visual_prompt, self.max_prompt_chars)

    def longest_video_s(self) -> float | None:
        """The longest video this provider can deliver for one attempt (None: no limit)."""
        return self.max_duration_s

    @abstractmethod
    def estimate_cost(self, request: GenerationRequest) -> float:
        """USD this request is expected to cost, reserved against the budget before any call."""

    @abstractmethod
    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        """Create the task; returns the provider's task id. Raise ProviderError(ambiguous=True) on a timeout."""

    @abstractmethod
    async def poll(self, task_id: str) -> TaskStatus:
        """The task's state now."""

    @abstractmethod
    async def download(self, task_id: str, destination: Path) -> Path:
        """Write the finished video to `destination` (streamed; a cut download starts over cleanly)."""

    async def cancel(self, task_id: str) -> bool:
        """Ask the provider to stop the task; False when the API has no cancel."""
        return False

    async def find_task(self, idempotency_key: str) -> str | None:
        """The task created with this key, if the provider can look it up; None when it cannot or there is none."""
        return None

    def footage(self, workdir: Path) -> AbstractAsyncContextManager[FindFootage | None]:
        """Where a Reel it composes finds its stock scenes (the libraries it has keys for), open while the Reel is
        composed — also one the engine composes from other makers' scene clips; None when it finds none."""
        return nullcontext(None)

    async def close(self) -> None:
        """Release connections (HTTP adapters hold a session)."""
