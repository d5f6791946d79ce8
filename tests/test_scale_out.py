"""Scale-out. On PostgreSQL: four worker processes share one queue, one budget and one provider's three slots; one
of them is SIGKILLed midway. Every job is made exactly once, no cap is exceeded and the provider never runs more than
three tasks at once (read off the provider's own record of submissions). Of several `run` processes one leads
(schedules), and another takes over when it dies."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from bench import fleet
from core.home import Home
from core.storage import Database, PostgresDatabase
from tests.conftest import ROOT, edit_json, fresh_database

JOBS, WORKERS, MAX_CONCURRENT, LATENCY_S = 500, 4, 3, 0.05
COST_PER_SECOND = 0.01  # $0.15 a video
CAP_USD = JOBS * COST_PER_SECOND * fleet.DURATION_S  # exactly what 500 videos cost: paying twice for one would not fit


@pytest.mark.slow
def test_four_workers_one_killed_make_500_videos_exactly_once_within_the_providers_slots(tmp_path: Path) -> None:
    home = Home.at(tmp_path / "home")
    with fresh_database("postgresql", tmp_path) as url:
        fleet.configure(home, url, per_worker=2, latency_s=LATENCY_S, max_concurrent=MAX_CONCURRENT,
                        cost_per_second=COST_PER_SECOND, daily_cap_usd=CAP_USD, lease_s=2.0)
        fleet.seed(home, url, JOBS)

        workers = fleet.start_workers(home, WORKERS)
        deadline = time.monotonic() + 600  # a hang guard, not a timing: loaded CI machines are slow
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


async def test_one_process_leads_until_its_session_ends(database: str) -> None:
    """The lock behind leader election: one holder at a time; free again on release, or when the holder's
    database session dies (PostgreSQL ends it here from the server's side, as a crash or a cut network would)."""
    first, second = await Database.open(database), await Database.open(database)
    try:
        leader, other = first.leadership("scheduler"), second.leadership("scheduler")
        assert await leader.acquire() and await leader.acquire(), "holding it, asking again keeps it"
        assert not await other.acquire() and not await other.held()
        await leader.release()
        assert await other.acquire() and not await leader.acquire()
        if isinstance(second, PostgresDatabase):
            async with first.transaction() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                                        "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"))
            assert not await other.held(), "its session is gone, and its leadership with it"
            assert await leader.acquire()
            await leader.release()
        await other.release()
    finally:
        await first.close()
        await second.close()


@pytest.mark.slow
def test_run_on_two_hosts_schedules_once_and_the_standby_takes_over_a_killed_leader(home: Home, tmp_path: Path) -> None:
    """On PostgreSQL (SQLite's lock file is shown to exclude above, and `run` leads on it in test_end_to_end)."""
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(enabled=False))
    with fresh_database("postgresql", tmp_path) as url:
        home.env_file.write_text(f"DATABASE_URL={url}\n")
        first = start_run(home, "first")
        wait_for(home, "first", "scheduled 'collect trends and make videos'")
        second = start_run(home, "second")
        wait_for(home, "second", "another process leads")
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        wait_for(home, "second", "scheduled 'collect trends and make videos'")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert "stopped cleanly" in run_output(home, "second")
    assert "Traceback" not in run_output(home, "first") + run_output(home, "second")


def start_run(home: Home, name: str) -> subprocess.Popen[bytes]:
    with (home.root / f"{name}.out").open("wb") as out:
        return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--home", str(home.root), "run"], stdout=out,
                                stderr=subprocess.STDOUT, cwd=ROOT,
                                env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})


def run_output(home: Home, name: str) -> str:
    return (home.root / f"{name}.out").read_text(errors="replace")


def wait_for(home: Home, name: str, line: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while line not in run_output(home, name):
        assert time.monotonic() < deadline, f"{name} never logged {line!r}:\n{run_output(home, name)}"
        time.sleep(0.1)


# A PostgreSQL server of its own for the restart (so that tests running beside it keep theirs), and a command that
# restarts it; .ci/run sets both.
RESTART_SERVER = os.environ.get("TEST_POSTGRES_RESTART_URL", "")
RESTART = os.environ.get("TEST_POSTGRES_RESTART", "")


@pytest.mark.slow
@pytest.mark.skipif(not (RESTART and RESTART_SERVER), reason="set TEST_POSTGRES_RESTART_URL to a PostgreSQL server "
                    "and TEST_POSTGRES_RESTART to a command that restarts it")
def test_a_database_restart_mid_run_loses_nothing_pays_once_and_stops_no_worker(tmp_path: Path) -> None:
    jobs, latency_s = 60, 0.5
    home = Home.at(tmp_path / "home")
    url = fleet.create_database(RESTART_SERVER)
    try:
        fleet.configure(home, url, per_worker=3, latency_s=latency_s, cost_per_second=COST_PER_SECOND,
                        daily_cap_usd=jobs * COST_PER_SECOND * fleet.DURATION_S, lease_s=3.0)
        fleet.seed(home, url, jobs)
        workers = fleet.start_workers(home, WORKERS)
        deadline = time.monotonic() + 600  # a hang guard, not a timing: loaded CI machines are slow
        while len(fleet.submissions(home)) < jobs // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run(RESTART, shell=True, check=True, capture_output=True)
        for worker in workers:
            assert worker.wait(timeout=max(deadline - time.monotonic(), 1)) == 0, output(home)
        statuses, ledger, attempts = asyncio.run(read(url))
    finally:
        fleet.drop_database(RESTART_SERVER, url)

    billed = fleet.submissions(home)
    per_job = Counter(record["job_id"] for record in billed)
    assert set(per_job.values()) == {1}, "no job was submitted twice"
    assert statuses == {"done": jobs}, statuses
    assert abs(sum(ledger) - sum(record["cost_usd"] for record in billed)) < 1e-6, "charged once, what was billed"
    assert set(attempts) <= {"done", "cancelled"}, attempts
    assert "the database is unreachable" in output(home) and "the database is back" in output(home)
