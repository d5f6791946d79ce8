"""The budget invariant across processes: several processes reserve against one database at once, and no prefix of
the ledger ever exceeds the cap (SQLite serializes the writers with BEGIN IMMEDIATE; PostgreSQL makes them take turns
on the budget rows' locks)."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import select

from core.engine import queue
from core.schema import cost_ledger
from core.storage import Database, utcnow
from tests.conftest import ROOT, brief
from trends.models import Trend
from trends.store import save_trends

RESERVER = """
import asyncio, random, sys
sys.path.insert(0, {root!r})
from core.engine.ledger import BudgetExceeded, Ledger
from core.settings import Budget
from core.storage import Database, utcnow
from tests.conftest import open_attempt

async def main(seed):
    db = await Database.open({url!r})
    ledger = Ledger(db, Budget(per_video_limit_usd=3, daily_limit_usd=10, monthly_limit_usd=10))
    rng = random.Random(seed)
    for job in range(1, 31):
        try:
            attempt = await open_attempt(ledger, job, "paid", "sim", rng.choice([0.5, 1.0, 2.5]))
        except BudgetExceeded:
            continue
        if rng.random() < 0.5:
            await ledger.fail(attempt, "temporary", "released")
    await db.close()

asyncio.run(main(int(sys.argv[1])))
"""


@pytest.mark.slow
def test_reservations_from_four_processes_never_overshoot_a_cap(database: str) -> None:
    url = database

    async def prepare() -> None:
        db = await Database.open(url)
        await save_trends(db, [Trend(caption=f"T {i}. x", theme="t", timestamp=utcnow(), source="t") for i in range(30)])
        for i in range(30):
            await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}"), "instagram_reels")
        await db.close()

    asyncio.run(prepare())
    script = RESERVER.format(root=str(ROOT), url=url)
    workers = [subprocess.Popen([sys.executable, "-c", script, str(seed)]) for seed in range(4)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0, 0]

    async def ledger_rows() -> list[float]:
        db = await Database.open(url)
        rows = await db.fetch_all(select(cost_ledger.c.amount_usd).order_by(cost_ledger.c.id))
        await db.close()
        return [row[0] for row in rows]

    amounts = asyncio.run(ledger_rows())
    assert sum(amounts) >= 9, "the processes reserved up to the cap"
    running = 0.0
    for amount in amounts:
        running += amount
        assert running <= 10 + 1e-9
