"""Does a file meet its platform's spec? One rule per property, each pass or fail with what was measured.

`check_rules` needs only the container metadata (instant); `preflight` adds what takes reading the whole file:
closed GOPs, loudness, black frames at the start and frozen stretches.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from content.media.analysis import Signals, analyse
from content.media.colour import describe, is_bt709_sdr
from content.media.gop import GopReport, inspect_gops
from content.media.media import MediaInfo, probe
from content.media.platforms import PlatformSpec
from content.media.soundtrack import TARGET_LUFS

H264_PROFILES = {"Baseline", "Constrained Baseline", "Main", "High"}
LOUDNESS_TOLERANCE_LU = 1.0
MAX_TRUE_PEAK_DBTP = -1.0
MAX_KEYFRAME_INTERVAL_S = 5.0  # Meta advises 2 s GOPs; beyond 5 s seeking and re-encoding suffer
MAX_BLACK_START_S = 0.25  # the first frame is what autoplay and the grid show


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    measured: str
    expected: str


async def preflight(path: Path, spec: PlatformSpec) -> list[RuleResult]:
    """Every rule, the metadata ones and those that need a decoding pass."""
    info = await probe(path)
    results = check_rules(info, spec)
    if info.video is not None:
        results.append(gop_rule(await asyncio.to_thread(inspect_gops, path)))
    signals = await analyse(path, has_video=info.video is not None, has_audio=info.audio is not None)
    return results + signal_rules(signals, has_video=info.video is not None, has_audio=info.audio is not None)


def gop_rule(report: GopReport | None) -> RuleResult:
    if report is None:
        return _rule("closed_gop", True, "not H.264/HEVC, not judged", "IDR keyframes")
    measured = (f"{report.keyframes - report.open_keyframes}/{report.keyframes} keyframes IDR, "
                f"max interval {report.max_interval_s:.1f} s")
    return _rule("closed_gop", report.closed and report.max_interval_s <= MAX_KEYFRAME_INTERVAL_S, measured,
                 f"every keyframe IDR, <= {MAX_KEYFRAME_INTERVAL_S:g} s apart")


def signal_rules(signals: Signals, *, has_video: bool, has_audio: bool) -> list[RuleResult]:
    results = []
    if has_audio:
        lufs, peak = signals.integrated_lufs, signals.true_peak_dbtp
        results += [
            _rule("loudness", lufs is not None and abs(lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU,
                  "silent" if lufs is None else f"{lufs:.1f} LUFS",
                  f"{TARGET_LUFS:g} ± {LOUDNESS_TOLERANCE_LU:g} LUFS integrated"),
            _rule("true_peak", peak is None or peak <= MAX_TRUE_PEAK_DBTP,
                  "silent" if peak is None else f"{peak:.1f} dBTP", f"<= {MAX_TRUE_PEAK_DBTP:g} dBTP"),
        ]
    if has_video:
        frozen = ", ".join(f"{start:.1f} s for {duration:.1f} s" for start, duration in signals.frozen_spans)
        results += [
            _rule("black_start", signals.black_at_start_s <= MAX_BLACK_START_S,
                  f"{signals.black_at_start_s:.2f} s black", f"<= {MAX_BLACK_START_S:g} s"),
            _rule("frozen_frames", not signals.frozen_spans, frozen or "none", "no still stretch of 2 s or more"),
        ]
    return results


def check_rules(info: MediaInfo, spec: PlatformSpec) -> list[RuleResult]:
    video, audio = info.video, info.audio
    results = [
        _rule("container", "mp4" in info.container, info.container, "MP4"),
        _rule("faststart", info.moov_before_mdat, "moov first" if info.moov_before_mdat else "moov after mdat",
              "moov before mdat"),
        _rule("duration", spec.min_duration_s <= info.duration_s <= spec.max_duration_s, f"{info.duration_s:.2f} s",
              f"{spec.min_duration_s:g}-{spec.max_duration_s:g} s"),
        _rule("file_size", info.size_bytes <= spec.max_size_bytes, f"{info.size_bytes / 2**20:.1f} MB",
              f"<= {spec.max_size_mb:g} MB"),
    ]
    if spec.no_edit_lists:
        results.append(_rule("edit_list", not info.has_edit_list, "present" if info.has_edit_list else "none", "none"))
    if video is None:
        results.append(_rule("video_stream", False, "missing", "one video stream"))
    else:
        kbps = (video.bit_rate or info.bit_rate or 0) // 1000
        results += [
            _rule("video_codec", video.codec in spec.video_codecs, video.codec, "/".join(spec.video_codecs)),
            _rule("profile", video.codec != "h264" or video.profile in H264_PROFILES, str(video.profile),
                  "H.264 Baseline/Main/High"),
            _rule("pixel_format", video.pix_fmt == "yuv420p", str(video.pix_fmt), "yuv420p"),
            _rule("colour", is_bt709_sdr(video), describe(video), "tagged BT.709 SDR, tv range, 8-bit"),
            _rule("resolution", (video.width, video.height) == (spec.width, spec.height),
                  f"{video.width}x{video.height}", f"{spec.width}x{spec.height}"),
            _rule("fps", spec.min_fps <= video.fps <= spec.max_fps and video.constant_frame_rate,
                  f"{video.fps:.3f}{'' if video.constant_frame_rate else ' (variable)'}",
                  f"{spec.min_fps:g}-{spec.max_fps:g} constant"),
        ]
        if spec.max_video_kbps:
            results.append(_rule("video_bitrate", kbps <= spec.max_video_kbps, f"{kbps} kbps",
                                 f"<= {spec.max_video_kbps} kbps"))
    if audio is None:
        results.append(_rule("audio_stream", False, "missing", "one audio stream"))
    else:
        results += [
            _rule("audio_codec", audio.codec in spec.audio_codecs, audio.codec, "/".join(spec.audio_codecs)),
            _rule("audio_rate", audio.sample_rate <= spec.max_audio_rate, f"{audio.sample_rate} Hz",
                  f"<= {spec.max_audio_rate} Hz"),
            _rule("audio_channels", 1 <= audio.channels <= spec.max_audio_channels, str(audio.channels),
                  f"1-{spec.max_audio_channels}"),
        ]
    return results


def failures(results: list[RuleResult]) -> list[RuleResult]:
    return [r for r in results if not r.passed]


def describe_failures(results: list[RuleResult]) -> str:
    return "; ".join(f"{r.rule}: {r.measured} (needs {r.expected})" for r in failures(results))


def _rule(rule: str, passed: bool, measured: str, expected: str) -> RuleResult:
    return RuleResult(rule, bool(passed), measured, expected)
