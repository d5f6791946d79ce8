"""Provider `local`: the offline ffmpeg renderer, free and always available."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from content.ffmpeg import ProgressCallback
from content.renderer import RenderOptions, render_reel
from content.video_providers.base import GenerationRequest, GenerationResult, VideoProvider

X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"]


class LocalParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: X264Preset = "veryfast"
    crf: int = Field(21, ge=14, le=23, description="23 is the quality floor: speed never comes from lower quality")


class LocalProvider(VideoProvider):
    type_name = "local"
    params_model = LocalParams

    def estimate_cost(self, request: GenerationRequest) -> float:
        return 0.0

    async def generate(self, request: GenerationRequest, on_progress: ProgressCallback | None = None) -> GenerationResult:
        params = self.params
        assert isinstance(params, LocalParams)
        output = request.workdir / "local_render.mp4"
        await render_reel(
            request.brief,
            request.look,
            request.workdir,
            output,
            RenderOptions(preset=params.preset, crf=params.crf),
            on_progress,
        )
        return GenerationResult(path=output, cost_usd=0.0, provider_task_id=None)
