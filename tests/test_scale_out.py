"""Scale-out on PostgreSQL: four worker processes share one queue, one budget and one provider's three slots; one of
them is SIGKILLed midway. Every job is made exactly once, no cap is exceeded and the provider never runs more than
three tasks at once (read off the provider's own record of submissions)."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from bench import fleet
from core.home import Home
from core.settings import load_settings
from core.storage import Database
from content.video_providers import provider_params
from tests.conftest import fresh_database

JOBS, WORKERS, MAX_CONCURRENT, LATENCY_S = 500, 4, 3, 0.1
COST_PER_SECOND = 0.01  # $0.15 a video
CAP_USD = JOBS * COST_PER_SECOND * fleet.DURATION_S  # exactly what 500 videos cost: paying twice for one would not fit


def test_four_workers_one_killed_make_500_videos_exactly_once_within_the_providers_slots(tmp_path: Path) -> None:
    home = Home.at(tmp_path / "home")
    with fresh_database("postgresql", tmp_path) as url:
        fleet.configure(home, url, per_worker=2, latency_s=LATENCY_S, max_concurrent=MAX_CONCURRENT,
                        cost_per_second=COST_PER_SECOND, daily_cap_usd=CAP_USD, lease_s=2.0)
        settings = load_settings(home, provider_params())
        asyncio.run(seed(url, settings.app.accounts[0].name, settings.app.platform))

        workers = fleet.start_workers(home, WORKERS)
        deadline = time.monotonic() + 240
        while len(fleet.submissions(home)) < JOBS // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        asyncio.run(kill_holding_a_job(url, workers[0].pid))
        assert workers[0].wait() == -signal.SIGKILL
        for worker in workers[1:]:
            assert worker.wait(timeout=max(deadline - time.monotonic(), 1)) == 0, output(home)
        jobs, ledger, attempts = asyncio.run(read(url))

    billed = fleet.submissions(home)
    per_job = Counter(record["job_id"] for record in billed)
    assert len(per_job) == JOBS and set(per_job.values()) == {1}, "one submission per job, none paid twice"
    assert jobs == {"done": JOBS}
    peak = fleet.peak_concurrency(billed, LATENCY_S)
    assert peak <= MAX_CONCURRENT, f"{peak} tasks ran at once at a provider allowing {MAX_CONCURRENT}"
    assert peak == MAX_CONCURRENT, "the fleet used the provider's slots"

    running = 0.0
    for amount in ledger:  # every prefix of the ledger: committed plus reserved at some moment
        running += amount
        assert running <= CAP_USD + 1e-6
    assert abs(running - sum(record["cost_usd"] for record in billed)) < 1e-6, "spent = what the provider billed"
    assert attempts.get("done") == JOBS and set(attempts) <= {"done", "cancelled"}, attempts
    taken_over = "its worker's lease ran out; back in the queue" in output(home)
    assert taken_over, "the killed worker's jobs were taken over by the others"


async def kill_holding_a_job(url: str, pid: int) -> None:
    """SIGKILL the worker at a moment it holds a job: frozen (SIGSTOP) while its leases are read, so that none of
    its jobs can finish in between; thawed and tried again if it held none."""
    db = await Database.open(url)
    held = text("SELECT COUNT(*) FROM video_jobs WHERE status = 'running' AND lease_owner LIKE :owner")
    try:
        while True:
            os.kill(pid, signal.SIGSTOP)
            if (await db.fetch_all(held.bindparams(owner=f"%:{pid}:%")))[0][0]:
                os.kill(pid, signal.SIGKILL)
                return
            os.kill(pid, signal.SIGCONT)
            await asyncio.sleep(0.02)
    finally:
        await db.close()


async def seed(url: str, account: str, platform: str) -> None:
    db = await Database.open(url)
    try:
        await fleet.seed(db, account, platform, JOBS)
    finally:
        await db.close()


async def read(url: str) -> tuple[dict[str, int], list[float], dict[str, int]]:
    db = await Database.open(url)
    try:
        jobs = dict(tuple(row) for row in await db.fetch_all(
            text("SELECT status, COUNT(*) FROM video_jobs GROUP BY status")))
        ledger = [row[0] for row in await db.fetch_all(text("SELECT amount_usd FROM cost_ledger ORDER BY id"))]
        attempts = dict(tuple(row) for row in await db.fetch_all(
            text("SELECT state, COUNT(*) FROM attempts GROUP BY state")))
    finally:
        await db.close()
    return jobs, ledger, attempts


def output(home: Home) -> str:
    return "".join(path.read_text(errors="replace") for path in sorted(home.logs_dir.glob("worker-*.out")))
