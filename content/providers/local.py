"""Provider `local`: the offline ffmpeg renderer, free and always available.

Its "task" is the render itself: `submit` renders and returns the file's path as the task id, so polling and
downloading are immediate. A render cut short by a crash costs nothing, so the engine simply renders again.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from content.media import timeline
from content.media.ffmpeg import ProgressCallback
from content.media.footage import FindFootage
from content.media.renderer import RenderOptions, render_reel
from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider
from content.providers.footage import stock_footage
from core.errors import ErrorClass, ProviderError
from core.settings import STRICT

X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]
StockLibraryName = Literal["pexels", "pixabay"]


class LocalParams(BaseModel):
    model_config = STRICT

    preset: X264Preset = "veryfast"
    crf: int = Field(21, ge=14, le=23, description="23 is the quality floor: speed never comes from lower quality")
    stock_libraries: list[StockLibraryName] = Field(
        ["pexels", "pixabay"], description="the stock footage libraries a `stock` scene source asks, in this order; "
                                           "each only with its key (PEXELS_API_KEY, PIXABAY_API_KEY)")
    pexels_base_url: str | None = Field(None, description="Pexels' API address (a proxy, a test fake)")
    pixabay_base_url: str | None = Field(None, description="Pixabay's API address (a proxy, a test fake)")


class LocalProvider(VideoProvider):
    type_name = "local"
    reads_prompt = False  # it draws the brief's captions; only its keywords leave, as stock footage searches
    composes = True
    aspect_ratios = ("9:16", "16:9", "1:1", "4:5", "21:9")
    params_model = LocalParams
    poll_interval_s = 0.0

    def estimate_cost(self, request: GenerationRequest) -> float:
        return 0.0

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        params = self.params
        assert isinstance(params, LocalParams)
        output = request.workdir / f"local-{idempotency_key}.mp4"
        async with self.footage(request.workdir) as footage:
            await render_reel(request.brief, request.look, request.workdir, output,
                              RenderOptions(preset=params.preset, crf=params.crf), on_progress,
                              find_footage=footage, platform=request.platform, variants=request.variants)
        return str(output)

    @asynccontextmanager
    async def footage(self, workdir: Path) -> AsyncIterator[FindFootage | None]:
        """The stock libraries of `stock_libraries` that have a key, clips cached in `<data>/footage`."""
        params = self.params
        assert isinstance(params, LocalParams)
        found = stock_footage(self.secrets, (self.data_dir or workdir) / "footage", params.stock_libraries,
                              {"pexels": params.pexels_base_url, "pixabay": params.pixabay_base_url})
        try:
            yield found
        finally:
            if found is not None:
                await found.aclose()

    async def poll(self, task_id: str) -> TaskStatus:
        if Path(task_id).is_file():
            return TaskStatus("succeeded", 1.0, 0.0)
        gone = ProviderError(f"the render {Path(task_id).name} is gone", ErrorClass.TEMPORARY)
        return TaskStatus("failed", error=gone)

    async def download(self, task_id: str, destination: Path) -> Path:
        """The render, with its timeline and any variants (every file is named after the video)."""
        render = Path(task_id)
        beside = [timeline.beside(render), *render.parent.glob(f"{render.stem}.*.mp4")]
        os.replace(render, destination)
        for path in beside:
            if path.is_file():
                os.replace(path, destination.with_name(destination.stem + path.name.removeprefix(render.stem)))
        return destination
