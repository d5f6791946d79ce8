"""`main.py check`, the rules that need a decoding pass, and the optimizer's audio and quality guarantees."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from content.media.analysis import analyse
from content.media.ffmpeg import ffmpeg_exe
from content.media.gop import inspect_gops
from content.media.media import probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import failures, preflight
from content.media.quality import vmaf
from content.media.video_utils import optimize
from tests.conftest import make_clip, run_cli

REELS = platform_spec("instagram_reels")


def encode(path: Path, source: str, seconds: float, *, video: list[str], audio: str | None = None) -> Path:
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{source}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"{audio}:d={seconds}", "-c:a", "aac", "-ar", "48000", "-ac", "2"]
    subprocess.run([*args, *video, "-t", str(seconds), str(path)], check=True)
    return path


async def test_open_gops_are_found_and_closed_ones_pass(tmp_path: Path) -> None:
    open_gop = make_clip(tmp_path / "open.mp4", extra=["-x264-params", "open-gop=1:keyint=25", "-bf", "3"])
    report = inspect_gops(open_gop)
    assert report is not None and not report.closed and report.open_keyframes >= 2
    closed = inspect_gops(make_clip(tmp_path / "closed.mp4", extra=["-g", "25"]))
    assert closed is not None and closed.closed and closed.max_interval_s == pytest.approx(1.0)


async def test_black_start_and_frozen_frames_are_detected(tmp_path: Path) -> None:
    graph = "color=black:s=540x960:r=30:d=1[b];testsrc2=s=540x960:r=30:d=1[m];color=gray:s=540x960:r=30:d=3[f];" \
            "[b][m][f]concat=n=3"
    clip = tmp_path / "bad.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-filter_complex", graph, "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    signals = await analyse(clip, has_video=True, has_audio=False)
    assert signals.black_at_start_s == pytest.approx(1.0, abs=0.1)
    assert len(signals.frozen_spans) == 1 and signals.frozen_spans[0][0] == pytest.approx(2.0, abs=0.2)


def test_check_reports_every_rule_and_exits_nonzero_on_failure(tmp_path: Path) -> None:
    bad = make_clip(tmp_path / "landscape.mp4", seconds=3)
    result = run_cli(tmp_path, "check", str(bad), "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    rules = {r["rule"]: r for r in report["rules"]}
    assert report["passed"] is False and report["platform"] == "instagram_reels"
    assert {"resolution", "pixel_format", "fps", "closed_gop", "faststart", "duration", "video_bitrate", "file_size",
            "audio_codec", "audio_rate", "loudness", "true_peak", "black_start", "frozen_frames"} <= set(rules)
    assert not rules["resolution"]["passed"] and rules["resolution"]["measured"] == "640x360"
    assert not rules["loudness"]["passed"]  # a bare sine at full scale is far louder than -14 LUFS


@pytest.mark.slow
async def test_check_passes_an_optimized_clip_as_plain_text(tmp_path: Path) -> None:
    ready = await optimize(make_clip(tmp_path / "clip.mp4", seconds=4), REELS, tmp_path / "ready.mp4")
    result = run_cli(tmp_path, "check", str(ready.path), "--platform", "tiktok")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  loudness" in result.stdout and "ready for tiktok" in result.stdout
    missing = run_cli(tmp_path, "check", str(tmp_path / "nope.mp4"))
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr


@pytest.mark.slow
async def test_loud_audio_is_normalized_and_a_mute_clip_gets_music(tmp_path: Path) -> None:
    loud = make_clip(tmp_path / "loud.mp4", size="1080x1920", rate="30", seconds=4, extra=["-ar", "48000"])
    mute = make_clip(tmp_path / "mute.mp4", size="1080x1920", rate="30", seconds=4, audio=False)
    for source in (loud, mute):
        result = await optimize(source, REELS, tmp_path / f"{source.stem}-out.mp4")
        signals = await analyse(result.path, has_video=True, has_audio=True)
        assert signals.integrated_lufs == pytest.approx(-14, abs=1.0)
        assert signals.true_peak_dbtp is not None and signals.true_peak_dbtp <= -1.0
        assert not failures(await preflight(result.path, REELS))


@pytest.mark.slow
async def test_transcode_keeps_vmaf_above_95_and_compliant_video_is_copied(tmp_path: Path) -> None:
    # A provider clip at the right size but in 4:4:4 with open GOPs: the video must be re-encoded.
    source = encode(tmp_path / "provider.mp4", "testsrc2=s=1080x1920:r=30", 4,
                    video=["-c:v", "libx264", "-preset", "fast", "-crf", "12", "-pix_fmt", "yuv444p"],
                    audio="sine=f=330")
    result = await optimize(source, REELS, tmp_path / "reel.mp4")
    assert result.video is not None and result.video.pix_fmt == "yuv420p"
    assert await vmaf(result.path, source) >= 95
    again = await optimize(result.path, REELS, tmp_path / "copied.mp4")
    assert again.video is not None and again.video.bit_rate == probe_sync(result.path).video.bit_rate
