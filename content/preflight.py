"""Does a file meet its platform's spec? One rule per property, each pass or fail with what was measured."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from content.media import MediaInfo, probe
from content.platforms import PlatformSpec

H264_PROFILES = {"Baseline", "Constrained Baseline", "Main", "High"}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    measured: str
    expected: str


async def preflight(path: Path, spec: PlatformSpec) -> list[RuleResult]:
    return check_rules(await probe(path), spec)


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
