"""Every format end to end: one render for its platform plus a variant for each other, reframed from one timeline;
each passes its platform's preflight, keeps its captions in that platform's safe area and changes scene on time."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from content.media import timeline
from content.media.ffmpeg import ffmpeg_exe
from content.media.frame import Frame
from content.media.platforms import PLATFORMS, aspect_of, for_aspect, platform_spec, variant_path
from content.media.preflight import describe_failures, failures, preflight
from content.media.renderer import RenderOptions, render_reel
from core.home import Home
from tests.conftest import edit_json, run_cli
from tests.test_renderer import caption_pixels, look_for
from tests.test_scene_sources import BRIEF

FORMATS = ["9:16", "16:9", "1:1", "4:5", "21:9"]


def test_each_format_has_a_platform_and_a_safe_area_inside_its_frame() -> None:
    assert [aspect_of(for_aspect(a).width, for_aspect(a).height) for a in FORMATS] == FORMATS
    for spec in PLATFORMS.values():
        frame = Frame.of(spec)
        assert 0 < frame.left < frame.right < frame.width and 0 < frame.top < frame.bottom < frame.height
        assert frame.safe_width >= frame.width * 0.7 and frame.safe_height >= frame.height * 0.5, spec.name


def scene_changes(video: Path, frame: Frame) -> np.ndarray:
    """How much the picture changes from each frame to the next, in the strip below the safe area (no captions)."""
    small_w, small_h = 64, round(64 * frame.height / frame.width)
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", f"scale={small_w}:{small_h},format=gray",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, small_h, small_w).astype(np.float32)
    strip = frames[:, round(frame.bottom / frame.height * small_h) + 2:, :]
    return np.abs(np.diff(strip, axis=0)).mean(axis=(1, 2))


@pytest.mark.slow
async def test_one_render_delivers_every_format_each_ready_for_its_platform(tmp_path: Path) -> None:
    primary, *others = [for_aspect(a).name for a in FORMATS]
    others.append("tiktok")  # same shape as Reels, another safe area
    workdir = tmp_path / "work"
    output = await render_reel(BRIEF, look_for(Home.at(tmp_path), "kinetic"), workdir, tmp_path / "reel.mp4",
                               RenderOptions(preset="ultrafast"), platform=primary, variants=others)
    scenes = timeline.load(output)
    assert scenes is not None and len(scenes) >= 3
    for name in [primary, *others]:
        video = output if name == primary else variant_path(output, name)
        spec = platform_spec(name)
        results = await preflight(video, spec)
        assert not failures(results), f"{name}: {describe_failures(results)}"

        frame = Frame.of(spec)
        drawn, _ = caption_pixels(workdir, BRIEF.duration_s, name)
        rows, columns = np.nonzero(drawn > 24)
        assert len(rows) > 5_000, f"{name}: captions should be visible"
        assert frame.top <= rows.min() and rows.max() <= frame.bottom, name
        assert frame.left <= columns.min() and columns.max() <= frame.right, name

        change = scene_changes(video, frame)
        for scene in scenes[1:]:
            first = round(scene["start_s"] * 30)
            onset = max(range(first - 3, first + 3), key=lambda i: change[i]) + 1
            assert abs(onset - first) <= 2, f"{name}: a scene change planned at frame {first} came at {onset}"


@pytest.mark.slow
def test_generate_with_an_aspect_makes_it_for_that_platform_and_a_variant_for_each_listed(home: Home) -> None:
    edit_json(home.config_file, lambda data: data.update(platforms=["instagram_reels", "instagram_square"]))
    result = run_cli(home.root, "generate", "Three stretches for desk workers", "--aspect", "16:9", "--duration", "6",
                     "--wait", "--json")
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    video = Path(made["path"])
    post = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
    assert post["variants"] == {name: variant_path(video, name).name for name in ["instagram_reels", "instagram_square"]}
    assert "variant for instagram_square: " in video.with_suffix(".txt").read_text(encoding="utf-8")
    for name, path in [("youtube", video), *((n, video.with_name(f)) for n, f in post["variants"].items())]:
        checked = run_cli(home.root, "check", str(path), "--platform", name, "--json")
        assert checked.returncode == 0 and json.loads(checked.stdout)["passed"], checked.stdout
