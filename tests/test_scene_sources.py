"""Scene pictures from the persona's sources in its order — its media library (photos, clips), stock footage,
generated backdrops — and a Reel composed over clips: trimmed, looped when short, scaled to cover, graded."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from content.briefs.brief import Brief
from content.media import pictures, timeline
from content.media.captions import reading_timeline
from content.media.ffmpeg import ffmpeg_exe
from content.media.footage import Credit, Footage, Wanted
from content.media.frame import REELS
from content.media.look import Look
from content.media.media import probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import describe_failures, failures, preflight
from content.media.renderer import RenderOptions, render_reel
from content.media.video_utils import optimize
from core.home import Home
from core.settings import Account, ContentSettings, SceneSource, Style
from tests.test_renderer import band_luma

BRIEF = Brief(account="test", template="default", topic="Morning run", hook="Three stretches every runner skips",
              beats=["Hip flexor lunge, thirty seconds a side", "Calf wall stretch before you head out",
                     "Glute bridges wake you up"],
              hashtags=["running"], cta="Follow for a stronger stride", visual_prompt="runner at sunrise",
              duration_s=10)


def make_clip(path: Path, source: str, seconds: float) -> Path:
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", source, "-t", str(seconds),
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True)
    return path


def look_with(home: Home, sources: list[SceneSource], *, library: str = "", grade: str = "",
              template: str = "kinetic") -> Look:
    style = Style(template=template, images_folder=library, scene_sources=sources, grade=grade)  # type: ignore[arg-type]
    return Look.of(Account(name="test", handle="test", style=style), ContentSettings(), home)


def planned() -> list[timeline.Scene]:
    return timeline.plan(BRIEF, reading_timeline(BRIEF, BRIEF.duration_s))


class Library:
    """A stock library that answers from local files and records what it was asked."""

    def __init__(self, clip: Path | None) -> None:
        self.clip = clip
        self.asked: list[tuple[str, Wanted, set[str]]] = []

    async def __call__(self, scene: timeline.Scene, wanted: Wanted, used: set[str]) -> Footage | None:
        self.asked.append((scene.prompt, wanted, set(used)))
        if self.clip is None:
            return None
        number = str(len(self.asked))
        return Footage(self.clip, 2.0, 360, 640, Credit("pexels", number, f"https://www.pexels.com/video/{number}/",
                                                        "Ana Runner", "https://www.pexels.com/@ana", "Pexels License"))


async def test_stock_footage_fills_each_scene_with_its_credit_and_no_clip_twice(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "stock.mp4", "testsrc2=s=360x640:r=25", 2)
    stock = Library(clip)
    scenes = planned()
    chosen = await pictures.choose(look_with(Home.at(tmp_path), ["library", "stock", "generated"]), scenes, REELS,
                                   tmp_path, 7, 30, stock)
    assert [p.source for p in chosen] == ["stock"] * len(scenes)  # no library folder: straight to stock
    assert all(p.draw(REELS).moving for p in chosen)
    prompts, wanted, used = zip(*stock.asked)
    assert list(prompts) == [scene.prompt for scene in scenes]
    assert all(w.orientation == "portrait" and (w.width, w.height) == (REELS.width, REELS.height) for w in wanted)
    assert all(w.duration_s >= s.end_s - s.start_s for w, s in zip(wanted, scenes))
    assert list(used) == [set(str(n) for n in range(1, i + 1)) for i in range(len(scenes))]
    sourced = pictures.sourced(scenes, chosen)
    assert sourced[0].credit is not None and sourced[0].credit["author"] == "Ana Runner"
    assert sourced[0].credit["licence"] == "Pexels License"


async def test_a_source_with_nothing_falls_through_to_the_next(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "._clip.mp4").write_bytes(b"\0\0")  # a Mac's resource fork: not media
    (library / "broken.mp4").write_bytes(b"not a video")
    empty_stock = Library(None)
    scenes = planned()
    chosen = await pictures.choose(look_with(Home.at(tmp_path), ["library", "stock"], library=str(library)), scenes,
                                   REELS, tmp_path, 0, 30, empty_stock)
    assert [p.source for p in chosen] == ["generated"] * len(scenes)  # generated always answers, listed or not
    assert len(empty_stock.asked) == len(scenes)

    only_generated = await pictures.choose(look_with(Home.at(tmp_path), ["generated", "stock"]), scenes, REELS,
                                           tmp_path, 0, 30, Library(tmp_path / "never.mp4"))
    assert [p.source for p in only_generated] == ["generated"] * len(scenes)


async def test_a_persona_clip_longer_than_its_scene_is_trimmed_from_a_place_of_its_own(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    make_clip(library / "long.mp4", "testsrc2=s=320x240:r=25", 20)
    scenes = planned()
    first = await pictures.choose(look_with(Home.at(tmp_path), ["library"], library=str(library)), scenes,
                                  REELS, tmp_path, 1, 30, None)
    inputs = [p.draw(REELS) for p in first]
    starts = [float(i.args[i.args.index("-ss") + 1]) for i in inputs]
    assert all(0 <= start <= 20 - (s.end_s - s.start_s) for start, s in zip(starts, scenes))
    assert len(set(starts)) == len(starts), "each scene shows another part of the clip"
    assert all("-stream_loop" not in i.args for i in inputs)


@pytest.mark.slow
async def test_a_reel_over_clips_and_photos_changes_scene_on_time_graded_and_passes_preflight(
        tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    make_clip(library / "a-landscape.mp4", "testsrc2=s=640x360:r=25", 6)  # wider than the frame: cropped to cover
    make_clip(library / "b-short.mov", "mandelbrot=s=360x640:r=24", 1)  # shorter than its scene: looped
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "smptehdbars=s=1600x1200:d=1",
                    "-frames:v", "1", str(library / "c-photo.jpg")], check=True)
    (tmp_path / "invert.cube").write_text("LUT_3D_SIZE 2\n" + "".join(
        f"{1 - r} {1 - g} {1 - b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)))
    home = Home.at(tmp_path)
    outputs = {}
    for grade in ("", "invert.cube"):
        look = look_with(home, ["library"], library=str(library), grade=grade)
        outputs[grade] = await render_reel(BRIEF, look, tmp_path / f"work{grade}", tmp_path / f"reel{grade}.mp4",
                                           RenderOptions(preset="ultrafast"))
    plain = outputs[""]
    results = await preflight(plain, platform_spec("instagram_reels"))
    assert not failures(results), describe_failures(results)
    assert probe_sync(plain).duration_s == pytest.approx(BRIEF.duration_s, abs=0.1)
    scenes = timeline.load(plain)
    assert scenes is not None and {s["source"] for s in scenes} == {"library"}

    frames = band_luma(plain)
    change = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    for scene in scenes[1:]:
        first = round(scene["start_s"] * 30)
        onset = max(range(first - 3, first + 3), key=lambda i: change[i]) + 1
        assert abs(onset - first) <= 2, f"a scene change planned at frame {first} came at {onset}"
    inside = [change[round(s["start_s"] * 30) + 2: round(s["end_s"] * 30) - 2].mean() for s in scenes[:2]]
    assert all(moving > 0.2 for moving in inside), "clip scenes move"

    inverted = band_luma(outputs["invert.cube"])
    assert np.abs((255 - inverted[:len(frames)]) - frames).mean() < 25, "the grade inverted the pictures"


@pytest.mark.slow
async def test_full_range_footage_is_delivered_in_tv_range(tmp_path: Path) -> None:
    """A phone's or an MJPEG camera's clip (full-range "yuvj420p") as a scene, and as a video to make ready: both
    come out TV-range yuv420p, as the platforms take it."""
    library = tmp_path / "library"
    library.mkdir()
    phone = library / "phone.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=s=360x640:r=30:d=4",
                    "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuvj420p",
                    "-c:a", "aac", str(phone)], check=True)
    assert probe_sync(phone).video.pix_fmt == "yuvj420p"  # type: ignore[union-attr]
    look = look_with(Home.at(tmp_path), ["library"], library=str(library))
    reel = await render_reel(BRIEF, look, tmp_path / "work", tmp_path / "reel.mp4", RenderOptions(preset="ultrafast"))
    made_ready = await optimize(phone, "instagram_reels", tmp_path / "ready.mp4")
    for video in (reel, made_ready.path):
        assert probe_sync(video).video.pix_fmt == "yuv420p", video.name  # type: ignore[union-attr]
