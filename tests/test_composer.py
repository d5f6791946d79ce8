"""A provider's video composed into the Reel by the engine: the brief's captions over its stretches, its own sound as
the bed, a variant for each other platform; paid once. Switched off, the video is delivered as made."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from content.media.ffmpeg import ffmpeg_exe
from content.media.media import probe
from content.media.platforms import variant_path
from core.home import Home
from tests.conftest import edit_json, make_clip, run_cli
from tests.fakes.runway import FakeRunway
from tests.test_providers import build, request_for, through_the_engine

TONE_HZ = 440  # make_clip's sound


def compose(home: Home, on: bool) -> None:
    """The composer on (over the provider's one video for the whole Reel: tests/test_scenes.py asks for clips per
    scene) or off."""
    def change(data: dict[str, Any]) -> None:
        data["video_generation"]["composer"].update(provider_videos=on, scenes=False)

    edit_json(home.video_config_file, change)


def loudest_hz(video: Path) -> float:
    pcm = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-ac", "1", "-ar", "8000", "-f", "s16le",
                          "-"], capture_output=True, check=True).stdout
    samples = np.frombuffer(pcm, np.int16).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / 8000)[spectrum.argmax()])


@pytest.mark.slow
async def test_a_providers_video_becomes_a_composed_reel_paid_once(home: Home, tmp_path: Path) -> None:
    made = make_clip(tmp_path / "made.mp4", size="720x1280", rate="24", seconds=6)
    edit_json(home.config_file, lambda data: data.update(platforms=["instagram_reels", "instagram_square"]))
    compose(home, on=True)
    outcome, charged = await through_the_engine(home, "runway", FakeRunway(made, "success"), 5)
    assert outcome.status == "done" and outcome.path is not None, outcome.error
    assert charged == [pytest.approx(build("runway", "http://x").estimate_cost(request_for(tmp_path)))]

    info = await probe(outcome.path)
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)
    assert info.duration_s == pytest.approx(6, abs=0.1), "as long as the provider made it"
    post = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert len(post["scenes"]) >= 3 and {scene["source"] for scene in post["scenes"]} == {"provider"}
    assert abs(loudest_hz(outcome.path) - TONE_HZ) < 5, "the video's own sound is the bed, not synthesized music"
    square = variant_path(outcome.path, "instagram_square")
    assert post["variants"] == {"instagram_square": square.name}
    checked = run_cli(home.root, "check", str(square), "--platform", "instagram_square", "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["passed"], checked.stdout


@pytest.mark.slow
async def test_switched_off_a_providers_video_is_delivered_as_made(home: Home, tmp_path: Path) -> None:
    made = make_clip(tmp_path / "made.mp4", size="1080x1920", rate="30", seconds=6)
    compose(home, on=False)
    outcome, charged = await through_the_engine(home, "runway", FakeRunway(made, "success"), 5)
    assert outcome.status == "done" and outcome.path is not None, outcome.error
    post = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert post["scenes"] == [] and post["variants"] == {}
    assert len(charged) == 1
