"""`analyze VIDEO`: a reference video's cuts, shots, palettes, camera motion, loudness and tempo, recovered from a
clip with known answers (tests/clips.py) within stated tolerances: every cut within one frame and none false, a solid
shot's colour within 12 of 255 per channel, the pan's direction, the click track's tempo within 2 bpm."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from content.media.shots import find_shots
from core.home import Home
from tests.clips import FPS, KNOWN_CUTS, LOOKALIKE, TEMPO_BPM, UNRELATED, cut_times, make_known_cuts

FRAME_S = 1 / FPS


@pytest.fixture(scope="module")
def known(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_known_cuts(tmp_path_factory.mktemp("reference") / "known_cuts.mp4", 360, 640)


async def test_every_cut_is_found_within_a_frame_and_none_is_false(known: Path) -> None:
    shots = await find_shots(known, FPS)
    truth = cut_times()
    assert len(shots.cuts_s) == len(truth), shots.cuts_s
    assert all(abs(found - cut) <= FRAME_S + 1e-6 for found, cut in zip(shots.cuts_s, truth)), shots.cuts_s
    assert [round(shot.length_s, 1) for shot in shots.shots] == [source.seconds for source in KNOWN_CUTS]


async def test_each_shot_shows_its_palette_and_its_cameras_movement(known: Path) -> None:
    shots = (await find_shots(known, FPS)).shots
    for shot, source in zip(shots, KNOWN_CUTS):
        if source.colour is None:
            continue
        found = shot.palette[0][0]
        assert shot.palette[0][1] > 0.95 and _distance(found, source.colour) <= 12, (found, source.colour)
        assert shot.camera == "static" and shot.motion == 0.0 and shot.contrast < 0.01
    assert shots[3].camera == "pan right"  # the crop slides right over the picture
    assert shots[3].motion > 5 * shots[1].motion  # the pan moves more than a drifting gradient
    assert shots[6].brightness > shots[7].brightness  # the pale gradient against the teal


def test_analyze_writes_json_a_page_and_keyframes_and_finds_the_tempo(home: Home, known: Path,
                                                                      cli_in_process: Any) -> None:
    result = cli_in_process(home.root, "analyze", str(known), "--json")
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    assert len(analysis["cuts_s"]) == 9 and analysis["rhythm"]["shots"] == 10
    assert abs(analysis["tempo_bpm"] - TEMPO_BPM) <= 2, analysis["tempo_bpm"]
    assert analysis["loudness_lufs"] is not None and analysis["width"] == 360
    folder = home.data_dir / "analysis" / "known_cuts"
    assert json.loads((folder / "analysis.json").read_text())["cuts_s"] == analysis["cuts_s"]
    assert len(list((folder / "keyframes").glob("shot-*.jpg"))) == 10
    page = (folder / "index.html").read_text()
    assert page.count("<figure>") == 10 and "keyframes/shot-10.jpg" in page
    shown = cli_in_process(home.root, "analyze", str(known))
    assert shown.returncode == 0 and "shots: 10" in shown.stdout and "pan right" in shown.stdout


def test_what_is_not_a_video_is_one_line(home: Home, tmp_path: Path, cli_in_process: Any) -> None:
    missing = cli_in_process(home.root, "analyze", str(tmp_path / "none.mp4"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("none.mp4: no such file")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    refused = cli_in_process(home.root, "analyze", str(text))
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_similarity_score_tells_a_lookalike_from_an_unrelated_clip(home: Home, known: Path, tmp_path: Path,
                                                                      cli_in_process: Any) -> None:
    lookalike = make_known_cuts(tmp_path / "lookalike.mp4", 360, 640, LOOKALIKE)
    unrelated = make_known_cuts(tmp_path / "unrelated.mp4", 360, 640, UNRELATED, tempo_bpm=75, level=0.1)
    scores = {}
    for clip in (known, lookalike, unrelated):
        result = cli_in_process(home.root, "compare", str(known), str(clip), "--json")
        assert result.returncode == 0, result.stderr
        scores[clip.stem] = json.loads(result.stdout)
    assert scores["known_cuts"]["overall"] == 100.0  # itself
    assert scores["lookalike"]["overall"] >= 75, scores["lookalike"]
    assert scores["unrelated"]["overall"] <= 40, scores["unrelated"]
    for part in ("pacing", "palette", "tempo"):
        assert scores["lookalike"]["parts"][part] > scores["unrelated"]["parts"][part], part
    page = (home.data_dir / "analysis" / "lookalike" / "compare.html").read_text()
    assert "../known_cuts/keyframes/shot-01.jpg" in page and "\"keyframes/shot-10.jpg" in page


def _distance(a: str, b: str) -> int:
    return max(abs(int(a[i:i + 2], 16) - int(b[i:i + 2], 16)) for i in (1, 3, 5))
