"""Batch planning never reuses a trend and respects niches; logs carry job context and never secrets."""
from __future__ import annotations

from sqlalchemy import select

from core.home import Home
from core.logs import setup_logging
from core.schema import briefs, video_jobs
from core.secrets import Secrets
from core.storage import Database
from tests.conftest import daemon_for, edit_json, settings_for


async def test_batches_never_reuse_a_trend_and_match_niches(home: Home) -> None:
    edit_json(home.config_file, lambda d: d["accounts"].pop())  # sam_wanders: travel and fashion now match no one
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    try:
        daemon = daemon_for(home, settings, db)
        assert (await daemon.planner.collect_trends()).new >= 30
        assert (await daemon.planner.collect_trends()).new == 0  # same files: nothing new
        first = await daemon.planner.plan_batch()
        second = await daemon.planner.plan_batch()
        assert len(first) == len(second) == 3
        rows = await db.fetch_all(select(video_jobs.c.trend_key, briefs.c.content)
                                  .join(briefs, briefs.c.id == video_jobs.c.brief_id))
        assert len({row.trend_key for row in rows}) == 6
        niches = {a.name: set(a.niches) for a in settings.app.accounts}
        for row in rows:
            assert row.content["account"] in niches
    finally:
        await db.close()


def test_log_lines_carry_job_and_provider_and_hide_secrets(home: Home) -> None:
    from loguru import logger

    secret = "sk-test-abcdef123456"
    setup_logging(home, Secrets({"FAL_KEY": secret}), quiet=True)
    with logger.contextualize(job_id=42, provider="local"):
        logger.info(f"calling with key {secret} and postgresql://user:hunter2pass@db/x")
    logger.remove()
    text = (home.logs_dir / "orchestrator.log").read_text()
    assert "job=42 provider=local" in text
    assert secret not in text and "hunter2pass" not in text and "***" in text
