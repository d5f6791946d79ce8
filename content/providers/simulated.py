"""Provider `simulated`: a paid API's behaviour without the bill, for dry runs of budgets and failover.

A task's state is derived from its id and the clock (the id carries its creation time and its fate), so tasks survive
a restart of the daemon like a real provider's. Every accepted submission appends one JSON line to
`data/simulated_submissions.jsonl` (job, task, time, cost): what a real provider would bill. The video is a real MP4
from the local renderer, made once per duration and copied, so the rest of the pipeline runs for real.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import time
from pathlib import Path

from pydantic import BaseModel, Field

from content.media import timeline
from content.media.ffmpeg import ProgressCallback
from content.media.renderer import RenderOptions, render_reel
from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider
from core.bounds import MAX_WAIT_S
from core.errors import ErrorClass, ProviderError
from core.settings import STRICT

SUBMISSIONS = "simulated_submissions.jsonl"


class SimulatedParams(BaseModel):
    model_config = STRICT

    latency_s: float = Field(5.0, ge=0, le=MAX_WAIT_S,
                             description="how long a task takes from submission to a finished video")
    failure_rate: float = Field(0.0, ge=0, le=1, description="share of submissions that fail")
    failure_kind: ErrorClass = ErrorClass.TEMPORARY
    cost_per_second: float = Field(0.10, ge=0, le=100, description="USD per second of video, billed per accepted task")
    max_duration_s: float | None = Field(None, gt=0, le=MAX_WAIT_S,
                                         description="the longest video it makes, like a real model")


class SimulatedProvider(VideoProvider):
    type_name = "simulated"
    params_model = SimulatedParams
    poll_interval_s = 0.05
    can_find_tasks = True

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._placeholder_lock = asyncio.Lock()

    @property
    def settings(self) -> SimulatedParams:
        assert isinstance(self.params, SimulatedParams)
        return self.params

    @property
    def max_duration_s(self) -> float | None:  # type: ignore[override]
        return self.settings.max_duration_s

    @property
    def submissions_file(self) -> Path:
        assert self.data_dir is not None, "the simulated provider needs the data folder"
        return self.data_dir / SUBMISSIONS

    def estimate_cost(self, request: GenerationRequest) -> float:
        """Billed per tenth of a second, as its task ids record the length."""
        return round(self.settings.cost_per_second * round(request.brief.duration_s * 10) / 10, 6)

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        fails = random.Random(idempotency_key).random() < self.settings.failure_rate
        kind = self.settings.failure_kind
        if fails and kind != ErrorClass.CONTENT_VIOLATION:  # rejected at create: nothing accepted, nothing billed
            raise ProviderError(f"{self.name}: simulated {kind} error", kind,
                                retry_after_s=1.0 if kind == ErrorClass.RATE_LIMIT else None)
        await self._placeholder(request)
        fate = "cv" if fails else "ok"
        task_id = f"sim-{time.time_ns() // 1_000_000}-{fate}-{round(request.brief.duration_s * 10)}-{idempotency_key}"
        record = {"job_id": request.job_id, "task_id": task_id, "key": idempotency_key, "time": time.time(),
                  "cost_usd": self.estimate_cost(request)}
        with self.submissions_file.open("a", encoding="utf-8") as out:  # one short line per write: appends stay whole
            out.write(json.dumps(record) + "\n")
        return task_id

    async def poll(self, task_id: str) -> TaskStatus:
        created_ms, fate, deciseconds = _parse(task_id)
        elapsed = time.time() - created_ms / 1000
        if elapsed < self.settings.latency_s:
            return TaskStatus("running", progress=elapsed / self.settings.latency_s if self.settings.latency_s else 1)
        if fate == "cv":
            return TaskStatus("failed", error=ProviderError(
                f"{self.name}: the prompt was rejected by (simulated) moderation", ErrorClass.CONTENT_VIOLATION))
        return TaskStatus("succeeded", 1.0, cost_usd=round(self.settings.cost_per_second * deciseconds / 10, 6))

    async def download(self, task_id: str, destination: Path) -> Path:
        placeholder = self._placeholder_path(_parse(task_id)[2] / 10)
        if not placeholder.is_file():
            raise ProviderError(f"{self.name}: the simulated video is gone; ask again", ErrorClass.TEMPORARY)
        destination.unlink(missing_ok=True)  # a download interrupted by a crash is made again
        try:
            os.link(placeholder, destination)  # the same bytes for every task: no need to write them again
        except OSError:  # another file system
            partial = destination.with_name(destination.name + ".partial")
            shutil.copyfile(placeholder, partial)
            os.replace(partial, destination)
        return destination

    async def cancel(self, task_id: str) -> bool:
        _parse(task_id)  # unknown ids are an error, as at a real provider
        return True

    async def find_task(self, idempotency_key: str) -> str | None:
        if not self.submissions_file.is_file():
            return None
        for line in self.submissions_file.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["key"] == idempotency_key:
                return str(record["task_id"])
        return None

    def _placeholder_path(self, duration_s: float) -> Path:
        """One video per tenth of a second of length (what a task id records)."""
        assert self.data_dir is not None
        return self.data_dir / "simulated" / f"placeholder-{round(duration_s * 10) / 10:g}s.mp4"

    async def _placeholder(self, request: GenerationRequest) -> None:
        """Render the video this provider hands out for this duration, once."""
        path = self._placeholder_path(request.brief.duration_s)
        async with self._placeholder_lock:
            if path.is_file():
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial.mp4")  # workers on one host render apart
            # a stand-in for a remote model's clip: its picture matters, not the encoder's efficiency
            await render_reel(request.brief, request.look, request.workdir / "simulated", partial,
                              RenderOptions(preset="ultrafast"))
            os.replace(partial, path)
            timeline.beside(partial).unlink(missing_ok=True)  # the placeholder serves many briefs: no timeline


def _parse(task_id: str) -> tuple[int, str, int]:
    try:
        _, created_ms, fate, deciseconds, _key = task_id.split("-", 4)
        return int(created_ms), fate, int(deciseconds)
    except ValueError:
        raise ProviderError(f"task {task_id} is unknown to the simulated provider",
                            ErrorClass.INVALID_REQUEST) from None
