"""Lookalikes (`generate --like`, a persona's `reference_videos`): the reference's cuts, colours, tempo and caption
pace recovered in the Reel made like it, the similarity report beside it, bad references refused, kept references
expiring."""
from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from content.briefs.brief import Likeness
from content.media.lookalike import caption_preset, grade_lut, likeness_of, scene_cuts
from content.media.onscreen_text import text_boxes
from content.media.reference import analyze
from content.media.similarity import _lab
from core.home import Home
from tests.clips import FPS, KNOWN_CUTS, TEMPO_BPM, cut_times, make_known_cuts
from tests.conftest import edit_json, run_cli

FRAME_S = 1 / FPS

def test_scenes_change_at_the_references_cuts_scaled_to_the_reels_length() -> None:
    like = Likeness(reference="r", shot_lengths_s=[2.0, 1.0, 3.0], shot_palettes=[["#000000", "#ffffff"]])
    assert scene_cuts(like, 6.0) == [2.0, 3.0]
    assert scene_cuts(like, 12.0) == [4.0, 6.0]

def test_the_caption_preset_follows_how_often_the_text_changes() -> None:
    assert [caption_preset(rate) for rate in (0.0, 0.19, 0.53, 0.77, 3.0)] == ["classic", "classic", "pop", "word",
                                                                                 "word"]

def test_the_grade_tints_toward_the_references_colours_and_keeps_lightness() -> None:
    lines = grade_lut(["#102040", "#f0a030"]).splitlines()
    assert lines[0] == "LUT_3D_SIZE 17" and len(lines) == 1 + 17 ** 3
    table = np.array([[float(v) for v in line.split()] for line in lines[1:]]).reshape(17, 17, 17, 3)
    grey, white_ish = table[8, 8, 8], table[14, 14, 14]  # [blue][green][red]
    assert abs(grey @ [0.2126, 0.7152, 0.0722] - 0.5) < 0.02  # lightness kept
    assert white_ish[0] > white_ish[2]  # highlights warmed toward the orange, the lightest colour

def test_text_is_found_on_a_frame_and_not_on_a_gradient() -> None:
    gradient = np.tile(np.linspace(40, 200, 360, dtype=np.uint8), (640, 1))
    assert not text_boxes(gradient).any()
    captioned = gradient.copy()
    cv2.putText(captioned, "Five habits", (40, 320), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    boxes = text_boxes(captioned)
    assert 0.005 < boxes.mean() < 0.05 and boxes[300:325, 60:300].mean() > 0.5

@pytest.mark.slow
def test_generate_like_follows_the_references_cuts_colours_and_tempo(home: Home, tmp_path: Path) -> None:
    reference = make_known_cuts(tmp_path / "reference.mp4", 540, 960)
    done = run_cli(home.root, "generate", "five morning habits that stick", "--like", str(reference), "--wait",
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    video = Path(result["path"])
    made = asyncio.run(analyze(video, tmp_path / "work"))
    # Every cut of the reference, scaled to the Reel's length, is a cut of the Reel within two frames (the end
    # card's change of layout may add one more).
    scale = made.duration_s / sum(source.seconds for source in KNOWN_CUTS)
    for cut in cut_times():
        assert min(abs(found - cut * scale) for found in made.cuts_s) <= 2 * FRAME_S + 0.01, (cut, made.cuts_s)
    assert len(made.cuts_s) <= len(cut_times()) + 1
    assert made.tempo_bpm == pytest.approx(TEMPO_BPM, abs=2)
    # Each shot leads with its reference shot's main colour (CIE76 ΔE in Lab), for most of them.
    kept = next((home.data_dir / "references").iterdir())
    theirs = json.loads((kept / "analysis.json").read_text())["shots"]
    gaps = []
    for shot in made.shots:
        middle = (shot["start_s"] + shot["end_s"]) / 2 / scale
        source = next(s for s in theirs if s["start_s"] <= middle < s["end_s"] + 0.01)
        gaps.append(float(np.linalg.norm(np.subtract(_lab(shot["palette"][0][0]), _lab(source["palette"][0][0])))))
    assert np.median(gaps) <= 30, gaps
    report = result["similarity"]
    assert report["parts"]["pacing"] >= 0.85 and report["parts"]["tempo"] >= 0.9 and report["overall"] >= 70
    assert Path(result["similarity_page"]).is_file()
    # The reference is kept once, however often it is followed.
    again = run_cli(home.root, "generate", "three evening habits", "--like", str(reference))
    assert again.returncode == 0, again.stderr
    assert [p.name for p in (home.data_dir / "references").iterdir()] == [kept.name]

@pytest.mark.slow
def test_a_reels_caption_pace_is_recovered_from_it(home: Home, tmp_path: Path) -> None:
    """A Reel made word by word, used as a reference, gives word-by-word captions; one shown whole, whole ones. And
    a lookalike of each, by a persona whose own template is the list, shows its text at the reference's pace."""
    for preset in ("word", "classic"):
        edit_json(home.config_file, lambda data: [account["style"].update(captions=preset, template="kinetic")
                                                  for account in data["accounts"]])
        made = run_cli(home.root, "generate", f"habits shown {preset}", "--duration", "8", "--wait", "--json")
        assert made.returncode == 0, made.stderr
        reference = Path(json.loads(made.stdout)["path"])
        analysis = asyncio.run(analyze(reference, tmp_path / "work"))
        assert likeness_of(analysis, "r").captions == preset, analysis.text

        edit_json(home.config_file, lambda data: [account["style"].update(captions="classic", template="list")
                                                  for account in data["accounts"]])
        like = run_cli(home.root, "generate", f"routines shown {preset}", "--like", str(reference), "--wait", "--json")
        assert like.returncode == 0, like.stderr
        lookalike = asyncio.run(analyze(Path(json.loads(like.stdout)["path"]), tmp_path / "work"))
        assert likeness_of(lookalike, "r").captions == preset, (lookalike.text, analysis.text)

@pytest.mark.slow
def test_a_reference_that_is_missing_or_no_video_is_one_line_and_queues_nothing(home: Home, tmp_path: Path) -> None:
    missing = run_cli(home.root, "generate", "habits", "--like", str(tmp_path / "nope.mp4"))
    assert missing.returncode == 2 and "nope.mp4: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    bad = run_cli(home.root, "generate", "habits", "--like", str(text))
    assert bad.returncode == 2 and "cannot be used as a reference" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert status["jobs"] == []

def test_a_persona_reference_that_is_not_there_is_refused_by_config_check(home: Home) -> None:
    edit_json(home.config_file, lambda data: data["accounts"][0]["style"].update(reference_videos=["refs/a.mp4"]))
    checked = run_cli(home.root, "config", "check")
    assert checked.returncode == 2 and "refs/a.mp4" in checked.stderr and "Traceback" not in checked.stderr

@pytest.mark.slow
def test_a_personas_references_are_followed_and_expire_unused(home: Home, tmp_path: Path) -> None:
    (home.root / "refs").mkdir()
    make_known_cuts(home.root / "refs" / "a.mp4", 270, 480)
    edit_json(home.config_file, lambda data: data["accounts"][0]["style"].update(reference_videos=["refs/a.mp4"]))
    edit_json(home.config_file, lambda data: data.update(retention_days=3))
    queued = run_cli(home.root, "generate", "habits", "--json")
    assert queued.returncode == 0, queued.stderr
    (kept,) = (home.data_dir / "references").iterdir()
    old = time.time() - 4 * 86400
    os.utime(kept / "analysis.json", (old, old))
    dry = run_cli(home.root, "cleanup", "--dry-run")
    assert f"reference {kept.name}: would remove" in dry.stdout and kept.is_dir()
    cleaned = run_cli(home.root, "cleanup")
    assert f"reference {kept.name}: removed" in cleaned.stdout and not kept.exists()


@pytest.mark.slow
def test_a_personas_unreadable_reference_is_one_line_and_the_reel_is_queued_all_the_same(home: Home) -> None:
    (home.root / "refs").mkdir()
    (home.root / "refs" / "broken.mp4").write_bytes(b"not a video at all")
    edit_json(home.config_file, lambda data: data["accounts"][0]["style"].update(
        reference_videos=["refs/broken.mp4"]))
    queued = run_cli(home.root, "generate", "habits that stick")
    assert queued.returncode == 0, queued.stderr
    warned = [line for line in queued.stderr.splitlines() if "broken.mp4" in line]
    assert len(warned) == 1 and "own style" in warned[0] and "Traceback" not in queued.stderr
    assert len(json.loads(run_cli(home.root, "status", "--json").stdout)["jobs"]) == 1
