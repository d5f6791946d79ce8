"""Notifications: each event recorded where it happens, delivered to signed webhooks and a Telegram chat, retried
with backoff (or the wait the receiver asks for), given up on a refusal, deduplicated by the receiver by its id —
on SQLite and PostgreSQL, against a receiver that checks signatures and a fake of the Bot API."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.engine.alerts import BudgetAlerts
from core.engine.notifications import Deliveries, EventName, notify
from core.engine.provider_health import ProviderHealth
from core.home import Home
from core.progress import NullProgress
from core.schema import deliveries, notifications, video_jobs
from core.secrets import Secrets
from core.settings import Budget, Notifications, Telegram, Webhook
from core.storage import Database, as_utc, database_url, utcnow
from tests.conftest import daemon_for, edit_json, settings_for
from tests.fakes import telegram
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webhook_receiver import FakeReceiver

SECRET = "whsec-fake-signing-secret-123"


@pytest.fixture
async def receiver() -> AsyncIterator[FakeReceiver]:
    fake = FakeReceiver(SECRET)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


def to_webhook(receiver: FakeReceiver, **settings: Any) -> Notifications:
    return Notifications(webhooks=[Webhook(url=f"{receiver.url}/hooks/influencer", **settings)])


async def states(db: Database) -> list[tuple[str, int]]:
    return [(row.state, row.tries) for row in await db.fetch_all(select(deliveries).order_by(deliveries.c.id))]


async def come_due(db: Database) -> None:
    """The retry's wait passes."""
    await db.write((update(deliveries).values(next_at=utcnow()), {}))


async def test_a_webhook_gets_each_event_signed_and_retried_until_it_arrives_once(
        db: Database, receiver: FakeReceiver, caplog_loguru: Any) -> None:
    sender = Deliveries(to_webhook(receiver), db, Secrets({"WEBHOOK_SECRET": SECRET}))
    try:
        await notify(db, EventName.JOB_DONE, {"job_id": 7, "topic": "stretches", "cost_usd": 0.42})
        receiver.answers = [503, 503]  # down for a moment
        assert await sender.send_due() == 0
        [(state, tries)] = await states(db)
        assert (state, tries) == ("retrying", 1)
        [row] = await db.fetch_all(select(deliveries))
        assert 9 <= (as_utc(row.next_at) - utcnow()).total_seconds() <= 10  # 10 s, then 20 s, 40 s...
        assert await sender.send_due() == 0, "not due yet: nothing sent"
        assert len(receiver.received) == 1
        await come_due(db)
        assert await sender.send_due() == 0 and await states(db) == [("retrying", 2)]
        await come_due(db)
        assert await sender.send_due() == 1 and await states(db) == [("sent", 3)]
        await come_due(db)
        assert await sender.send_due() == 0, "delivered: never sent again"
    finally:
        await sender.close()
    assert [r.signed for r in receiver.received] == [True, True, True]
    assert len({r.delivery for r in receiver.received}) == 1, "every try carries the same delivery id"
    [body] = receiver.accepted.values()
    assert body["event"] == "job.done" and body["data"] == {"job_id": 7, "topic": "stretches", "cost_usd": 0.42}
    assert "tried again in 10 s" in caplog_loguru.text and SECRET not in caplog_loguru.text


async def test_a_refusal_is_given_up_at_once_and_a_wrong_secret_never_passes(
        db: Database, receiver: FakeReceiver, caplog_loguru: Any) -> None:
    wrong = Deliveries(to_webhook(receiver), db, Secrets({"WEBHOOK_SECRET": "not-the-receivers-secret"}))
    try:
        await notify(db, EventName.PROVIDER_DISABLED, {"provider": "runway", "reason": "401"})
        assert await wrong.send_due() == 0
    finally:
        await wrong.close()
    assert [r.signed for r in receiver.received] == [False] and receiver.accepted == {}
    assert await states(db) == [("failed", 1)]  # a 401 will not change by itself
    assert "given up after 1 try: webhook answered HTTP 401" in caplog_loguru.text
    await notify(db, EventName.JOB_FAILED, {"job_id": 8})
    receiver.answers = [410]
    right = Deliveries(to_webhook(receiver), db, Secrets({"WEBHOOK_SECRET": SECRET}))
    try:
        await right.send_due()
    finally:
        await right.close()
    assert await states(db) == [("failed", 1), ("failed", 1)], "the failed one stays failed; the 410 is final"


async def test_a_webhook_hears_only_its_events_and_one_without_its_secret_waits(
        db: Database, receiver: FakeReceiver, caplog_loguru: Any) -> None:
    only_posts = to_webhook(receiver, events=["post.published"])
    await notify(db, EventName.JOB_DONE, {"job_id": 1})
    await notify(db, EventName.POST_PUBLISHED, {"job_id": 1, "permalink": "https://www.instagram.com/reel/C1/"})
    unset = Deliveries(only_posts, db, Secrets({}))
    try:
        assert await unset.send_due() == 0 and await unset.send_due() == 0
    finally:
        await unset.close()
    assert caplog_loguru.text.count("WEBHOOK_SECRET is not set") == 1 and receiver.received == []
    sender = Deliveries(only_posts, db, Secrets({"WEBHOOK_SECRET": SECRET}))
    try:
        assert await sender.send_due() == 1
    finally:
        await sender.close()
    assert [r.event for r in receiver.received] == ["post.published"]


async def test_an_event_older_than_a_day_is_not_delivered(db: Database, receiver: FakeReceiver) -> None:
    await notify(db, EventName.JOB_DONE, {"job_id": 1})
    await db.write((update(notifications).values(created_at=utcnow() - timedelta(days=1, minutes=1)), {}))
    sender = Deliveries(to_webhook(receiver), db, Secrets({"WEBHOOK_SECRET": SECRET}))
    try:
        assert await sender.send_due() == 0 and receiver.received == []
    finally:
        await sender.close()


async def test_telegram_says_each_event_in_a_line_and_waits_out_its_flood_control(
        db: Database, bot: FakeTelegram, caplog_loguru: Any) -> None:
    settings = Notifications(telegram=Telegram(enabled=True, chat_id=telegram.CHAT_ID, base_url=bot.url))
    sender = Deliveries(settings, db, Secrets({"TELEGRAM_BOT_TOKEN": telegram.TOKEN}))
    try:
        alert = "daily budget 2026-12-07: $7.50 of $10.00 used (75% alert)"
        await notify(db, EventName.BUDGET_ALERT, {"message": alert})
        bot.refusals = [429]
        assert await sender.send_due() == 0
        [row] = await db.fetch_all(select(deliveries))
        assert row.state == "retrying" and 2 <= (as_utc(row.next_at) - utcnow()).total_seconds() <= 3  # its wait
        await come_due(db)
        assert await sender.send_due() == 1
    finally:
        await sender.close()
    [message] = bot.messages
    assert message["text"] == f"💸 Budget alert: {alert}"
    wrong = Deliveries(settings, db, Secrets({"TELEGRAM_BOT_TOKEN": "7700000000:AAwrong"}))
    try:
        await notify(db, EventName.JOB_FAILED, {"job_id": 3, "account": "mia_moves", "error": "no provider"})
        await wrong.send_due()
    finally:
        await wrong.close()
    assert "telegram: Unauthorized" in caplog_loguru.text and telegram.TOKEN not in caplog_loguru.text
    assert "AAwrong" not in caplog_loguru.text, "the token is in Telegram's URL: no URL is ever logged"


async def test_budget_alerts_and_disabled_providers_are_events(db: Database) -> None:
    await BudgetAlerts(db, Budget(daily_limit_usd=10.0)).check("2026-12-07", 7.6, "2026-12", 7.6)
    await ProviderHealth(db).disable("runway", 24, "HTTP 401: the key was refused")
    rows = await db.fetch_all(select(notifications).order_by(notifications.c.id))
    assert [row.event for row in rows] == ["budget.alert", "provider.disabled"]
    assert rows[0].payload["threshold_pct"] == 75 and rows[1].payload["provider"] == "runway"


async def test_a_finished_job_reaches_the_webhook(home: Home, receiver: FakeReceiver, tmp_path: Path) -> None:
    edit_json(home.config_file, lambda d: d.update(notifications={"webhooks": [
        {"url": f"{receiver.url}/hooks/influencer", "events": ["job.done", "job.failed"]}]}))
    secrets = Secrets({"WEBHOOK_SECRET": SECRET})
    db = await Database.open(database_url(home, secrets))
    daemon = daemon_for(home, settings_for(home), db, secrets)
    try:
        job_id = await daemon.planner.enqueue_prompt("a sunrise stretch routine", None, 0, "standard", 5)
        await daemon.worker.work(drain=True, progress=NullProgress())
        assert await daemon.notifications.send_due() == 1
    finally:
        await daemon.close()
        await db.close()
    [body] = receiver.accepted.values()
    assert body["event"] == "job.done" and body["data"]["job_id"] == job_id
    assert body["data"]["video"].endswith(".mp4") and body["data"]["account"] == "mia_moves"


async def test_a_brief_under_review_is_approved_or_rejected_with_telegrams_buttons(
        home: Home, bot: FakeTelegram) -> None:
    edit_json(home.config_file, lambda d: (d["accounts"][0].update(review_briefs=True), d.update(notifications={
        "telegram": {"enabled": True, "chat_id": telegram.CHAT_ID, "base_url": bot.url}})))
    secrets = Secrets({"TELEGRAM_BOT_TOKEN": telegram.TOKEN})
    db = await Database.open(database_url(home, secrets))
    daemon = daemon_for(home, settings_for(home), db, secrets)
    try:
        first = await daemon.planner.enqueue_prompt("Three stretches for stiff shoulders", None, 0, "standard", 5)
        second = await daemon.planner.enqueue_prompt("Why cold showers are overrated", None, 0, "standard", 5)
        await daemon.notify()
        asked = [m for m in bot.messages if m["text"].startswith("📝 Brief to review")]
        assert [m["text"].split("\n")[0] for m in asked] == [
            f"📝 Brief to review — job {first} for mia_moves: Three stretches for stiff shoulders",
            f"📝 Brief to review — job {second} for mia_moves: Why cold showers are overrated"]
        bot.press(asked[0], 0)  # Approve
        bot.press(asked[1], 1)  # Reject
        bot.press(asked[0], 1, chat_id=-1009999)  # from a chat that is not the operator's: ignored
        await daemon.notify()
        assert (await queue_state(db, first), await queue_state(db, second)) == ("queued", "cancelled")
        assert [a["text"] for a in bot.answered] == [f"job {first} approved: queued", f"job {second} rejected"]
        assert asked[0]["text"].endswith(f"→ job {first} approved: queued") and asked[0]["reply_markup"] is None
        bot.press({**asked[1], "reply_markup": {"inline_keyboard": [[{"callback_data": f"approve:{second}"}]]}}, 0)
        await daemon.notify()  # a press on a brief decided already: told so, nothing changes
        assert bot.answered[-1]["text"] == f"job {second} is cancelled: it is not awaiting approval"
        answered = len(bot.answered)
        await daemon.notify()  # the presses read are confirmed: never carried out twice
        assert await queue_state(db, second) == "cancelled" and bot.updates == [] and len(bot.answered) == answered
    finally:
        await daemon.close()
        await db.close()


async def queue_state(db: Database, job_id: int) -> str:
    return str((await db.fetch_all(select(video_jobs.c.status).where(video_jobs.c.id == job_id)))[0].status)
