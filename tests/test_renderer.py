"""The local renderer end to end: every template, mixed scripts, loudness, safe area, voiceover, contact sheet."""
from __future__ import annotations

import ctypes.util
import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from content.briefs.brief import Brief
from content.media import timeline
from content.media.analysis import analyse
from content.media.captions import END_CARD_S
from content.media.ffmpeg import ffmpeg_exe
from content.media.fonts import font_chain
from content.media.frame import REELS
from content.media.look import Look
from content.media.media import probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import describe_failures, failures, preflight
from content.media.renderer import RenderOptions, render_reel
from content.media.video_utils import contact_sheet
from core.home import Home
from core.settings import Account, ContentSettings, Style, Voiceover
from tests.conftest import run_cli

FRAME_W, FRAME_H = REELS.width, REELS.height
SAFE_TOP, SAFE_BOTTOM, SAFE_LEFT, SAFE_RIGHT = REELS.top, REELS.bottom, REELS.left, REELS.right
WORLD_BRIEF = Brief(
    account="test", template="default", topic="Dawn in Tokyo",
    hook="Tokyo 東京 at dawn 🌅 is unreal ✨",
    beats=["Café crème, déjà vu in São Paulo — naïve façades", "مرحبا بالعالم: the city wakes up slowly",
           "日本語のキャプションも大丈夫です", "Emoji work too 🔥🎉 even mid sentence"],
    hashtags=["tokyo", "東京", "travel"], cta="Follow for more mornings 🌍", visual_prompt="sunrise city",
    duration_s=14,
)


def look_for(home: Home, template: str, *, images: str = "", voiceover: bool = False) -> Look:
    style = Style(template=template, images_folder=images, voiceover=Voiceover(enabled=voiceover))
    return Look.of(Account(name="test", handle="test", style=style), ContentSettings(), home)


def caption_pixels(workdir: Path, duration_s: float, platform: str = "instagram_reels") -> tuple[np.ndarray, str]:
    """Replay the render's own captions for `platform` over black (4 frames a second): the union of drawn pixels,
    and libass's verbose log (which names any glyph it could not find)."""
    spec = platform_spec(platform)
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "verbose", "-f", "lavfi",
         "-i", f"color=black:s={spec.width}x{spec.height}:r=4:d={duration_s:.2f}",
         "-vf", f"ass=captions-{platform}.ass:fontsdir=fonts", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        cwd=workdir, capture_output=True, check=True,
    )
    frames = np.frombuffer(result.stdout, np.uint8).reshape(-1, spec.height, spec.width)
    return frames.max(axis=0), result.stderr.decode(errors="replace")


def test_fallback_fonts_cover_every_script_in_the_brief() -> None:
    chain = font_chain(look_for(Home.at("."), "kinetic").font)
    text = " ".join([WORLD_BRIEF.hook, *WORLD_BRIEF.beats, WORLD_BRIEF.cta])
    assert chain.missing(text) == [], "install fonts-noto-cjk and fonts-symbola (.ci/run does) for CJK and emoji"
    families = {font.family for font, _ in chain.runs(text)}
    assert {"DejaVu Sans", "Symbola"} <= families and any("CJK" in f for f in families)


@pytest.mark.slow
@pytest.mark.parametrize("template", ["kinetic", "list", "kenburns"])
async def test_every_template_renders_a_reel_that_passes_preflight(tmp_path: Path, template: str) -> None:
    images = ""
    if template == "kenburns":
        photos = tmp_path / "photos"
        photos.mkdir()
        for index, source in enumerate(["testsrc2", "smptehdbars", "rgbtestsrc"]):
            subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", f"{source}=s=1600x1200:d=1",
                            "-frames:v", "1", str(photos / f"photo{index}.jpg")], check=True)
        images = str(photos)
    workdir, output = tmp_path / "work", tmp_path / f"{template}.mp4"
    await render_reel(WORLD_BRIEF, look_for(Home.at(tmp_path), template, images=images), workdir, output)

    results = await preflight(output, platform_spec("instagram_reels"))
    assert not failures(results), describe_failures(results)
    info = probe_sync(output)
    signals = await analyse(output, has_video=True, has_audio=True)
    assert signals.integrated_lufs == pytest.approx(-14, abs=1.0)
    assert signals.true_peak_dbtp is not None and signals.true_peak_dbtp <= -1.0
    assert signals.black_at_start_s == 0 and signals.frozen_spans == ()
    assert info.duration_s == pytest.approx(WORLD_BRIEF.duration_s, abs=0.1)

    drawn, log = caption_pixels(workdir, info.duration_s)
    assert "Glyph 0x" not in log and "failed to find any fallback" not in log, log[-2000:]
    rows, columns = np.nonzero(drawn > 24)
    assert len(rows) > 10_000, "captions should be visible"
    assert SAFE_TOP <= rows.min() and rows.max() <= SAFE_BOTTOM
    assert SAFE_LEFT <= columns.min() and columns.max() <= SAFE_RIGHT


@pytest.mark.slow
async def test_a_reel_of_the_longest_allowed_duration_renders_and_passes_check(tmp_path: Path) -> None:
    """90 s (content.default_duration_s's maximum): hundreds of changed frames, past what one ffmpeg expression
    can list."""
    longest = WORLD_BRIEF.model_copy(update={"duration_s": 90})
    output = await render_reel(longest, look_for(Home.at(tmp_path), "list"), tmp_path / "work", tmp_path / "long.mp4",
                               RenderOptions(preset="ultrafast"))
    checked = run_cli(tmp_path, "check", str(output), "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["passed"]
    assert probe_sync(output).duration_s == pytest.approx(90, abs=0.1)


@pytest.mark.slow
async def test_karaoke_lights_one_word_per_event_in_reading_order(tmp_path: Path) -> None:
    await render_reel(WORLD_BRIEF, look_for(Home.at(tmp_path), "kinetic"), tmp_path / "work", tmp_path / "k.mp4")
    events = [line for line in (tmp_path / "work" / "captions-instagram_reels.ass").read_text().splitlines()
              if line.startswith("Dialogue:")]
    hook_words = len(WORLD_BRIEF.hook.split())  # 東京, set apart by spaces, is one word
    hook_events = events[:hook_words]
    starts = [line.split(",")[1] for line in hook_events]
    assert starts == sorted(starts) and len(set(starts)) == hook_words
    accent = "&H0066D1FF&"  # the default palette's accent, #ffd166, in ASS byte order
    assert all(line.count(accent) == 1 for line in hook_events)


def band_luma(video: Path) -> np.ndarray:
    """Every frame of `video` as grey levels at 54x96, cut to the band below the safe area (no caption is drawn
    there), so what changes is the scene's picture."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", "scale=54:96,format=gray",
                          "-fps_mode", "passthrough", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 96, 54).astype(np.float32)
    return frames[:, round(SAFE_BOTTOM / FRAME_H * 96) + 4:, :]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["kinetic", "list"])  # cut, slide
async def test_every_caption_is_a_moving_scene_of_its_own_changing_at_the_planned_time(template: str,
                                                                                        tmp_path: Path) -> None:
    output = await render_reel(WORLD_BRIEF, look_for(Home.at(tmp_path), template), tmp_path / "work",
                               tmp_path / "reel.mp4", RenderOptions(preset="ultrafast"))
    scenes = timeline.load(output)  # as planned: reading speed, each change moved to the music's nearest beat
    assert scenes is not None
    frames = band_luma(output)
    change = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))  # change[i]: from frame i to frame i + 1
    planned = [round(scene["start_s"] * 30) for scene in scenes[1:]]  # each new scene's first frame
    quiet = np.median(change)
    assert quiet > 0.05, "the picture moves inside a scene"
    for first in planned:
        near = change[first - 4:first + 4]
        assert near.max() > 8 * quiet, "a scene change stands out from the motion inside scenes"
        onset = first - 3 + int(np.argmax(near > near.max() / 2))  # where the biggest change near the plan begins
        assert abs(onset - first) <= 2, f"a scene change planned at frame {first} came at {onset}"
    middles = [frames[round((s["start_s"] + s["end_s"]) / 2 * 30)] for s in scenes]
    assert len(middles) >= 3
    assert all(np.abs(a - b).mean() > 8 for a, b in zip(middles, middles[1:])), "neighbouring scenes look alike"


@pytest.mark.slow
async def test_voiceover_times_the_captions_to_the_speech(tmp_path: Path) -> None:
    look = look_for(Home.at(tmp_path), "kinetic", voiceover=True)
    output = await render_reel(WORLD_BRIEF, look, tmp_path / "work", tmp_path / "voiced.mp4",
                               RenderOptions(preset="ultrafast"))
    clips = sorted((tmp_path / "work" / "voice").glob("espeak-*.wav"))
    assert len(clips) == 1 + len(WORLD_BRIEF.beats), "espeak-ng must be installed (.ci/run installs it)"
    spoken = sum(probe_sync(clip).duration_s + 0.25 for clip in clips)
    scenes = timeline.load(output)
    assert scenes is not None
    duration = probe_sync(output).duration_s
    assert duration == pytest.approx(scenes[-1]["end_s"], abs=0.15)
    # each pause after a line is lengthened to the music's next beat (under a beat: 0.8 s at the slowest tempo)
    assert spoken + END_CARD_S - 0.15 <= duration <= spoken + END_CARD_S + 0.8 * len(clips)
    assert not failures(await preflight(output, platform_spec("instagram_reels")))
    with av.open(str(output)) as container:  # the picture and the sound start together (it was 67 ms late)
        streams = {stream.type: stream for stream in container.streams}
        assert {kind: float(stream.start_time * stream.time_base) for kind, stream in streams.items()} == {
            "video": 0.0, "audio": 0.0}
    with av.open(str(output)) as container:
        assert next(container.decode(video=0)).time == 0.0


@pytest.mark.slow
async def test_without_espeak_the_reel_has_music_only_and_the_log_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog_loguru
) -> None:
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)  # as on a machine without libespeak-ng
    look = look_for(Home.at(tmp_path), "list", voiceover=True)
    output = await render_reel(WORLD_BRIEF, look, tmp_path / "work", tmp_path / "music.mp4")
    assert "voice engine espeak skipped: it needs espeak-ng (apt-get install espeak-ng)" in caplog_loguru.text
    assert probe_sync(output).duration_s == pytest.approx(WORLD_BRIEF.duration_s, abs=0.1)
    assert not (tmp_path / "work" / "voice").exists()


@pytest.mark.slow
async def test_contact_sheet_is_a_small_grid_of_frames(tmp_path: Path) -> None:
    output = await render_reel(WORLD_BRIEF, look_for(Home.at(tmp_path), "kinetic"), tmp_path / "w", tmp_path / "v.mp4")
    sheet = await contact_sheet(output, probe_sync(output).duration_s)
    assert sheet.name == "v.sheet.jpg" and sheet.read_bytes()[:2] == b"\xff\xd8"
    info = probe_sync(sheet)
    assert info.video is not None and info.video.width == 5 * 216 + 6 * 4  # 7 frames every 2 s: a 5x2 grid
    assert sheet.stat().st_size < 500_000
