"""The Instagram optimizer on inputs a provider may return: 16:9, 1:1, odd fps, variable fps, no audio."""
from __future__ import annotations

from pathlib import Path

import pytest

from content.media.media import mp4_boxes, probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import failures, preflight
from content.media.video_utils import extract_thumbnail, optimize, transcode_reasons
from core.errors import MediaError
from tests.conftest import make_clip

TAGGED_BT709 = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
REELS = platform_spec("instagram_reels")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "clip"),
    [
        ("landscape_no_audio", dict(size="640x360", rate="25", audio=False)),
        ("square_odd_fps", dict(size="480x480", rate="15")),
        ("variable_fps", dict(size="360x640", rate="30", extra=["-vf", "setpts='PTS+0.02*sin(N)/TB'", "-fps_mode", "vfr"])),
    ],
)
async def test_transcodes_any_input_to_a_compliant_reel(tmp_path: Path, name: str, clip: dict) -> None:
    source = make_clip(tmp_path / f"{name}.mp4", **clip)
    assert transcode_reasons(probe_sync(source), REELS)
    result = await optimize(source, "instagram_reels", tmp_path / "out.mp4")
    assert result.video and (result.video.width, result.video.height) == (1080, 1920)
    assert result.video.codec == "h264" and result.video.pix_fmt == "yuv420p"
    assert 23 <= result.video.fps <= 60 and result.video.constant_frame_rate
    assert result.audio and result.audio.codec == "aac" and result.audio.sample_rate == 48_000
    assert result.moov_before_mdat and not result.has_edit_list
    assert result.duration_s == pytest.approx(4, abs=0.2)
    assert not failures(await preflight(result.path, REELS))


async def test_compliant_input_is_only_remuxed(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "ready.mp4", size="1080x1920", rate="30", seconds=3.5,
                       extra=["-profile:v", "high", "-ar", "48000", "-vf", TAGGED_BT709])
    assert mp4_boxes(source).index("mdat") < mp4_boxes(source).index("moov")  # not faststart yet
    assert transcode_reasons(probe_sync(source), REELS) == []
    result = await optimize(source, REELS, tmp_path / "out.mp4")
    assert result.moov_before_mdat and not result.has_edit_list
    assert result.video and result.video.bit_rate == pytest.approx(probe_sync(source).video.bit_rate, rel=0.02)


async def test_duration_limits_are_clear_errors(tmp_path: Path) -> None:
    short = make_clip(tmp_path / "short.mp4", seconds=1.5)
    with pytest.raises(MediaError, match=r"1\.5 s is outside instagram_reels's 3-900 s"):
        await optimize(short, REELS, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


async def test_story_length_limit(tmp_path: Path) -> None:
    long_clip = make_clip(tmp_path / "long.mp4", size="160x90", rate="24", seconds=61)
    with pytest.raises(MediaError, match="instagram_story"):
        await optimize(long_clip, "instagram_story", tmp_path / "out.mp4")


async def test_unreadable_file_is_a_media_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError, match="not a readable video"):
        await optimize(bogus, REELS)


async def test_thumbnail_is_a_jpeg(tmp_path: Path) -> None:
    cover = await extract_thumbnail(make_clip(tmp_path / "c.mp4", seconds=3))
    assert cover.read_bytes()[:3] == b"\xff\xd8\xff"
