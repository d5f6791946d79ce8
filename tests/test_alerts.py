"""Budget alerts at 75% and 90% of a cap: once per period per threshold, logged, stored and POSTed."""
from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import select

from core.engine import queue
from core.engine.ledger import BudgetExceeded, Ledger
from core.schema import budget_alerts
from core.settings import Budget
from tests.conftest import brief, open_attempt


async def webhook() -> tuple[web.AppRunner, str, list[dict[str, object]]]:
    """A loopback receiver for the alert webhook."""
    received: list[dict[str, object]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/alerts", received


async def test_each_threshold_alerts_once_per_period_even_under_concurrency(db, caplog_loguru) -> None:
    runner, url, received = await webhook()
    try:
        ledger = Ledger(db, Budget(per_video_limit_usd=5, daily_limit_usd=4, monthly_limit_usd=100,
                                   alert_webhook_url=url))
        jobs = [await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}"), "instagram_reels") for i in range(12)]
        for job in jobs[:2]:
            await open_attempt(ledger, job, "paid", "sim", 1.0)
        assert received == [], "50% of the cap: no alert yet"

        async def reserve(job: int) -> None:
            try:
                await open_attempt(ledger, job, "paid", "sim", 0.5)
            except BudgetExceeded:
                pass

        await asyncio.gather(*(reserve(job) for job in jobs[2:]))
    finally:
        await runner.cleanup()
    assert sorted((a["scope"], a["threshold_pct"]) for a in received) == [("daily", 75), ("daily", 90)]
    assert all(a["cap_usd"] == 4 and "daily budget" in str(a["message"]) for a in received)
    rows = await db.fetch_all(select(budget_alerts))
    assert len(rows) == 2
    assert caplog_loguru.text.count("budget alert:") == 2


async def test_an_unreachable_webhook_is_logged_not_raised(db, caplog_loguru) -> None:
    ledger = Ledger(db, Budget(daily_limit_usd=1, alert_webhook_url="http://127.0.0.1:9/nowhere"))
    job = await queue.enqueue(db, 1, "k", brief("t"), "instagram_reels")
    await open_attempt(ledger, job, "paid", "sim", 1.0)
    assert "webhook unreachable" in caplog_loguru.text
