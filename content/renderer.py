"""The local renderer: one ffmpeg filtergraph turns a brief into a finished Reel (no network, no frame loops).

Background: ffmpeg's `gradients` source at quarter resolution, converted to yuv420p before upscaling (scaling RGBA at
1080x1920 is the slow path). Text: an ASS script through libass. Audio: a synthesized music bed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from content.briefs import Brief
from content.captions import FRAME_H, FRAME_W, plan_captions, render_ass
from content.ffmpeg import ProgressCallback, run_ffmpeg
from content.fonts import link_fonts
from content.music import write_music_bed
from content.platforms import platform_spec
from content.video_utils import encoder_args
from core.settings import Palette

FPS = 30
GRADIENT_TYPES = {"tips": "linear", "story": "radial", "default": "spiral"}


@dataclass(frozen=True)
class RenderOptions:
    preset: str = "veryfast"
    crf: int = 21


async def render_reel(
    brief: Brief,
    palette: Palette,
    workdir: Path,
    output: Path,
    options: RenderOptions = RenderOptions(),
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Render `brief` to `output` (1080x1920, 30 fps, H.264 High, AAC, faststart). Scratch files go in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    seed = int(hashlib.sha256(brief.model_dump_json().encode()).hexdigest()[:12], 16)
    duration = brief.duration_s
    (workdir / "captions.ass").write_text(render_ass(plan_captions(brief, duration), palette), encoding="utf-8")
    link_fonts(workdir / "fonts")
    write_music_bed(workdir / "music.wav", duration, seed)
    colours = ":".join(f"c{i}=0x{colour[1:]}" for i, colour in enumerate(palette.background))
    gradient = (
        f"gradients=s={FRAME_W // 4}x{FRAME_H // 4}:r={FPS}:d={duration}:{colours}:"
        f"nb_colors={len(palette.background)}:speed=0.015:seed={seed % 2**31}:"
        f"type={GRADIENT_TYPES.get(brief.template, 'linear')}"
    )
    graph = (
        f"[0:v]format=yuv420p,scale={FRAME_W}:{FRAME_H}:flags=bicubic,"
        f"ass=captions.ass:fontsdir=fonts,setsar=1[v]"
    )
    args = [
        "-y", "-f", "lavfi", "-i", gradient, "-i", "music.wav",
        "-filter_complex", graph, "-map", "[v]", "-map", "1:a",
        "-t", f"{duration}", "-r", str(FPS),
        *encoder_args(platform_spec("instagram_reels"), fps=FPS, preset=options.preset, crf=options.crf),
        str(output.resolve()),
    ]
    await run_ffmpeg(args, what=f"rendering '{brief.topic[:40]}'", duration_s=duration, on_progress=on_progress,
                     cwd=workdir)
    return output
