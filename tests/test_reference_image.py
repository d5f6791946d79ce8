"""Character consistency (issue 22): a persona's `reference_image` goes to every provider that takes a character
reference, and those providers are tried first for that persona, so the influencer looks the same in each video."""
from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from content.media.ffmpeg import ffmpeg_exe
from core.home import Home
from core.secrets import Secrets
from tests.conftest import edit_json, generate_and_wait, make_clip, run_cli
from tests.fakes.minimax import FakeMinimax
from tests.fakes.runway import FakeRunway
from tests.fakes.veo import FakeVeo
from tests.test_providers import build, configure, keys


def persona_photo(home: Home) -> Path:
    """A small portrait PNG standing in for the persona's face."""
    photo = home.root / "data" / "persona.png"
    frames = make_clip(home.root / "data" / "face.mp4", size="480x600", seconds=1, audio=False)
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(frames), "-frames:v", "1", str(photo)],
                   check=True)
    return photo


def with_reference(home: Home, photo: str) -> None:
    """Every persona's reference photo, Veo asked to send it and MiniMax on H3 (which takes one)."""
    def change(data: dict[str, Any]) -> None:
        for account in data["accounts"]:
            account.setdefault("style", {})["reference_image"] = photo
    edit_json(home.config_file, change)

    def referencing(data: dict[str, Any]) -> None:
        providers = data["video_generation"]["providers"]
        if "veo" in providers:
            providers["veo"]["params"]["reference_images"] = True
        if "minimax" in providers:
            providers["minimax"]["params"].update(model="MiniMax-H3", resolution="768P")
    edit_json(home.video_config_file, referencing)


def veo_photo(body: dict[str, Any]) -> bytes:
    [reference] = body["instances"][0]["referenceImages"]
    assert reference["referenceType"] == "asset" and reference["image"]["mimeType"] == "image/png"
    assert body["parameters"]["durationSeconds"] == 8, "Veo makes 8 s videos from reference images"
    return base64.b64decode(reference["image"]["bytesBase64Encoded"])


def minimax_photo(body: dict[str, Any]) -> bytes:
    [image] = [item for item in body["content"] if item["type"] == "image_url"]
    assert image["role"] == "reference_image" and image["image_url"]["url"].startswith("data:image/png;base64,")
    return base64.b64decode(image["image_url"]["url"].split(",", 1)[1])


@pytest.mark.parametrize("kind", ["veo", "minimax"])
@pytest.mark.parametrize("photo", ["data/persona.png", ""])
async def test_the_persona_photo_goes_to_the_provider_that_takes_it_which_is_tried_first(photo: str, kind: str,
                                                                                      home: Home, clip: Path) -> None:
    """Runway comes first in failover but takes no reference: for a persona with a photo, Veo or MiniMax-H3 (which
    take one) is tried first; without one, the failover order stands."""
    picture = persona_photo(home)
    runway, other = FakeRunway(clip), (FakeVeo if kind == "veo" else FakeMinimax)(clip)
    configure(home, {"runway": ("runway", await runway.start()), kind: (kind, await other.start())})
    with_reference(home, photo)
    try:
        outcome, _ = await generate_and_wait(home, "Morning light over a quiet harbour", 8,
                                             Secrets(keys("runway", kind)))
    finally:
        await runway.stop()
        await other.stop()
    assert outcome.status == "done", outcome.error
    if not photo:
        assert outcome.provider == "runway" and not other.tasks
        return
    assert outcome.provider == kind and not runway.tasks and other.tasks
    for task in other.tasks.values():
        assert (veo_photo if kind == "veo" else minimax_photo)(task.body) == picture.read_bytes()


def test_a_persona_photo_that_is_missing_or_not_a_photo_is_one_line(home: Home) -> None:
    for photo, problem in [("data/nobody.png", "no photo 'data/nobody.png' under the home"),
                           ("data/trends", "'data/trends' is not a .jpg or .png photo")]:
        with_reference(home, photo)
        result = run_cli(home.root, "config", "check")
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert f"config/config.json: accounts[0].style.reference_image: {problem}" in line, line


def test_veo_lite_takes_no_reference_image() -> None:
    lite = build("veo", model="veo-3.1-lite-generate-preview", reference_images=True)
    assert lite.misconfigured() == "veo-3.1-lite-generate-preview takes no reference image"
    assert not lite.takes_reference()
