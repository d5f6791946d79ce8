"""Make any provider's output fit a platform: copy what complies, re-encode what doesn't; covers; contact sheets."""
from __future__ import annotations

import asyncio
import hashlib
import math
import os
import shutil
from dataclasses import replace
from pathlib import Path

from loguru import logger

from content.media.analysis import FAST_DECODE
from content.media.colour import TAG_ARGS, TAG_FRAMES, scale_options, tone_map
from content.media.ffmpeg import ProgressCallback, run_ffmpeg
from content.media.gop import inspect_gops
from content.media.media import MediaInfo, probe
from content.media.platforms import PLATFORMS, PlatformSpec, platform_spec
from content.media.preflight import MAX_TRUE_PEAK_DBTP, check_rules, describe_failures, failures
from content.media.soundtrack import (
    TARGET_LUFS,
    Loudness,
    build_soundtrack,
    encode,
    loudness_meter,
    normalizer,
    parse_loudness,
)
from core.errors import MediaError

__all__ = ["PLATFORMS", "optimize", "extract_thumbnail", "contact_sheet", "encoder_args", "platform_spec",
           "transcode_reasons"]

AUDIO_RATE = 48_000
DEFAULT_MAXRATE_KBPS = 12_000  # within Meta's 8-12 Mbps recommendation, well under the 25 Mbps cap
AAC_ARGS = ["-c:a", "aac", "-b:a", "128k", "-ar", str(AUDIO_RATE), "-ac", "2"]
# Without an edit list (preflight's rule) the muxer would start the picture two frames (67 ms) after the sound, to
# keep B-frames' decode times above zero; negative composition offsets (ISO BMFF ctts version 1) start both at 0.
CONTAINER_ARGS = ["-movflags", "+faststart+negative_cts_offsets", "-use_editlist", "0"]
JPEG_COLOUR = "scale=out_color_matrix=bt601:out_range=pc"  # JFIF's; the input's own matrix read from its tags
LOUDNESS_SLACK_LU = 0.5  # audio within this of the target is copied; preflight allows 1 LU


def video_encoder_args(spec: PlatformSpec, *, fps: float | None = None, preset: str = "veryfast",
                       crf: int = 20) -> list[str]:
    """H.264 High yuv420p tagged BT.709 SDR TV range, closed GOPs of 2 s (Meta's advice), peak rate capped inside the
    platform's limit."""
    maxrate = min(DEFAULT_MAXRATE_KBPS, spec.max_video_kbps or DEFAULT_MAXRATE_KBPS)
    gop = str(round(2 * (fps or spec.target_fps)))
    return [
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-maxrate", f"{maxrate}k", "-bufsize", f"{maxrate * 2}k",
        "-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-flags", "+cgop", *TAG_ARGS,
    ]


def encoder_args(spec: PlatformSpec, *, fps: float | None = None, preset: str = "veryfast", crf: int = 20) -> list[str]:
    """Video as above, AAC 48 kHz stereo, moov first, no edit lists."""
    return [*video_encoder_args(spec, fps=fps, preset=preset, crf=crf), *AAC_ARGS, *CONTAINER_ARGS]


def transcode_reasons(info: MediaInfo, spec: PlatformSpec) -> list[str]:
    """Why a stream copy is not enough; empty when a remux will do."""
    rules = check_rules(info, spec)
    structural = {"faststart", "edit_list", "file_size", "duration", "container"}
    reasons = [f"{r.rule} {r.measured}" for r in failures(rules) if r.rule not in structural]
    if info.video and info.video.codec != "h264":
        reasons.append(f"codec {info.video.codec} (we deliver H.264 for widest playback)")
    return reasons


def usable(info: MediaInfo, spec: PlatformSpec) -> MediaInfo:
    """`info` if its video can be made ready for `spec`: it has a picture and a length the platform takes."""
    if info.video is None:
        raise MediaError(f"{info.path.name}: has no video stream")
    if not spec.min_duration_s <= info.duration_s <= spec.max_duration_s:
        raise MediaError(
            f"{info.path.name}: {info.duration_s:.1f} s is outside {spec.name}'s "
            f"{spec.min_duration_s:g}-{spec.max_duration_s:g} s"
        )
    return info


async def optimize(
    source: Path,
    platform: str | PlatformSpec,
    destination: Path | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    force_transcode: bool = False,
) -> MediaInfo:
    """Write `source` as a platform-ready MP4 at `destination` (default: beside it, `.<platform>.mp4`).

    A compliant video stream is copied bit for bit; audio is re-encoded only when its format or loudness is off
    (a mute clip gets a synthesized music bed). Raises MediaError when the duration is outside the platform's
    limits or the result is too large.
    """
    spec = platform if isinstance(platform, PlatformSpec) else platform_spec(platform)
    destination = destination or source.with_name(f"{source.stem}.{spec.name}.mp4")
    info = usable(await probe(source), spec)
    partial = destination.with_name(f".{destination.name}.partial.mp4")
    scratch = destination.with_name(f".{destination.name}.work")
    scratch.mkdir(parents=True, exist_ok=True)
    reasons = ["forced"] if force_transcode else transcode_reasons(info, spec)
    what = f"optimizing {source.name}"
    try:
        if reasons:
            logger.info(f"transcoding {source.name} for {spec.name}: {', '.join(reasons)}")
            video_args = _video_transcode_args(info, spec)
        else:
            logger.info(f"{source.name}: video already fits {spec.name}, stream copied")
            video_args = ["-map", "0:v:0", "-c:v", "copy"]
        if info.audio is not None and not reasons:
            # A remux: copy both streams and measure the audio in the same pass; redo only audio that is off.
            stderr = await run_ffmpeg(["-y", "-i", str(source), *video_args, "-map", "0:a:0", "-c:a", "copy",
                                       *CONTAINER_ARGS, str(partial), "-map", "0:a:0", "-af", loudness_meter(),
                                       "-f", "null", "-"], what=what, duration_s=info.duration_s,
                                      on_progress=on_progress)
            audio_args = _audio_fix(source, info, parse_loudness(stderr))
            if audio_args:
                await run_ffmpeg(["-y", "-i", str(source), *video_args, *audio_args, *CONTAINER_ARGS, str(partial)],
                                 what=what, duration_s=info.duration_s)
        else:
            audio_inputs, audio_args = await _audio_plan(source, info, scratch)
            await run_ffmpeg(["-y", "-i", str(source), *audio_inputs, *video_args, *audio_args, *CONTAINER_ARGS,
                              str(partial)], what=what, duration_s=info.duration_s, on_progress=on_progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = await probe(partial)
    if result.size_bytes > spec.max_size_bytes:
        partial.unlink(missing_ok=True)
        raise MediaError(f"{source.name}: {result.size_bytes / 2**20:.0f} MB exceeds {spec.name}'s "
                         f"{spec.max_size_mb:g} MB")
    problems = failures(check_rules(result, spec))
    if problems:
        partial.unlink(missing_ok=True)
        raise MediaError(f"{source.name}: optimized file still fails {spec.name}: {describe_failures(problems)}")
    os.replace(partial, destination)
    return replace(result, path=destination)


async def _audio_plan(source: Path, info: MediaInfo, scratch: Path) -> tuple[list[str], list[str]]:
    """Extra inputs and output arguments for the audio: copy it, normalize it, or add a music bed if mute."""
    if info.audio is None:
        seed = int(hashlib.sha256(source.name.encode()).hexdigest()[:8], 16)
        bed = await encode(await build_soundtrack(scratch, info.duration_s, seed, "calm"), scratch / "bed.m4a",
                           AAC_ARGS)
        logger.info(f"{source.name} has no audio: adding a music bed")
        return ["-i", str(bed)], ["-map", "1:a:0", "-c:a", "copy"]
    stderr = await run_ffmpeg(["-i", str(source), "-map", "0:a:0", "-af", loudness_meter(), "-f", "null", "-"],
                              what=f"measuring the loudness of {source.name}")
    return [], _audio_fix(source, info, parse_loudness(stderr)) or ["-map", "0:a:0", "-c:a", "copy"]


def _audio_fix(source: Path, info: MediaInfo, measured: Loudness) -> list[str]:
    """Output arguments that re-encode the audio to AAC at -14 LUFS, or [] when it may be copied as it is."""
    lufs, peak = measured.integrated_lufs, measured.true_peak_dbtp
    audio = info.audio
    assert audio is not None
    fits_format = audio.codec == "aac" and audio.sample_rate == AUDIO_RATE and audio.channels == 2
    on_target = lufs is not None and abs(lufs - TARGET_LUFS) <= LOUDNESS_SLACK_LU and (peak or 0) <= MAX_TRUE_PEAK_DBTP
    if fits_format and on_target:
        return []
    logger.info(f"{source.name}: audio re-encoded ({'silent' if lufs is None else f'{lufs:.1f} LUFS'})")
    return ["-map", "0:a:0", "-af", normalizer(measured), *AAC_ARGS]


def _video_transcode_args(info: MediaInfo, spec: PlatformSpec) -> list[str]:
    """Scale to the frame, in BT.709 TV range (full-range "JPEG" colour, BT.601 and HDR all converted); another shape
    fits inside it, without distortion, over a blurred copy of itself."""
    video = info.video
    assert video is not None
    fps = video.fps if spec.min_fps <= video.fps <= spec.max_fps else spec.target_fps
    w, h = spec.width, spec.height
    colour, done = scale_options(video), f"fps={fps:.3f},format=yuv420p,{TAG_FRAMES},setsar=1[v]"
    if abs(video.width * h - video.height * w) <= 0.01 * video.height * w:
        graph = f"[0:v:0]{tone_map(video)}scale={w}:{h}:flags=lanczos{colour},{done}"
        return ["-filter_complex", graph, "-map", "[v]", *video_encoder_args(spec, fps=fps)]
    graph = (
        f"[0:v:0]{tone_map(video)}setsar=1,split=2[bg][fg];"
        f"[bg]scale={w // 4}:{h // 4}:force_original_aspect_ratio=increase{colour},crop={w // 4}:{h // 4},"
        f"boxblur=8:2,scale={w}:{h}[blur];"
        f"[fg]scale={w}:{h}:force_original_aspect_ratio=decrease:flags=lanczos{colour}[front];"
        f"[blur][front]overlay=(W-w)/2:(H-h)/2,{done}"
    )
    return ["-filter_complex", graph, "-map", "[v]", *video_encoder_args(spec, fps=fps)]


async def extract_thumbnail(video: Path, destination: Path | None = None, at_s: float = 1.0) -> Path:
    """A full-size JPEG cover (sRGB, well under Meta's 8 MB) from the frame at `at_s` seconds: from the video's
    BT.709 to JPEG's own BT.601 full range, else every colour of the cover is off (red reads duller)."""
    destination = destination or video.with_suffix(".jpg")
    await run_ffmpeg(
        ["-y", "-ss", f"{at_s:.3f}", "-i", str(video), "-frames:v", "1", "-vf", JPEG_COLOUR, "-q:v", "3",
         "-update", "1", str(destination)],
        what=f"extracting a cover from {video.name}",
    )
    return destination


def contact_sheet_path(video: Path) -> Path:
    return video.with_name(f"{video.stem}.sheet.jpg")


async def contact_sheet(video: Path, duration_s: float, destination: Path | None = None, every_s: float = 2.0,
                        columns: int = 5, tile_width: int = 216) -> Path:
    """A JPEG grid of frames taken every ~`every_s` seconds (at most 30), for reviewing a batch at a glance. When
    the video has a keyframe at least that often (every Reel this daemon encodes: 2 s GOPs), only keyframes are
    decoded: a tenth of the work of decoding every frame, for the same grid."""
    destination = destination or contact_sheet_path(video)
    gops = await asyncio.to_thread(inspect_gops, video)
    keyframes = gops.keyframes if gops is not None and gops.max_interval_s <= every_s + 0.05 else 0
    if keyframes:  # only the keyframes are decoded; as many as fit, each one a tile
        count, decode, start = min(keyframes, 30), ["-skip_frame", "nokey"], 0.0
    else:
        count, decode = min(max(math.ceil(duration_s / every_s), 1), 30), []
        start = duration_s / count / 2
    rows = math.ceil(count / columns)
    pick = "" if count == keyframes else f"fps=1/{duration_s / count:.4f}:start_time={start:.4f},"
    graph = f"{pick}scale={tile_width}:-2,tile={columns}x{rows}:padding=4:margin=4:color=0x202020"
    await run_ffmpeg(["-y", *FAST_DECODE, *decode, "-i", str(video), "-vf", graph, "-frames:v", "1", "-q:v", "4",
                      "-update", "1", str(destination)], what=f"drawing the contact sheet of {video.name}")
    return destination
