"""The budget invariant as a property: for any caps and any mix of concurrent reservations, settlements and
releases, committed + reserved never exceeds a cap at any moment (replayed from the append-only ledger)."""
from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from core.engine import queue
from core.engine.ledger import BudgetExceeded, Ledger
from core.schema import cost_ledger, metadata, schema_info, trends
from core.settings import Budget
from core.storage import Database, utcnow
from tests.conftest import brief, open_attempt
from trends.models import Trend
from trends.store import save_trends

CENTS = st.integers(min_value=5, max_value=300).map(lambda cents: cents / 100)
# What happens to a granted reservation: settled at a share of the estimate (0 = released, nothing charged).
OUTCOMES = st.sampled_from([0.0, 0.5, 1.0])


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(st.tuples(CENTS, OUTCOMES), min_size=5, max_size=40),
    per_video=CENTS, daily=st.integers(1, 20).map(float), monthly=st.integers(1, 30).map(float),
)
def test_committed_plus_reserved_never_exceeds_any_cap(database, requests, per_video, daily, monthly) -> None:
    """Each example starts from an emptied database (one database of each kind for all of them)."""
    asyncio.run(scenario(database, requests, Budget(per_video_limit_usd=per_video, daily_limit_usd=daily,
                                                    monthly_limit_usd=monthly)))


async def scenario(url: str, requests: list[tuple[float, float]], caps: Budget) -> None:
    db = await Database.open(url)
    try:
        await db.write(*((delete(table), {}) for table in reversed(metadata.sorted_tables) if table is not schema_info))
        await save_trends(db, [Trend(caption=f"Trend {i}. More.", theme="t", timestamp=utcnow(), source="t")
                               for i in range(len(requests))])
        trend_ids = [row.id for row in await db.fetch_all(select(trends.c.id).order_by(trends.c.id))]
        jobs = [await queue.enqueue(db, trend_id, f"k{i}", brief(f"t{i}"), "instagram_reels")
                for i, trend_id in enumerate(trend_ids)]
        ledger = Ledger(db, caps)

        async def one(job_id: int, estimate: float, share: float) -> float | None:
            try:
                attempt = await open_attempt(ledger, job_id, "paid", "sim", estimate)
            except BudgetExceeded:
                return None
            await asyncio.sleep(0)  # let other reservations race this one before it settles
            if share:
                await ledger.close(attempt, "done", round(estimate * share, 2), provider_task_id="task")
            else:
                await ledger.fail(attempt, "temporary", "released")
            return estimate

        granted = await asyncio.gather(*(one(job, estimate, share)
                                         for job, (estimate, share) in zip(jobs, requests)))
        rows = await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))
    finally:
        await db.close()
    assert all(g <= caps.per_video_limit_usd + 1e-9 for g in granted if g is not None)
    running = 0.0
    for row in rows:  # every prefix of the ledger is a state some reader could have seen
        running += row.amount_usd
        assert running <= min(caps.daily_limit_usd, caps.monthly_limit_usd) + 1e-9
    if any(estimate <= min(caps.per_video_limit_usd, caps.daily_limit_usd, caps.monthly_limit_usd)
           for estimate, _ in requests):
        assert any(g is not None for g in granted), "a request that fits must not be refused when nothing is spent"
