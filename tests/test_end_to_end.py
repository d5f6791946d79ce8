"""The whole cycle as a user runs it: `once` makes Instagram-ready Reels and a report; `run` stops cleanly."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from content.media.media import probe_sync
from content.media.platforms import platform_spec
from content.media.preflight import check_rules, failures
from content.media.video_utils import contact_sheet_path
from core.home import Home
from tests.conftest import ROOT, edit_json, run_cli


@pytest.mark.slow
def test_once_makes_three_reels_that_pass_preflight(home: Home) -> None:
    for name in ("config.json", "video_config.json"):  # as shipped (narrated): a user's first `once`
        shutil.copy(ROOT / "config" / name, home.root / "config" / name)
    edit_json(home.video_config_file,  # but at a fast x264 preset: the encoder's quality is test_preflight's business
              lambda d: d["video_generation"]["providers"]["local"]["params"].update(preset="superfast"))
    result = run_cli(home.root, "once", "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    videos = output["videos"]
    assert len(videos) == 3 and output["failed"] == []
    assert len({v["trend"] for v in videos}) == 3
    for video in videos:
        info = probe_sync(Path(video["path"]))
        assert info.video and info.audio
        assert (info.video.width, info.video.height) == (1080, 1920)
        assert info.video.codec == "h264" and info.video.profile == "High" and info.video.pix_fmt == "yuv420p"
        assert info.video.fps == pytest.approx(30) and info.video.constant_frame_rate
        assert info.audio.codec == "aac" and info.audio.channels == 2 and info.audio.sample_rate == 48_000
        narrated = shutil.which("espeak-ng") is not None  # a narrated Reel lasts as long as its speech needs
        assert 14.8 <= info.duration_s <= 30 if narrated else info.duration_s == pytest.approx(15, abs=0.2)
        assert video["duration_s"] == pytest.approx(info.duration_s, abs=0.01)
        assert info.moov_before_mdat
        assert failures(check_rules(info, platform_spec("instagram_reels"))) == []
        assert Path(video["thumbnail"]).read_bytes()[:2] == b"\xff\xd8"
        assert contact_sheet_path(Path(video["path"])).read_bytes()[:2] == b"\xff\xd8"
        assert video["provider"] == "local" and video["cost_usd"] == 0
        scenes = json.loads(Path(video["path"]).with_suffix(".json").read_text())["scenes"]
        assert len(scenes) >= 3 and len({s["prompt"] for s in scenes}) == len(scenes)  # tests/test_renderer.py looks
    report = Path(output["report"])
    summary = json.loads((report.parent / "report.json").read_text())
    assert summary["cost"]["total_videos"] == 3 and summary["performance"]["success_rate"] == 100.0
    assert [p["provider"] for p in summary["performance"]["provider_comparison"]] == ["local"]
    rows = {(r["figure"], r["key"]): r["value"] for r in csv.DictReader((report.parent / "report.csv").open())}
    assert rows["total_videos", ""] == "3" and rows["provider_comparison.succeeded", "local"] == "3"
    html = report.read_text()
    assert '<b data-figure="cost.total_videos">3</b>' in html and "100.0%" in html
    assert html.count('alt="contact sheet of') == 3 and html.count('class="cover" src="data:image/jpeg') == 3
    log = (home.logs_dir / "orchestrator.log").read_text()
    assert f"job={videos[0]['job_id']} provider=local" in log
    if narrated:  # the sample personas are narrated (without espeak-ng: music only, one line each)
        assert log.count("voiceover by espeak") == 3


@pytest.mark.slow
def test_run_schedules_and_stops_cleanly_on_sigterm_without_losing_the_job(home: Home) -> None:
    edit_json(home.config_file, lambda d: d["trends"].update(top_n=1))
    daemon = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--home", str(home.root), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    seen: list[str] = []
    deadline = time.monotonic() + 120
    assert daemon.stdout is not None
    while time.monotonic() < deadline:
        line = daemon.stdout.readline()
        if not line:
            break
        seen.append(line)
        if "planned job" in line:
            break
    assert any("scheduled 'collect trends and make videos'" in s for s in seen), "".join(seen)
    assert any("scheduled 'daily report'" in s for s in seen), "".join(seen)
    assert any("scheduled 'weekly report'" in s and "day_of_week='mon'" in s for s in seen), "".join(seen)
    time.sleep(1.5)  # the render is under way
    daemon.send_signal(signal.SIGTERM)
    rest, _ = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, "".join(seen) + rest
    assert "stopped cleanly" in rest and "Traceback" not in rest
    with sqlite3.connect(home.database_file) as conn:
        statuses = dict(conn.execute("select status, count(*) from video_jobs group by status").fetchall())
    assert statuses in ({"queued": 1}, {"done": 1}), statuses
    assert not list(home.videos_dir.rglob("*.partial.mp4"))

    # The next start finishes the interrupted job first, then the new batch.
    result = run_cli(home.root, "once", "--json")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(home.database_file) as conn:
        statuses = dict(conn.execute("select status, count(*) from video_jobs group by status").fetchall())
    assert statuses == {"done": 2}


@pytest.mark.slow
def test_status_shows_each_jobs_topic_account_and_file(home: Home) -> None:
    made = run_cli(home.root, "generate", "Three stretches for desk workers", "--duration", "5", "--wait", "--json")
    assert made.returncode == 0, made.stderr
    path = json.loads(made.stdout)["path"]
    job = json.loads(run_cli(home.root, "status", "--json").stdout)["jobs"][0]
    assert (job["topic"], job["account"], job["file"]) == ("Three stretches for desk workers", "mia_moves", path)
    assert job["status"] == "done" and job["provider"] == "local"  # the fields it had are still there
    table = run_cli(home.root, "status", env={"COLUMNS": "400"}).stdout
    assert "Three stretches for desk workers" in table and "mia_moves" in table and Path(path).name in table
    scenes = job["scenes"]  # the timeline: the hook, each beat, the end card, back to back over the whole video
    assert [scene["role"] for scene in scenes] == ["hook", *["beat"] * (len(scenes) - 2), "cta"]
    assert all(scene["source"] == "generated" and scene["text"] and scene["prompt"] for scene in scenes)
    assert [scene["start_s"] for scene in scenes[1:]] == [scene["end_s"] for scene in scenes[:-1]]
    assert scenes[0]["start_s"] == 0 and scenes[-1]["end_s"] == pytest.approx(5, abs=0.05)
    assert f"{len(scenes)} (generated)" in table
    assert json.loads(Path(path).with_suffix(".json").read_text())["scenes"] == scenes  # in the post's sidecar too
