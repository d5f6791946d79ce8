"""Queue order, one job per trend, budget caps under concurrency, and recovery of interrupted jobs."""
from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import IntegrityError

from core.engine import queue
from core.engine.ledger import BudgetExceeded, Ledger, ProviderBusy, ProviderLimits
from core.engine.policy import POLICY
from core.engine.provider_health import ProviderHealth
from core.errors import ErrorClass, ProviderError
from core.schema import SCHEMA_VERSION, attempts, cost_ledger, posts, schema_info, trends, video_jobs
from core.settings import Budget
from core.storage import Database, PostgresDatabase, utcnow
from tests.conftest import brief, claim, open_attempt, spent


async def test_claims_by_priority_then_fifo(db: Database) -> None:
    low = await queue.enqueue(db, 1, "k1", brief("low"), "instagram_reels", priority=0)
    high = await queue.enqueue(db, 2, "k2", brief("high"), "instagram_reels", priority=5)
    low2 = await queue.enqueue(db, 3, "k3", brief("low2"), "instagram_reels", priority=0)
    claimed = [(await claim(db, "w", 60)).id for _ in range(3)]
    assert claimed == [high, low, low2]
    assert await claim(db, "w", 60) is None


async def test_a_trend_gets_one_job_ever(db: Database) -> None:
    assert await queue.enqueue(db, 1, "same", brief("x"), "instagram_reels") is not None
    assert await queue.enqueue(db, 1, "same", brief("x"), "instagram_reels") is None
    results = await asyncio.gather(*(queue.enqueue(db, 2, "race", brief("y"), "instagram_reels") for _ in range(8)))
    assert sum(r is not None for r in results) == 1


async def test_concurrent_claims_never_share_a_job(db: Database) -> None:
    for i in range(20):
        await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}"), "instagram_reels")
    claimed = await asyncio.gather(*(claim(db, "w", 60) for _ in range(30)))
    ids = [job.id for job in claimed if job]
    assert len(ids) == len(set(ids)) == 20


async def test_a_dead_workers_job_is_taken_over_when_its_lease_runs_out(db: Database) -> None:
    job_id = await queue.enqueue(db, 1, "k", brief("x"), "instagram_reels")
    assert (await claim(db, "a", 1.0)).id == job_id
    for _ in range(3):  # a live worker's heartbeat keeps its job
        await asyncio.sleep(0.25)
        await queue.renew_leases(db, "a", 1.0)
        assert await claim(db, "b", 60) is None
    assert await queue.reap_expired(db) == []
    await asyncio.sleep(1.1)  # "a" died: no more heartbeats
    assert await queue.reap_expired(db) == [job_id]
    assert (await claim(db, "b", 60)).id == job_id


async def test_a_claim_and_its_first_reservation_commit_together(db: Database) -> None:
    ledger = Ledger(db, Budget(per_video_limit_usd=2, daily_limit_usd=10, monthly_limit_usd=100))
    job_id = await queue.enqueue(db, 1, "k", brief("x"), "instagram_reels")

    async def reserve_then_fail(conn, job):
        await ledger.reserve(conn, job.id, "paid", "sim", 1.5)
        raise RuntimeError("the process dies between the reservation and the commit")

    with pytest.raises(queue.UnclaimableJob):
        await queue.claim_next(db, "w", 60, then=reserve_then_fail)
    assert [tuple(r) for r in await db.fetch_all(select(video_jobs.c.status, video_jobs.c.lease_owner))] == [
        ("queued", None)], "no lease without its reservation"
    assert await db.fetch_all(select(cost_ledger)) == [] and await db.fetch_all(select(attempts)) == []

    job, reservation = await queue.claim_next(
        db, "w", 60, then=lambda conn, job: ledger.reserve(conn, job.id, "paid", "sim", 1.5))
    assert job.id == job_id and reservation.attempt.job_id == job_id and reservation.day_used_usd == 1.5
    assert [r.kind for r in await db.fetch_all(select(cost_ledger))] == ["reserve"]


async def test_caps_hold_under_concurrent_reservations(db: Database) -> None:
    ledger = Ledger(db, Budget(per_video_limit_usd=2, daily_limit_usd=10, monthly_limit_usd=100))
    job_ids = [await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}"), "instagram_reels") for i in range(40)]

    async def try_reserve(job_id: int):
        try:
            return await open_attempt(ledger, job_id, "paid", "sim", 1.5)
        except BudgetExceeded:
            return None

    granted = [a for a in await asyncio.gather(*(try_reserve(j) for j in job_ids)) if a]
    assert len(granted) == 6  # 6 × $1.50 = $9 ≤ $10 < 7 × $1.50
    day, _ = ledger.periods(utcnow())
    assert await spent(ledger.db, day=day) == pytest.approx(9.0)
    with pytest.raises(BudgetExceeded, match="per-video cap"):
        await open_attempt(ledger, job_ids[0], "paid", "sim", 2.5)


async def test_settling_releases_the_reservation_and_charges_the_actual(db: Database) -> None:
    ledger = Ledger(db, Budget(per_video_limit_usd=5, daily_limit_usd=5, monthly_limit_usd=5))
    job = await queue.enqueue(db, 1, "k", brief("x"), "instagram_reels")
    first = await open_attempt(ledger, job, "paid", "sim", 4.0)
    with pytest.raises(BudgetExceeded, match="daily cap"):
        await open_attempt(ledger, job, "paid", "sim", 2.0)
    await ledger.close(first, "done", 1.25, provider_task_id="task-1")
    assert await spent(ledger.db, month=first.budget_month) == pytest.approx(1.25)
    failed = await open_attempt(ledger, job, "paid", "sim", 3.0)
    await ledger.fail(failed, "ProviderError", "boom")
    assert await spent(ledger.db, day=failed.budget_day) == pytest.approx(1.25)
    kinds = [row.kind for row in await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))]
    assert kinds == ["reserve", "release", "charge", "reserve", "release"]


async def test_a_missing_trend_is_an_error_not_a_duplicate(db: Database) -> None:
    with pytest.raises(IntegrityError):
        await queue.enqueue(db, 999, "orphan", brief("x"), "instagram_reels")


async def test_provider_limits_are_checked_with_the_reservation(db: Database) -> None:
    ledger = Ledger(db, Budget(per_video_limit_usd=5, daily_limit_usd=50, monthly_limit_usd=50))
    jobs = [await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}"), "instagram_reels") for i in range(4)]
    one_at_a_time = ProviderLimits(max_concurrent=1)
    first = await open_attempt(ledger, jobs[0], "solo", "sim", 1.0, one_at_a_time)
    with pytest.raises(ProviderBusy, match="max_concurrent 1"):
        await open_attempt(ledger, jobs[1], "solo", "sim", 1.0, one_at_a_time)
    await ledger.close(first, "done", 1.0, provider_task_id="task")
    await open_attempt(ledger, jobs[1], "solo", "sim", 1.0, one_at_a_time)

    two_a_minute = ProviderLimits(requests_per_minute=2)
    for job in jobs[2:]:
        await ledger.fail(await open_attempt(ledger, job, "metered", "sim", 1.0, two_a_minute), "temporary", "x")
    with pytest.raises(ProviderBusy, match="requests_per_minute 2") as busy:
        await open_attempt(ledger, jobs[0], "metered", "sim", 1.0, two_a_minute)
    assert 55 < busy.value.retry_after_s <= 60
    day, _ = ledger.periods(utcnow())
    assert await spent(ledger.db, day=day) == pytest.approx(2.0), "a refused attempt reserved nothing"


async def test_an_account_at_its_limit_waits_while_others_run(db: Database) -> None:
    for i, account in enumerate(["busy", "busy", "other"]):
        await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}").model_copy(update={"account": account}),
                            "instagram_reels")
    limits = {"busy": 1}
    claimed = [await claim(db, "w", 60, None, limits) for _ in range(3)]
    assert [job.account if job else None for job in claimed] == ["busy", "other", None]


async def test_a_pause_keeps_the_later_deadline_and_the_breaker_opens_after_n_failures(db: Database) -> None:
    health = ProviderHealth(db)
    await health.pause("busy", 60, "429")
    _, first = (await blocked(db))["busy"]
    await health.pause("busy", 5, "429 with a shorter Retry-After")
    assert (await blocked(db))["busy"][1] == first
    for _ in range(2):
        await health.failed("flaky", threshold=3, cooldown_s=30)
    assert "flaky" not in await blocked(db)
    await health.failed("flaky", threshold=3, cooldown_s=30)
    reason, until = (await blocked(db))["flaky"]
    assert "circuit breaker" in reason and until is not None
    await health.enable("flaky")
    assert "flaky" not in await blocked(db)


async def blocked(db: Database) -> dict[str, tuple[str, object]]:
    async with db.transaction() as conn:
        return await ProviderHealth(db).unavailable(conn)


async def test_a_database_older_than_a_table_gets_the_table_whole(tmp_path) -> None:
    """Version 7 had no posts: create_all makes the table with every column, and the migration that adds a column
    to it (version 9) leaves it be."""
    path = tmp_path / "v7.db"
    await (await Database.open(f"sqlite:///{path}")).close()
    with sqlite3.connect(path) as old:
        old.execute("DROP TABLE posts")
        old.execute("UPDATE schema_info SET version = 7")
    database = await Database.open(f"sqlite:///{path}")
    try:
        assert (await database.fetch_all(select(schema_info.c.version)))[0][0] == SCHEMA_VERSION
        assert await database.fetch_all(select(posts.c.publish_at)) == []
    finally:
        await database.close()


async def test_a_version_1_database_is_upgraded_in_place(tmp_path) -> None:
    path = tmp_path / "old.db"
    await (await Database.open(f"sqlite:///{path}")).close()
    added = [("video_jobs", "quality"), ("video_jobs", "not_before"), ("video_jobs", "lease_owner"),
             ("video_jobs", "lease_expires_at"), ("video_jobs", "cancel_reason"), ("attempts", "progress"),
             ("trends", "traffic"), ("trends", "url"), ("trends", "is_video"), ("trends", "sources"),
             ("video_jobs", "timeline"), ("attempts", "scene"), ("posts", "publish_at")]
    with sqlite3.connect(path) as old:  # shape it like version 1, with a finished and an interrupted attempt
        for table, column in added:
            old.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        old.execute("DROP INDEX ix_video_jobs_claim_order")
        old.execute("CREATE INDEX ix_video_jobs_claim ON video_jobs (status, priority, id)")
        old.execute("UPDATE schema_info SET version = 1")
        for state in ("succeeded", "running"):
            old.execute("INSERT INTO attempts (job_id, provider, provider_type, state, estimated_cost_usd, started_at)"
                        " VALUES (1, 'local', 'local', ?, 0, '2026-11-20 10:00:00')", (state,))
    database = await Database.open(f"sqlite:///{path}")
    try:
        assert (await database.fetch_all(select(schema_info.c.version)))[0][0] == SCHEMA_VERSION
        rows = await database.fetch_all(select(attempts.c.state, attempts.c.progress, attempts.c.scene)
                                        .order_by(attempts.c.id))
        assert [tuple(row) for row in rows] == [("done", None, None), ("reserved", None, None)]
        await database.fetch_all(select(video_jobs.c.quality, video_jobs.c.lease_owner, video_jobs.c.timeline))
        await database.fetch_all(select(trends.c.traffic, trends.c.sources))
    finally:
        await database.close()
    with sqlite3.connect(path) as upgraded:
        plan = " ".join(row[3] for row in upgraded.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM video_jobs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1"))
    assert "ix_video_jobs_claim_order" in plan and "TEMP B-TREE" not in plan, plan


def test_the_claim_reads_its_order_off_an_index(tmp_path) -> None:
    """A claim must not sort the whole queue: with thousands of jobs waiting, that sort was most of its cost."""
    asyncio.run(Database.open(f"sqlite:///{tmp_path / 'q.db'}")).sync_engine.dispose()
    compiled = queue._RUNNABLE.compile(dialect=sqlite_dialect())
    params = [compiled.params[name] if name != "now" else "2026-11-21 00:00:00" for name in compiled.positiontup]
    with sqlite3.connect(tmp_path / "q.db") as conn:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + compiled.string, params))
    assert "ix_video_jobs_claim_order" in plan and "TEMP B-TREE" not in plan, plan


async def test_a_claim_skips_the_job_another_worker_is_claiming(db: Database) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED, so the second claim neither waits for the first nor takes its job.
    SQLite: the second claim waits its turn (writers take turns), then takes the next job all the same."""
    first_id = await queue.enqueue(db, 1, "k1", brief("first"), "instagram_reels", priority=5)
    second_id = await queue.enqueue(db, 2, "k2", brief("second"), "instagram_reels")
    claiming, release = asyncio.Event(), asyncio.Event()

    async def hold_open(conn, job):
        claiming.set()
        await release.wait()

    first = asyncio.create_task(queue.claim_next(db, "a", 60, then=hold_open))
    await claiming.wait()
    second = asyncio.create_task(claim(db, "b", 60))
    await asyncio.wait({second}, timeout=1)
    assert second.done() == isinstance(db, PostgresDatabase), "PostgreSQL claims never wait"
    release.set()
    assert (await first)[0].id == first_id and (await second).id == second_id


async def test_provider_slots_rate_and_account_limits_hold_when_all_ask_at_once(db: Database) -> None:
    """Twenty reservations (and claims) at the same moment, on as many connections: the counts are taken under
    the provider's row lock (the account limit's lock), so none of them reads a count another is about to change."""
    ledger = Ledger(db, Budget(per_video_limit_usd=5, daily_limit_usd=500, monthly_limit_usd=500))
    jobs = [await queue.enqueue(db, i + 1, f"k{i}", brief(f"t{i}").model_copy(update={"account": f"a{i % 2}"}),
                                "instagram_reels") for i in range(40)]

    async def attempt(job_id: int, provider: str, limits: ProviderLimits) -> bool:
        try:
            await open_attempt(ledger, job_id, provider, "sim", 1.0, limits)
            return True
        except ProviderBusy:
            return False

    slots = await asyncio.gather(*(attempt(j, "three", ProviderLimits(max_concurrent=3)) for j in jobs[:20]))
    assert sum(slots) == 3
    rate = await asyncio.gather(*(attempt(j, "metered", ProviderLimits(requests_per_minute=4)) for j in jobs[20:]))
    assert sum(rate) == 4
    claimed = await asyncio.gather(*(claim(db, f"w{i}", 60, None, {"a0": 2, "a1": 1}) for i in range(10)))
    assert sorted(job.account for job in claimed if job) == ["a0", "a0", "a1"]


async def test_a_transaction_aborted_to_break_a_deadlock_is_run_again(db: Database) -> None:
    """Two transactions take the same two rows in opposite order: PostgreSQL aborts one (deadlock detected), and
    `retrying` runs it again, so both commit. (SQLite's writers take turns, so it never gets that far.)"""
    await db.write((text("INSERT INTO budget_totals (period, amount_usd) VALUES ('a', 0), ('b', 0)"), {}))
    holding = [asyncio.Event(), asyncio.Event()]
    runs = Counter()

    def add_to(first: str, second: str, me: int):
        async def work(conn) -> None:
            runs[me] += 1
            await conn.execute(text("UPDATE budget_totals SET amount_usd = amount_usd + 1 WHERE period = :p"),
                               {"p": first})
            holding[me].set()
            if runs[me] == 1:  # the first time round, both hold one row before asking for the other
                await asyncio.wait_for(holding[1 - me].wait(), 5)
            await conn.execute(text("UPDATE budget_totals SET amount_usd = amount_usd + 1 WHERE period = :p"),
                               {"p": second})
        return work

    postgres = isinstance(db, PostgresDatabase)
    if not postgres:  # one runs to the end before the other starts: nobody waits for anybody
        for event in holding:
            event.set()
    await asyncio.gather(db.retrying(add_to("a", "b", 0)), db.retrying(add_to("b", "a", 1)))
    assert sorted(runs.values()) == ([1, 2] if postgres else [1, 1]), "on PostgreSQL, one was aborted and rerun"
    totals = dict(tuple(row) for row in await db.fetch_all(text("SELECT period, amount_usd FROM budget_totals")))
    assert totals == {"a": 2.0, "b": 2.0}


def test_the_error_policy_answers_every_error_class() -> None:
    assert set(POLICY) == set(ErrorClass)
    assert ProviderError("x", "rate_limit").error_class is ErrorClass.RATE_LIMIT
    with pytest.raises(ValueError):
        ProviderError("x", "rate-limited")
