"""Paid speech in the budget (issue 20): a cloud voice is bought before the render that narrates the Reel, reserved
and charged in the same ledger as video under the same caps (the speech and the video share the per-video cap), and
a run after a stop reads the speech it bought rather than paying again."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

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
from core.schema import attempts, cost_ledger
from core.secrets import Secrets
from core.settings import Budget
from core.storage import Database
from tests.conftest import brief, claim, edit_json, generate_and_wait, open_attempt, settings_for
from tests.fakes.speech import ELEVENLABS_KEY, FakeElevenLabs
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
        await save_trends(db, read_trend_folder(home.data_dir / "trends"))
        trend_id, trend = (await unused_trends(db))[0]
        account = settings.app.accounts[0]
        made = BriefBuilder().build(trend, account, settings.app.content)
        made = made.model_copy(update={"account": account.name})
        await queue.enqueue(db, trend_id, trend.dedup_key, made, "instagram_reels")
        job = await claim(db, "dead-worker", 0.2)
        assert job is not None
        ledger = Ledger(db, settings.video.budget)
        look = Look.of(account, settings.app.content, home)
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
        runner = JobRunner(home, settings, ledger, build_providers(settings.video, Secrets({}), home.data_dir))
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
