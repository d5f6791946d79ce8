"""Paid speech in the budget (issue 20): a cloud voice is bought before the render that narrates the Reel, reserved
and charged in the same ledger as video under the same caps (the speech and the video share the per-video cap), and
a run after a stop reads the speech it bought rather than paying again."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bench import fleet
from content.briefs.brief import BriefBuilder
from content.media.look import Look
from content.media.renderer import narrated_texts
from content.media.voiceover import buy, ready_engines
from content.providers import build_providers
from core.engine import queue
from core.engine.ledger import VOICE, BudgetExceeded, Ledger
from core.engine.runner import JobRunner
from core.engine.states import AttemptState
from core.home import Home
from core.schema import attempts, cost_ledger, video_jobs
from core.secrets import Secrets
from core.settings import Budget
from core.storage import Database
from tests.conftest import brief, claim, edit_json, generate_and_wait, open_attempt, query, run_cli, settings_for
from tests.fakes.speech import ELEVENLABS_KEY, FakeElevenLabs
from tests.test_crash import start_worker
from tests.test_engine_faults import expire_and_reclaim
from trends.file_source import read_trend_folder
from trends.store import save_trends, unused_trends


async def test_the_speech_and_the_video_share_the_per_video_cap(db: Database) -> None:
    """Under a $2 cap: with $1.90 of video reserved, $0.20 of speech is refused and $0.10 fits; with that speech
    charged, the next provider's $1.95 video is refused and $1.90 fits."""
    ledger = Ledger(db, Budget(per_video_limit_usd=2, daily_limit_usd=10, monthly_limit_usd=100))
    job_id = await queue.enqueue(db, 1, "k", brief("x"), "instagram_reels")
    assert job_id is not None
    video = await open_attempt(ledger, job_id, "first", "sim", 1.9)
    with pytest.raises(BudgetExceeded) as refused:
        await open_attempt(ledger, job_id, "elevenlabs", VOICE, 0.2)
    assert refused.value.cap == "per-video"
    voice = await open_attempt(ledger, job_id, "elevenlabs", VOICE, 0.1)
    assert voice.buys_voice and not video.buys_voice
    await ledger.close(voice, AttemptState.DONE, 0.1)
    await ledger.fail(video, "temporary", "service unavailable")
    with pytest.raises(BudgetExceeded):
        await open_attempt(ledger, job_id, "second", "sim", 1.95)
    await open_attempt(ledger, job_id, "second", "sim", 1.9)


@pytest.fixture
async def elevenlabs(home: Home, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeElevenLabs]:
    """The fake, and the home's first persona (the one a typed prompt goes to) speaking with it, espeak after."""
    server = FakeElevenLabs()
    await server.start()
    monkeypatch.setenv("ELEVENLABS_API_KEY", ELEVENLABS_KEY)

    def voiced(data: dict) -> None:
        data["accounts"][0]["style"]["voiceover"] = {"enabled": True, "engine": ["elevenlabs", "espeak"],
                                                     "elevenlabs": {"base_url": server.url}}

    edit_json(home.config_file, voiced)
    yield server
    await server.stop()


def voice_rows(rows: list) -> list[tuple[str, float]]:
    return [(row.kind, row.amount_usd) for row in rows if row.provider == "elevenlabs"]


@pytest.mark.slow
async def test_paid_speech_is_reserved_charged_once_and_narrates_the_reel(home: Home, elevenlabs: FakeElevenLabs,
                                                                        caplog_loguru) -> None:
    outcome, rows = await generate_and_wait(home, "three habits for calmer mornings", 10,
                                            then=select(cost_ledger).order_by(cost_ledger.c.id))
    assert outcome.status == "done", outcome.error
    texts = [call["body"]["text"] for call in elevenlabs.calls]
    assert len(texts) == len(set(texts)) >= 4  # the hook and each beat, each bought once
    estimate = round(sum(map(len, texts)) * 0.0001, 6)
    assert voice_rows(rows) == [("reserve", estimate), ("release", -estimate), ("charge", estimate)]
    assert "voiceover bought from elevenlabs" in caplog_loguru.text and "not bought" not in caplog_loguru.text


@pytest.mark.slow
async def test_a_voice_the_cap_has_no_room_for_is_not_bought_and_espeak_speaks(home: Home, elevenlabs: FakeElevenLabs,
                                                                             caplog_loguru) -> None:
    edit_json(home.video_config_file, lambda d: d["video_generation"]["budget"].update(per_video_limit_usd=0.001))
    outcome, rows = await generate_and_wait(home, "three habits for calmer mornings", 10,
                                            then=select(cost_ledger).order_by(cost_ledger.c.id))
    assert outcome.status == "done", outcome.error
    assert not elevenlabs.calls and voice_rows(rows) == []
    assert "would exceed the per-video cap" in caplog_loguru.text
    assert "voice engine elevenlabs skipped: its speech was not bought for this Reel" in caplog_loguru.text


@pytest.mark.slow
async def test_a_stop_after_the_speech_was_bought_never_pays_for_it_again(home: Home,
                                                                         elevenlabs: FakeElevenLabs) -> None:
    """The process stopped during the voice attempt, after the speech came (kept in the job's workdir): the run
    that takes the job over charges that attempt once and renders with the kept speech, asking ElevenLabs nothing."""
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    try:
        job = await claimed(home, db, "dead-worker", 0.2)
        ledger = Ledger(db, settings.video.budget)
        look = Look.of(settings.app.accounts[0], settings.app.content, home)
        engine = ready_engines(look.style.voiceover, look.language, look.secrets)[0]
        texts = narrated_texts(job.brief)
        attempt = await open_attempt(ledger, job.id, engine.name, VOICE, engine.estimate_usd(texts))
        await ledger.advance(attempt, AttemptState.SUBMITTING)
        await buy(engine, texts, home.work_dir / f"job-{job.id}")  # the answer came; then the process died
        bought = len(elevenlabs.calls)
        await asyncio.sleep(0.3)
        assert await queue.reap_expired(db) == [job.id]
        job = await claim(db, "next-worker", 60)
        assert job is not None and job.attempts_so_far == 1
        runner = runner_for(home, db)
        outcome = await runner.run(job)
        await runner.close()
        rows = await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))
        states = await db.fetch_all(select(attempts.c.provider, attempts.c.state).order_by(attempts.c.id))
    finally:
        await db.close()
    assert outcome.status == "done", outcome.error
    assert len(elevenlabs.calls) == bought
    assert voice_rows(rows) == [("reserve", attempt.estimate_usd), ("release", -attempt.estimate_usd),
                                ("charge", attempt.estimate_usd)]
    assert [tuple(row) for row in states][0] == ("elevenlabs", "done")
    assert not Path(home.work_dir / f"job-{job.id}").exists()  # the job's scratch goes once it is delivered



async def claimed(home: Home, db: Database, owner: str, lease_s: float) -> queue.Job:
    """A sample trend's brief for the home's first persona (the one speaking with the fake), queued and claimed."""
    settings = settings_for(home)
    await save_trends(db, read_trend_folder(home.data_dir / "trends"))
    trend_id, trend = (await unused_trends(db))[0]
    account = settings.app.accounts[0]
    made = BriefBuilder().build(trend, account, settings.app.content).model_copy(update={"account": account.name})
    await queue.enqueue(db, trend_id, trend.dedup_key, made, "instagram_reels")
    job = await claim(db, owner, lease_s)
    assert job is not None
    return job


def runner_for(home: Home, db: Database) -> JobRunner:
    """The engine's runner over `db`, with the home's configured providers (no keys)."""
    settings = settings_for(home)
    return JobRunner(home, settings, Ledger(db, settings.video.budget),
                     build_providers(settings.video, Secrets({}), home.data_dir))


async def bought_through(home: Home, db: Database, elevenlabs: FakeElevenLabs,
                         meanwhile: Callable[[], Awaitable[Any]]) -> Any:
    """A Reel's run started and `meanwhile()` done while its first speech is being made: the run's outcome, or
    the LeaseLost it raised."""
    job = await claimed(home, db, "first-worker", 60)
    runner = runner_for(home, db)
    try:
        running = asyncio.create_task(runner.run(job))
        while not elevenlabs.calls and not running.done():
            await asyncio.sleep(0.01)
        await meanwhile()
        try:
            return await running
        except queue.LeaseLost as exc:
            return exc
    finally:
        await runner.close()


async def settled_by_a_successor(home: Home, db: Database) -> Any:
    """The job taken over by another worker once its lease ran out, and run: its outcome."""
    successor = await expire_and_reclaim(db, "successor")
    runner = runner_for(home, db)
    try:
        return await runner.run(successor)
    finally:
        await runner.close()


@pytest.mark.slow
async def test_a_worker_that_loses_its_lease_mid_purchase_settles_nothing_and_the_speech_is_bought_once(
        home: Home, elevenlabs: FakeElevenLabs) -> None:
    """The lease is taken while the speech is being made: the stale worker keeps the speech it got but settles
    nothing; the worker that takes the job over charges the purchase once and renders with that speech."""
    elevenlabs.speaking_s = 0.3
    db = await Database.open(f"sqlite:///{home.database_file}")
    try:
        stale = await bought_through(home, db, elevenlabs, lambda: db.write(
            (update(video_jobs).values(lease_owner="another-worker"), {})))
        left = voice_rows(await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id)))
        asked = len(elevenlabs.calls)
        outcome = await settled_by_a_successor(home, db)
        rows = await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))
    finally:
        await db.close()
    assert isinstance(stale, queue.LeaseLost)
    estimate = left[0][1]
    assert left == [("reserve", estimate)], "the stale worker settled nothing"
    assert outcome.status == "done", outcome.error
    assert len(elevenlabs.calls) == asked == len(set(elevenlabs.billed)), "each speech bought once"
    assert voice_rows(rows) == [("reserve", estimate), ("release", -estimate), ("charge", estimate)]


RESTART_SERVER = os.environ.get("TEST_POSTGRES_RESTART_URL", "")
RESTART = os.environ.get("TEST_POSTGRES_RESTART", "")


@pytest.mark.slow
@pytest.mark.skipif(not (RESTART and RESTART_SERVER), reason="set TEST_POSTGRES_RESTART_URL to a PostgreSQL server "
                    "and TEST_POSTGRES_RESTART to a command that restarts it")
async def test_a_database_restart_during_a_voice_purchase_is_waited_out_and_the_speech_paid_once(
        home: Home, elevenlabs: FakeElevenLabs, caplog_loguru) -> None:
    """PostgreSQL restarts while the speech is being made: the run waits for it, then settles the purchase once
    and delivers the Reel narrated by that speech."""
    elevenlabs.speaking_s = 0.5
    url = fleet.create_database(RESTART_SERVER)
    try:
        db = await Database.open(url)
        db.wait_out_outages = True  # as a worker's is
        try:
            async def restart() -> None:
                restarting = await asyncio.create_subprocess_shell(RESTART)
                assert await restarting.wait() == 0

            outcome = await bought_through(home, db, elevenlabs, restart)
            rows = await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))
        finally:
            await db.close()
    finally:
        fleet.drop_database(RESTART_SERVER, url)
    assert outcome.status == "done", outcome.error
    assert any("the database is unreachable" in line for line in caplog_loguru.lines), "the restart was met"
    assert len(elevenlabs.calls) == len(set(elevenlabs.billed)), "each speech bought once"
    estimate = voice_rows(rows)[0][1]
    assert voice_rows(rows) == [("reserve", estimate), ("release", -estimate), ("charge", estimate)]


def killed_when(home: Home, happened: Callable[[], bool]) -> None:
    """A worker SIGKILLed the moment `happened()`."""
    worker = start_worker(home)
    deadline = time.monotonic() + 120
    while not happened():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise AssertionError(f"the worker ended first: {worker.communicate()[1][-2000:]}")
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()


@pytest.mark.slow
async def test_sigkill_during_a_voice_purchase_and_again_during_recovery_never_buys_a_speech_twice(
        home: Home, elevenlabs: FakeElevenLabs) -> None:
    """Each speech takes 0.4 s to make; a worker is killed with the Reel's second speech under way, the one taking
    it over while it renders. What was kept is never asked again, and an engine whose call was cut off is not asked
    again for that Reel (espeak-ng speaks it): the ledger charges exactly what the fake billed, the job is done, no
    reservation is left open."""
    elevenlabs.speaking_s = 0.4
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(lease_s=2))
    assert run_cli(home.root, "generate", "three habits for calmer mornings", "--duration", "8").returncode == 0
    await asyncio.to_thread(killed_when, home, lambda: len(elevenlabs.calls) >= 2)
    asked_before = len(elevenlabs.calls)
    await asyncio.to_thread(killed_when, home, lambda: bool(query(
        home, "SELECT id FROM attempts WHERE provider != 'elevenlabs'")))
    final = start_worker(home)
    _, stderr = await asyncio.to_thread(final.communicate, timeout=300)
    assert final.returncode == 0, stderr[-3000:]

    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert [job["status"] for job in status["jobs"]] == ["done"]
    asked = [call["body"]["text"] for call in elevenlabs.calls]
    assert len(asked) == len(set(asked)) == asked_before == 2, "nothing asked twice, nor after the call was cut"
    assert elevenlabs.billed == asked, "the call under way was made, and billed"
    charged = query(home, "SELECT SUM(amount_usd) FROM cost_ledger WHERE kind = 'charge' AND provider = 'elevenlabs'")
    assert charged[0][0] == pytest.approx(sum(map(len, elevenlabs.billed)) * 0.0001, abs=1e-6)
    assert query(home, "SELECT state, error_class FROM attempts WHERE provider = 'elevenlabs'") == [
        ("failed", "unknown")]
    open_reservations = query(home, "SELECT attempt_id FROM cost_ledger WHERE kind IN ('reserve', 'release') "
                                    "GROUP BY attempt_id HAVING ABS(SUM(amount_usd)) > 1e-9")
    assert open_reservations == [] and status["budget"]["daily"]["reserved_usd"] == 0.0
