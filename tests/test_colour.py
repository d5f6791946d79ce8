"""Colour: every picture we encode is BT.709 SDR 8-bit TV range and tagged so; BT.601, untagged and HDR (HLG) inputs
are converted; preflight rejects a file that is not. A solid patch of a known RGB must decode back to it with the
BT.709 matrix."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from content.media import backgrounds
from content.media.ffmpeg import ffmpeg_exe
from content.media.frame import Frame
from content.media.media import probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import check_rules, describe_failures, failures
from content.media.video_utils import extract_thumbnail, optimize, video_encoder_args

REELS = platform_spec("instagram_reels")
RGB = (200, 60, 30)
PATCH = f"color=c=0x{RGB[0]:02X}{RGB[1]:02X}{RGB[2]:02X}:r=30:d=3.5"
BT601 = ("scale=out_color_matrix=bt601:out_range=tv,format=yuv420p,"
         "setparams=color_primaries=smpte170m:color_trc=smpte170m:colorspace=smpte170m:range=tv")
HLG = ("format=gbrp,zscale=pin=709:tin=709:min=gbr:rin=full:p=2020:t=arib-std-b67:m=2020_ncl:r=tv,format=yuv420p10le,"
       "setparams=color_primaries=bt2020:color_trc=arib-std-b67:colorspace=bt2020nc:range=tv")
UNTAGGED = ("scale=out_color_matrix=bt601:out_range=tv,format=yuv420p,"
            "setparams=color_primaries=2:color_trc=2:colorspace=2")


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def patch_clip(path: Path, size: str, kind: str) -> Path:
    """A solid RGB patch: BT.601-tagged SD, the same untagged, or HLG BT.2020 10-bit HEVC."""
    if kind == "hlg":
        ffmpeg("-f", "lavfi", "-i", f"{PATCH}:s={size}", "-vf", HLG, "-c:v", "libx265", "-x265-params",
               "log-level=error", "-preset", "ultrafast", str(path))
    else:
        ffmpeg("-f", "lavfi", "-i", f"{PATCH}:s={size}", "-vf", UNTAGGED if kind == "untagged" else BT601,
               "-c:v", "libx264", "-preset", "ultrafast", str(path))
    return path


def centre_rgb(path: Path) -> tuple[float, float, float]:
    """The centre pixel's Y'CbCr (8-bit, TV range) turned to RGB with the BT.709 matrix."""
    info = probe_sync(path).video
    assert info is not None
    w, h = info.width, info.height
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    assert len(raw) == w * h * 3 // 2  # yuv420p as stored: no conversion on the way out
    y = (raw[(h // 2) * w + w // 2] - 16) / 219
    cb = (raw[w * h + (h // 4) * (w // 2) + w // 4] - 128) / 224
    cr = (raw[w * h * 5 // 4 + (h // 4) * (w // 2) + w // 4] - 128) / 224
    r, b = y + 1.5748 * cr, y + 1.8556 * cb
    g = (y - 0.2126 * r - 0.0722 * b) / 0.7152
    return r * 255, g * 255, b * 255


def cover_rgb(jpeg: Path) -> tuple[int, ...]:
    """The JPEG's centre pixel as RGB (JFIF: BT.601 full range, as every image viewer reads it)."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(jpeg), "-vf", "crop=2:2", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return tuple(raw[:3])


def assert_bt709(path: Path, tolerance: float) -> None:
    video = probe_sync(path).video
    assert video is not None
    assert (video.primaries, video.transfer, video.matrix, video.colour_range, video.bit_depth) == (
        "bt709", "bt709", "bt709", "tv", 8)
    assert video.pix_fmt == "yuv420p"
    decoded = centre_rgb(path)
    assert all(abs(got - want) <= tolerance for got, want in zip(decoded, RGB)), decoded


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "size", "tolerance"), [
    ("bt601", "640x480", 6), ("untagged", "640x480", 6), ("hlg", "360x640", 12),
])
async def test_optimizer_delivers_tagged_bt709(tmp_path: Path, kind: str, size: str, tolerance: float) -> None:
    source = patch_clip(tmp_path / f"{kind}.mp4", size, kind)
    result = await optimize(source, REELS, tmp_path / "out.mp4")
    assert_bt709(result.path, tolerance)
    cover = await extract_thumbnail(result.path, at_s=1.0)
    assert all(abs(got - want) <= tolerance for got, want in zip(cover_rgb(cover), RGB))


@pytest.mark.slow
async def test_backdrops_are_bt709_from_stills_and_clips(tmp_path: Path) -> None:
    """A photo (RGB), a BT.601 SD clip and an HLG clip, as scenes, come out BT.709 with their colour kept."""
    frame = Frame(360, 640, 0, 640, 0, 360)
    ffmpeg("-f", "lavfi", "-i", f"{PATCH}:s=400x700", "-frames:v", "1", str(tmp_path / "photo.png"))
    patch_clip(tmp_path / "sd.mp4", "640x480", "bt601")
    patch_clip(tmp_path / "hlg.mp4", "360x640", "hlg")
    stills = [backgrounds.image_still(tmp_path / "photo.png", *backgrounds.scene_size(frame)),
              backgrounds.clip(tmp_path / "sd.mp4", 0.0, 1.0, 3.5, 30, frame, probe_sync(tmp_path / "sd.mp4").video),
              backgrounds.clip(tmp_path / "hlg.mp4", 0.0, 1.0, 3.5, 30, frame,
                               probe_sync(tmp_path / "hlg.mp4").video)]
    backdrop = backgrounds.scenes(stills, [1.0, 1.0, 1.0], 30, "cut", frame)
    graph = ";".join([*(backgrounds.prepare_chain(i, s) for i, s in enumerate(stills)), backdrop.graph])
    for scene, at in enumerate(("0.5", "1.5", "2.5")):
        out = tmp_path / f"scene{scene}.mp4"
        subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                        *[arg for still in stills for arg in still.args], "-filter_complex", graph, "-map", "[bg]",
                        "-ss", at, "-frames:v", "1", *video_encoder_args(REELS, fps=30, preset="ultrafast"),
                        out.name], check=True, cwd=tmp_path)
        assert_bt709(out, 6 if scene < 2 else 12)


async def test_preflight_rejects_hdr_and_untagged(tmp_path: Path) -> None:
    for kind, size, says in [("hlg", "360x640", "HDR HLG (arib-std-b67), primaries bt2020, 10-bit"),
                             ("untagged", "640x480", "untagged, 8-bit"),
                             ("bt601", "640x480", "primaries smpte170m")]:
        rules = [r for r in failures(check_rules(probe_sync(patch_clip(tmp_path / f"{kind}.mp4", size, kind)), REELS))
                 if r.rule == "colour"]
        assert len(rules) == 1 and says in rules[0].measured, kind
        assert "colour: " in describe_failures(rules) and "\n" not in describe_failures(rules)
