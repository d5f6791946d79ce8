"""Make any provider's output fit a platform: remux when it already complies, otherwise transcode; covers."""
from __future__ import annotations

import os
from pathlib import Path

from loguru import logger

from content.ffmpeg import ProgressCallback, run_ffmpeg
from content.media import MediaInfo, probe
from content.platforms import PLATFORMS, PlatformSpec, platform_spec
from content.preflight import check_rules, describe_failures, failures
from core.errors import MediaError

__all__ = ["PLATFORMS", "optimize", "extract_thumbnail", "encoder_args", "platform_spec", "transcode_reasons"]

AUDIO_RATE = 48_000
DEFAULT_MAXRATE_KBPS = 12_000  # within Meta's 8-12 Mbps recommendation, well under the 25 Mbps cap


def encoder_args(spec: PlatformSpec, *, fps: float | None = None, preset: str = "veryfast", crf: int = 20) -> list[str]:
    """H.264 High yuv420p with closed 2 s GOPs (Meta's advice), AAC 48 kHz stereo, moov first, no edit lists."""
    maxrate = min(DEFAULT_MAXRATE_KBPS, spec.max_video_kbps or DEFAULT_MAXRATE_KBPS)
    gop = str(round(2 * (fps or spec.target_fps)))
    return [
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-maxrate", f"{maxrate}k", "-bufsize", f"{maxrate * 2}k",
        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-flags", "+cgop",
        "-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE), "-ac", "2",
        "-movflags", "+faststart", "-use_editlist", "0",
    ]


def transcode_reasons(info: MediaInfo, spec: PlatformSpec) -> list[str]:
    """Why a stream copy is not enough; empty when a remux will do."""
    rules = check_rules(info, spec)
    structural = {"faststart", "edit_list", "file_size", "duration", "container"}
    reasons = [f"{r.rule} {r.measured}" for r in failures(rules) if r.rule not in structural]
    if info.video and info.video.codec != "h264":
        reasons.append(f"codec {info.video.codec} (we deliver H.264 for widest playback)")
    return reasons


async def optimize(
    source: Path,
    platform: str | PlatformSpec,
    destination: Path | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> MediaInfo:
    """Write `source` as a platform-ready MP4 at `destination` (default: beside it, `.<platform>.mp4`).

    Raises MediaError when the duration is outside the platform's limits or the result is too large.
    """
    spec = platform if isinstance(platform, PlatformSpec) else platform_spec(platform)
    destination = destination or source.with_name(f"{source.stem}.{spec.name}.mp4")
    info = await probe(source)
    if info.video is None:
        raise MediaError(f"{source.name}: has no video stream")
    if not spec.min_duration_s <= info.duration_s <= spec.max_duration_s:
        raise MediaError(
            f"{source.name}: {info.duration_s:.1f} s is outside {spec.name}'s "
            f"{spec.min_duration_s:g}-{spec.max_duration_s:g} s"
        )
    partial = destination.with_name(f".{destination.name}.partial.mp4")
    reasons = transcode_reasons(info, spec)
    if reasons:
        logger.info(f"transcoding {source.name} for {spec.name}: {', '.join(reasons)}")
        args = _transcode_args(source, info, spec, partial)
    else:
        logger.info(f"{source.name} already fits {spec.name}: remuxing with faststart")
        args = ["-y", "-i", str(source), "-map", "0:v:0", "-map", "0:a:0", "-c", "copy",
                "-movflags", "+faststart", "-use_editlist", "0", str(partial)]
    await run_ffmpeg(args, what=f"optimizing {source.name}", duration_s=info.duration_s, on_progress=on_progress)
    result = await probe(partial)
    if result.size_bytes > spec.max_size_bytes:
        partial.unlink(missing_ok=True)
        raise MediaError(f"{source.name}: {result.size_bytes / 2**20:.0f} MB exceeds {spec.name}'s {spec.max_size_mb:g} MB")
    problems = failures(check_rules(result, spec))
    if problems:
        partial.unlink(missing_ok=True)
        raise MediaError(f"{source.name}: optimized file still fails {spec.name}: {describe_failures(problems)}")
    os.replace(partial, destination)
    return await probe(destination)


def _transcode_args(source: Path, info: MediaInfo, spec: PlatformSpec, output: Path) -> list[str]:
    """Fit inside the frame without distortion over a blurred, filled copy of itself; add silence if mute."""
    video = info.video
    assert video is not None
    fps = video.fps if spec.min_fps <= video.fps <= spec.max_fps else spec.target_fps
    w, h = spec.width, spec.height
    graph = (
        f"[0:v:0]setsar=1,split=2[bg][fg];"
        f"[bg]scale={w // 4}:{h // 4}:force_original_aspect_ratio=increase,crop={w // 4}:{h // 4},"
        f"boxblur=8:2,scale={w}:{h}[blur];"
        f"[fg]scale={w}:{h}:force_original_aspect_ratio=decrease:flags=lanczos[front];"
        f"[blur][front]overlay=(W-w)/2:(H-h)/2,fps={fps:.3f},format=yuv420p,setsar=1[v]"
    )
    args = ["-y", "-i", str(source)]
    if info.audio is None:
        args += ["-f", "lavfi", "-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo"]
        audio_map = ["-map", "1:a:0", "-shortest"]
    else:
        audio_map = ["-map", "0:a:0"]
    return [*args, "-filter_complex", graph, "-map", "[v]", *audio_map, *encoder_args(spec, fps=fps), str(output)]


async def extract_thumbnail(video: Path, destination: Path | None = None, at_s: float = 1.0) -> Path:
    """A full-size JPEG cover (sRGB, well under Meta's 8 MB) from the frame at `at_s` seconds."""
    destination = destination or video.with_suffix(".jpg")
    await run_ffmpeg(
        ["-y", "-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "3", "-update", "1", str(destination)],
        what=f"extracting a cover from {video.name}",
    )
    return destination
