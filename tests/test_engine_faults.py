"""The faults that once paid twice or stopped the queue, replayed deterministically in one process: a crash after a
task was found by its key and a second crash while polling; a worker whose lease ran out; a claim that waited on a
lock longer than a lease; polls that fail after the provider accepted the task; a job that raises."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from content.media.ffmpeg import ProgressCallback
from content.providers import GenerationRequest, TaskStatus, VideoProvider
from content.providers.contract import NoParams
from core.engine import queue
from core.engine.ledger import Ledger
from core.errors import ProviderError
from core.home import Home
from core.progress import NullProgress
from core.schema import attempts, cost_ledger, video_jobs
from core.secrets import Secrets
from core.settings import Budget
from core.storage import Database, utcnow
from tests.conftest import brief, claim, daemon_for, fresh_database, make_clip, settings_for
from tests.test_generator import setup  # noqa: F401  (the fixture: one queued job, claimed, and a generator)
from trends.models import Trend
from trends.store import save_trends


class Crash(BaseException):
    """kill -9 at this point: nothing after it runs, nothing is cleaned up."""


class KeyedProvider(VideoProvider):
    """A paid provider that remembers each task by its idempotency key (so find_task works), with hooks for the
    moment a fault strikes."""

    type_name = "local"
    can_find_tasks = True
    poll_interval_s = 0.0

    def __init__(self, name: str, clip: Path, price: float = 1.0) -> None:
        super().__init__(name, NoParams(), Secrets({}))
        self.clip, self.price = clip, price
        self.created: dict[str, str] = {}
        self.cancelled: list[str] = []
        self.after_create: BaseException | None = None
        self.poll_faults: list[BaseException] = []  # raised by the next polls, in order

    def estimate_cost(self, request: GenerationRequest) -> float:
        return self.price

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        task_id = self.created[idempotency_key] = f"task-{len(self.created) + 1}"
        if self.after_create is not None:
            raise self.after_create
        return task_id

    async def poll(self, task_id: str) -> TaskStatus:
        if self.poll_faults:
            raise self.poll_faults.pop(0)
        return TaskStatus("succeeded", 1.0, self.price)

    async def download(self, task_id: str, destination: Path) -> Path:
        shutil.copy(self.clip, destination)
        return destination

    async def cancel(self, task_id: str) -> bool:
        self.cancelled.append(task_id)
        return True

    async def find_task(self, idempotency_key: str) -> str | None:
        return self.created.get(idempotency_key)


async def expire_and_reclaim(db: Database, owner: str) -> queue.Job:
    """The job's worker is dead: its lease runs out, it is reaped, and `owner` claims it."""
    await db.write((update(video_jobs).values(lease_expires_at=None), {}))
    assert await queue.reap_expired(db)
    job = await claim(db, owner, 60)
    assert job is not None
    return job


async def money(db: Database) -> dict[str, float]:
    rows = await db.fetch_all(select(cost_ledger.c.kind, cost_ledger.c.amount_usd))
    totals: dict[str, float] = {}
    for kind, amount in rows:
        totals[kind] = round(totals.get(kind, 0.0) + amount, 6)
    return totals


@pytest.mark.slow
async def test_a_task_found_by_its_key_survives_a_second_crash_while_polling(setup) -> None:  # noqa: F811
    db, job, generator, tmp = setup
    paid = KeyedProvider("first", make_clip(tmp / "a.mp4"))
    made = generator(paid, KeyedProvider("second", make_clip(tmp / "b.mp4")))
    paid.after_create = Crash()  # A: the provider accepted the task, A died before storing its id
    with pytest.raises(Crash):
        await made.run(job)

    paid.after_create, paid.poll_faults = None, [Crash()]  # B: finds the task by its key, dies while polling it
    with pytest.raises(Crash):
        await made.run(await expire_and_reclaim(db, "B"))

    outcome = await made.run(await expire_and_reclaim(db, "C"))  # C: must resume that task, not create another
    assert outcome.status == "done" and outcome.provider == "first"
    assert list(paid.created.values()) == ["task-1"], "one task created at the provider: never paid twice"
    states = [(r.provider, r.state, r.provider_task_id) for r in await db.fetch_all(select(attempts))]
    assert states == [("first", "done", "task-1")]
    assert await money(db) == {"reserve": 1.0, "release": -1.0, "charge": 1.0}


async def test_a_worker_whose_lease_ran_out_neither_creates_nor_settles(setup) -> None:  # noqa: F811
    db, job, generator, tmp = setup
    paid = KeyedProvider("first", make_clip(tmp / "a.mp4"))
    made = generator(paid, KeyedProvider("second", make_clip(tmp / "b.mp4")))
    taken = await expire_and_reclaim(db, "successor")  # the lease of `job`'s holder ran out; another has it now
    with pytest.raises(queue.LeaseLost):
        await made.run(job)
    assert paid.created == {}, "a worker without the lease never calls the provider"
    assert await db.fetch_all(select(attempts)) == [] and await money(db) == {}

    class StolenWhilePolling(KeyedProvider):  # the successor's lease: it loses it while its task runs
        async def poll(self, task_id: str) -> TaskStatus:
            await db.write((update(video_jobs).values(lease_owner="third"), {}))
            return await super().poll(task_id)

    stolen = StolenWhilePolling("first", make_clip(tmp / "a.mp4"))
    with pytest.raises(queue.LeaseLost):
        await generator(stolen, KeyedProvider("second", make_clip(tmp / "b.mp4"))).run(taken)
    assert await money(db) == {"reserve": 1.0}, "the stale worker settled nothing: no release, no charge"
    assert [(r.state, r.provider_task_id) for r in await db.fetch_all(select(attempts))] == [("polling", "task-1")]


@pytest.mark.slow
async def test_polls_that_fail_after_the_create_keep_polling_the_same_task(setup) -> None:  # noqa: F811
    db, job, generator, tmp = setup
    paid, backup = KeyedProvider("first", make_clip(tmp / "a.mp4")), KeyedProvider("second", make_clip(tmp / "b.mp4"))
    paid.poll_faults = [ProviderError("HTTP 500", "temporary"), ProviderError("read timeout", "unknown"),
                        ProviderError("HTTP 429", "rate_limit", retry_after_s=0.01)]
    outcome = await generator(paid, backup).run(job)
    assert outcome.status == "done" and outcome.provider == "first"
    assert len(paid.created) == 1 and backup.created == {}, "no second task, no fallback paid"
    assert await money(db) == {"reserve": 1.0, "release": -1.0, "charge": 1.0}


@pytest.mark.slow
async def test_a_refused_key_while_polling_keeps_the_task_and_pays_no_fallback(setup) -> None:  # noqa: F811
    db, job, generator, tmp = setup
    paid, backup = KeyedProvider("first", make_clip(tmp / "a.mp4")), KeyedProvider("second", make_clip(tmp / "b.mp4"))
    made = generator(paid, backup)
    paid.poll_faults = [ProviderError("HTTP 401: invalid key", "auth")]
    outcome = await made.run(job)
    assert outcome.status == "queued" and "task is kept" in (outcome.error or "")
    assert backup.created == {}
    assert [(r.state, r.provider_task_id) for r in await db.fetch_all(select(attempts))] == [("polling", "task-1")]
    assert await money(db) == {"reserve": 1.0}, "the reservation stays with the task"

    await made.health.enable("first")  # the operator fixed the key: the same task is polled again, and delivered
    await db.write((update(video_jobs).values(not_before=None), {}))
    outcome = await made.run(await claim(db, job.owner, 60))
    assert outcome.status == "done" and list(paid.created) and len(paid.created) == 1
    assert await money(db) == {"reserve": 1.0, "release": -1.0, "charge": 1.0}


@pytest.mark.slow
async def test_a_task_that_cannot_be_polled_is_cancelled_and_counted_before_the_fallback(setup) -> None:  # noqa: F811
    db, job, generator, tmp = setup
    paid, backup = KeyedProvider("first", make_clip(tmp / "a.mp4")), KeyedProvider("second", make_clip(tmp / "b.mp4"))
    made = generator(paid, backup)
    made.policy = made.policy.model_copy(update={"task_deadline_s": 0.2, "backoff_base_s": 0.02, "backoff_max_s": 0.05})
    paid.poll_faults = [ProviderError("HTTP 503", "temporary")] * 1000
    outcome = await made.run(job)
    assert outcome.status == "done" and outcome.provider == "second"
    assert paid.cancelled == ["task-1"], "the abandoned task was cancelled at its provider"
    rows = [(r.provider, r.state, r.actual_cost_usd) for r in await db.fetch_all(select(attempts))]
    assert rows == [("first", "failed", 1.0), ("second", "done", 1.0)], "its estimate counts as spent"


async def test_a_claim_that_waited_on_a_lock_longer_than_its_lease_holds_a_live_lease(tmp_path: Path) -> None:
    with fresh_database("postgresql", tmp_path) as url:
        db = await Database.open(url)
        try:
            ledger = Ledger(db, Budget(per_video_limit_usd=5, daily_limit_usd=50, monthly_limit_usd=500))
            await save_trends(db, [Trend(caption="A trend to make.", theme="t", timestamp=utcnow(), source="test")])
            for number in range(2):
                await queue.enqueue(db, 1, f"k{number}", brief(f"topic {number}"), "instagram_reels")
            reserve = lambda conn, job: ledger.reserve(conn, job.id, "paid", "sim", 1.0)  # noqa: E731
            await queue.claim_next(db, "first", 60, then=reserve)  # makes the budget rows
            async with db.engine.connect() as holder:  # another process holds the day's budget row for 2 s
                await holder.execute(text("BEGIN"))
                await holder.execute(text("SELECT * FROM budget_totals FOR UPDATE"))
                claiming = asyncio.create_task(queue.claim_next(db, "second", 1.0, then=reserve))
                await asyncio.sleep(2.0)
                await holder.execute(text("COMMIT"))
            job, _ = await claiming
            assert await queue.reap_expired(db) == [], "the lease runs from the end of the claim, not its start"
            assert await queue.renew_leases(db, "second", 1.0) == {job.id}
        finally:
            await db.close()


@pytest.mark.slow
async def test_a_job_that_raises_fails_alone_and_the_queue_goes_on(home: Home, tmp_path: Path) -> None:
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    daemon = daemon_for(home, settings, db)
    try:
        first = await daemon.planner.enqueue_prompt("A video whose render hits a bug", None, 5, "standard", 5)
        second = await daemon.planner.enqueue_prompt("A video that renders fine", None, 0, "standard", 5)

        class Buggy(KeyedProvider):
            async def poll(self, task_id: str) -> TaskStatus:
                if task_id == "task-1":
                    raise RuntimeError("select expression too long")  # not a ProviderError: a bug
                return await super().poll(task_id)

        name = settings.video.default_provider
        buggy = Buggy(name, make_clip(tmp_path / "a.mp4", size="1080x1920", rate="30", seconds=5))
        daemon.runner.providers[name] = buggy
        outcomes = await daemon.worker.process_queue(NullProgress())
        assert [(o.job_id, o.status) for o in outcomes] == [(first, "failed"), (second, "done")]
        assert outcomes[0].error == "unexpected RuntimeError: select expression too long"
        assert buggy.cancelled == ["task-1"]
        rows = await db.fetch_all(select(attempts.c.job_id, attempts.c.state).order_by(attempts.c.id))
        assert [tuple(r) for r in rows] == [(first, "failed"), (second, "done")]
        open_money = await db.fetch_all(text("SELECT attempt_id FROM cost_ledger WHERE kind IN ('reserve', 'release') "
                                             "GROUP BY attempt_id HAVING ABS(SUM(amount_usd)) > 1e-9"))
        assert open_money == [], "the failed job's reservation was released"
        assert not list((home.work_dir).glob(f"job-{first}*"))
    finally:
        await daemon.close()
        await db.close()

