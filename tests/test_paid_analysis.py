"""What `analyze` hears and may buy (issue 24): the share of speech and of music, measured offline on clips whose
soundtrack the test made (espeak-ng's speech, the synthesized bed, both, clicks); and the optional transcript and
keyframe descriptions, bought from an OpenAI-compatible fake (tests/fakes/openai_analysis.py) through the SDK under
the budget's caps, once per video, a lost answer charged in full and a refusal at nothing, no key in any output."""
from __future__ import annotations

import asyncio
import ctypes.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.reports import build_report
from content.media.music import write_music_bed
from content.media.paid_analysis import DESCRIBE
from content.media.reference import analyze
from content.media.sound_share import sound_share
from content.media.voices.espeak import EspeakVoice
from core.daemon.cli import analyze_video
from core.engine.ledger import Ledger
from core.engine.status import budget_view
from core.home import Home
from core.schema import service_calls
from core.secrets import Secrets
from core.settings import Voiceover
from core.storage import Database, database_url
from tests.clips import KNOWN_CUTS, make_known_cuts, with_sound
from tests.conftest import ROOT, daemon_for, edit_json, run_cli, settings_for
from tests.fakes.openai_analysis import DROPPED, KEY, FakeAnalysisApi

pytestmark = pytest.mark.skipif(ctypes.util.find_library("espeak-ng") is None, reason="espeak-ng is not installed")

SCRIPT = ("Most runners start far too fast. Keep your easy days easy and your hard days short. Then add one long "
          "run a week, and rest whenever your legs ask for it. That is the whole secret of a good first marathon.")
CLIP_S = sum(source.seconds for source in KNOWN_CUTS)


@dataclass(frozen=True)
class Sounds:
    """The known-cuts clip with four soundtracks: its own clicks, speech alone, the bed alone, and speech over the
    bed 14 dB down; and how long the speech lasts."""
    clicks: Path
    speech: Path
    music: Path
    both: Path
    speech_s: float


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Sounds:
    folder = tmp_path_factory.mktemp("sounds")
    picture = make_known_cuts(folder / "clicks.mp4", 360, 640)
    speech = asyncio.run(EspeakVoice(Voiceover(), "en", Secrets({})).speak(SCRIPT, folder / "speech.wav"))
    bed = write_music_bed(folder / "bed.wav", CLIP_S, seed=4)
    return Sounds(picture, with_sound(picture, speech.path, folder / "speech.mp4"),
                  with_sound(picture, bed, folder / "music.mp4"),
                  with_sound(picture, speech.path, folder / "both.mp4", under=bed, under_db=-14), speech.duration_s)


async def test_speech_and_music_are_told_apart_alone_and_together(sounds: Sounds) -> None:
    spoken = sounds.speech_s / CLIP_S  # the share of the clip the voice lasts
    speech, music, both, clicks = [await sound_share(clip) for clip in (sounds.speech, sounds.music, sounds.both,
                                                                        sounds.clicks)]
    assert abs(speech.speech - spoken) <= 0.12 and speech.music == 0.0, (speech, spoken)
    assert music.speech <= 0.05 and music.music >= 0.95, music
    assert abs(both.speech - spoken) <= 0.12 and both.music >= 0.95, (both, spoken)
    assert both.speech_over_music == both.speech
    assert clicks.speech <= 0.05 and clicks.music == 0.0, clicks  # a metronome is neither


def _enable(home: Home, url: str, daily_usd: float = 10.0, max_shots: int = 12) -> Secrets:
    """Both paid parts on, from the fake, with its key in the home's .env."""
    def paid(data: dict) -> None:
        data["analysis"] = {"transcript": {"enabled": True, "base_url": f"{url}/v1"},
                            "keyframes": {"enabled": True, "base_url": f"{url}/v1", "max_shots": max_shots}}

    edit_json(home.config_file, paid)
    edit_json(home.video_config_file, lambda data: data["video_generation"]["budget"].update(daily_limit_usd=daily_usd))
    before = home.env_file.read_text() if home.env_file.is_file() else ""
    home.env_file.write_text(f"{before}OPENAI_API_KEY={KEY}\n")
    return Secrets.load(home.env_file)


async def _calls(home: Home, secrets: Secrets) -> tuple[list, dict]:
    db = await Database.open(database_url(home, secrets))
    try:
        rows = await db.fetch_all(select(service_calls).order_by(service_calls.c.id))
        return rows, await budget_view(Ledger(db, settings_for(home).video.budget))
    finally:
        await db.close()


async def test_analyze_buys_a_transcript_and_descriptions_once_under_the_budget(
        home: Home, sounds: Sounds, capsys: pytest.CaptureFixture[str]) -> None:
    server = FakeAnalysisApi(SCRIPT)
    await server.start()
    try:
        secrets = _enable(home, server.url)
        assert await analyze_video(home, secrets, sounds.speech, True) == 0
        printed = json.loads(capsys.readouterr().out)
        assert await analyze_video(home, secrets, sounds.speech, True) == 0  # again: nothing bought again
        again = json.loads(capsys.readouterr().out)
    finally:
        await server.stop()
    assert len(server.transcriptions) == 1 and len(server.chats) == len(KNOWN_CUTS)
    assert server.transcriptions[0]["response_format"] == "verbose_json"
    assert server.transcriptions[0]["granularities"] == ["word"]
    transcript = printed["transcript"]
    assert transcript["text"] == SCRIPT and [w["word"] for w in transcript["words"]][:3] == ["Most", "runners", "start"]
    assert transcript["words"][-1]["end_s"] <= sounds.speech_s + 0.2
    described = printed["keyframes"]["shots"]
    assert [shot["shot"] for shot in described] == list(range(1, len(KNOWN_CUTS) + 1))
    assert "orange" in described[5]["description"] and "teal" in described[7]["description"]  # the solid shots
    page = (home.data_dir / "analysis" / "speech" / "index.html").read_text()
    assert "Most runners start far too fast" in page and described[0]["description"] in page
    assert again["transcript"] == transcript and again["keyframes"] == printed["keyframes"]
    rows, budget = await _calls(home, secrets)
    assert [(row.service, row.state) for row in rows] == [("transcript", "done"), ("keyframes", "done")]
    minutes = CLIP_S / 60  # whisper-1 at $0.006 a minute, the duration the fake billed
    assert rows[0].actual_cost_usd == pytest.approx(minutes * 0.006, abs=1e-5)
    assert rows[0].actual_cost_usd <= rows[0].estimated_cost_usd
    tokens_in = len(KNOWN_CUTS) * (2833 + len(DESCRIBE.split()))
    assert rows[1].actual_cost_usd <= rows[1].estimated_cost_usd
    assert rows[1].actual_cost_usd == pytest.approx(tokens_in * 0.15e-6 + sum(
        len(s["description"].split()) + 2 for s in described) * 0.6e-6, abs=1e-6)
    assert budget["daily"]["spent_usd"] == pytest.approx(rows[0].actual_cost_usd + rows[1].actual_cost_usd)
    assert budget["daily"]["reserved_usd"] == 0
    db = await Database.open(database_url(home, secrets))
    try:
        report = await build_report(daemon_for(home, settings_for(home), db).analytics(), 1)
    finally:
        await db.close()
    assert report["cost"]["analysis_cost_usd"] == pytest.approx(budget["daily"]["spent_usd"], abs=0.01)
    assert report["cost"]["total_cost_usd"] == 0  # no video was made


async def test_over_the_cap_nothing_is_bought_and_the_analysis_goes_on(
        home: Home, sounds: Sounds, capsys: pytest.CaptureFixture[str], caplog_loguru) -> None:
    server = FakeAnalysisApi(SCRIPT)
    await server.start()
    try:
        secrets = _enable(home, server.url, daily_usd=0.0005)  # under the transcript's $0.0022
        assert await analyze_video(home, secrets, sounds.speech, True) == 0
    finally:
        await server.stop()
    printed = json.loads(capsys.readouterr().out)
    assert printed["transcript"] is None and printed["rhythm"]["shots"] == len(KNOWN_CUTS)
    assert server.transcriptions == [] and server.chats == []
    assert any("transcript not bought" in line and "daily cap" in line for line in caplog_loguru.lines)
    rows, budget = await _calls(home, secrets)
    assert budget["daily"]["spent_usd"] + budget["daily"]["reserved_usd"] <= 0.0005 + 1e-9


async def test_a_lost_answer_is_charged_in_full_a_refusal_at_nothing_and_no_key_is_kept(
        home: Home, sounds: Sounds, capsys: pytest.CaptureFixture[str], caplog_loguru) -> None:
    server = FakeAnalysisApi(SCRIPT, transcription_failures=[DROPPED], chat_failures=[400])
    await server.start()
    try:
        secrets = _enable(home, server.url, max_shots=4)
        assert await analyze_video(home, secrets, sounds.speech, True) == 0
    finally:
        await server.stop()
    out = capsys.readouterr().out
    printed = json.loads(out)
    assert printed["transcript"] is None and printed["keyframes"] is None
    rows, budget = await _calls(home, secrets)
    assert [(row.service, row.state) for row in rows] == [("transcript", "failed"), ("keyframes", "failed")]
    assert rows[0].actual_cost_usd == rows[0].estimated_cost_usd > 0  # it may have been billed: counted in full
    assert rows[1].actual_cost_usd == 0 and len(server.chats) == 1  # refused at the first: the rest not asked
    assert "HTTP 400" in rows[1].error and KEY not in rows[1].error
    assert budget["daily"]["spent_usd"] == pytest.approx(rows[0].estimated_cost_usd)
    assert KEY not in out and KEY not in caplog_loguru.text
    assert any("keyframes not bought" in line for line in caplog_loguru.lines)


@pytest.mark.slow
async def test_nothing_is_bought_unless_enabled_and_silence_is_not_sent(home: Home, sounds: Sounds,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    server = FakeAnalysisApi(SCRIPT)
    await server.start()
    try:
        assert await analyze_video(home, Secrets({"OPENAI_API_KEY": KEY}), sounds.speech, True) == 0
        secrets = _enable(home, server.url, max_shots=4)
        checked = run_cli(home.root, "config", "check")
        assert f"paid analysis transcript (whisper-1 at {server.url}/v1): ready" in checked.stdout, checked.stdout
        assert KEY not in checked.stdout
        assert await analyze_video(home, secrets, sounds.clicks, True) == 0  # no speech: no transcript
    finally:
        await server.stop()
    plain, clicks = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert plain["transcript"] is None and plain["keyframes"] is None and plain["sound"]["speech"] > 0.5
    assert clicks["transcript"] is None
    assert [shot["shot"] for shot in clicks["keyframes"]["shots"]] == [1, 4, 7, 10]  # four, from first to last
    assert server.transcriptions == []
    assert (await analyze(sounds.music, home.work_dir)).sound["music"] >= 0.95


@pytest.mark.slow
async def test_a_persona_reference_is_kept_with_what_was_bought_for_it(home: Home, sounds: Sounds) -> None:
    server = FakeAnalysisApi(SCRIPT)
    await server.start()
    try:
        secrets = _enable(home, server.url, max_shots=2)
        db = await Database.open(database_url(home, secrets))
        daemon = daemon_for(home, settings_for(home), db, secrets)
        try:
            await daemon.planner.enqueue_prompt("Slow runs make fast runners", None, 0, "standard", None,
                                                like=sounds.speech)
        finally:
            await daemon.close()
            await db.close()
    finally:
        await server.stop()
    stored = next(home.references_dir.glob("*/analysis.json"))
    kept = json.loads(stored.read_text())
    assert kept["transcript"]["text"] == SCRIPT and len(kept["keyframes"]["shots"]) == 2
    assert len(server.transcriptions) == 1 and len(server.chats) == 2
    assert sorted(p.name for p in home.paid_analysis_dir.iterdir()) == [
        f"{stored.parent.name}-keyframes.json", f"{stored.parent.name}-transcript.json"]
    edit_json(home.config_file, lambda data: data.update(retention_days=3))  # unused for four days: it goes
    old = time.time() - 4 * 86400
    os.utime(stored, (old, old))
    assert run_cli(home.root, "cleanup").returncode == 0
    assert not stored.parent.exists() and list(home.paid_analysis_dir.iterdir()) == []


@pytest.mark.slow
async def test_a_kill_during_a_paid_call_leaves_it_counted_and_it_is_not_bought_again(
        home: Home, sounds: Sounds, capsys: pytest.CaptureFixture[str], caplog_loguru) -> None:
    server = FakeAnalysisApi(SCRIPT, transcribing_s=120)
    await server.start()
    try:
        secrets = _enable(home, server.url, max_shots=2)
        analysing = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "main.py"), "--home", str(home.root), "analyze", str(sounds.speech), "--json",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPENAI_API_KEY")})
        for _ in range(1200):  # until the transcription is asked for (and held)
            if server.transcriptions or analysing.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert server.transcriptions, "the transcription was never asked for"
        analysing.kill()  # SIGKILL, mid-call
        await analysing.wait()
        rows, budget = await _calls(home, secrets)
        assert [(row.service, row.state) for row in rows] == [("transcript", "reserved")]
        assert budget["daily"]["reserved_usd"] == pytest.approx(rows[0].estimated_cost_usd)  # counted, maybe billed
        server.transcribing_s = 0
        assert await analyze_video(home, secrets, sounds.speech, True) == 0  # run again
    finally:
        await server.stop()
    printed = json.loads(capsys.readouterr().out)
    assert printed["transcript"] is None and len(printed["keyframes"]["shots"]) == 2
    assert len(server.transcriptions) == 1  # not asked again: it may have been billed
    assert any("transcript not bought again" in line for line in caplog_loguru.lines)
    rows, budget = await _calls(home, secrets)
    assert [(row.service, row.state) for row in rows] == [("transcript", "reserved"), ("keyframes", "done")]
