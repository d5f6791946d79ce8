"""The worker loop: claim the best runnable job, run it through the job runner, and keep its lease alive (the
heartbeat), `max_concurrent_generations` jobs at a time; also `generate --wait`'s one job, `cancel` and `enable`."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from loguru import logger

from core.engine import queue
from core.engine.ledger import AttemptClosed, ProviderBusy
from core.engine.notifications import EventName, notify
from core.engine.runner import JobOutcome, JobRunner, Start
from core.engine.states import PENDING, Cancellation, JobStatus
from core.errors import machine_fault
from core.progress import NullProgress, ProgressView
from core.settings import Settings
from core.storage import Database, is_outage, one_line, utcnow

CANCEL_CHECK_S = 1.0  # how soon a running job notices `cancel`
BUDGET_RECHECK_S = 5.0  # `generate --wait`: how often a job waiting for budget is looked at again
SUPERVISED_BACKOFF_MAX_S = 30.0
T = TypeVar("T")


class Worker:
    """One process's share of the queue. Its leases name it (`host:pid:nonce`): a crashed worker's jobs are taken
    over once its lease runs out."""

    def __init__(self, settings: Settings, db: Database, runner: JobRunner) -> None:
        self.settings = settings
        self.db = db
        self.runner = runner
        self._job_ended = asyncio.Event()
        self._running: set[int] = set()  # jobs this process works on now (the heartbeat renews their leases)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    async def cancel(self, job_id: int, reason: str) -> Cancellation:
        """Cancel a job (see queue.cancel). A job with an attempt to wind up and no live worker is claimed here and
        wound up now: its provider task cancelled where the API allows, its reservation released."""
        result = await queue.cancel(self.db, job_id, reason)
        if result == Cancellation.RECONCILE:  # None: a worker claimed it first, and sees the request when it does
            claimed = await self._claim(job_id)
            outcome = await self._run(*claimed, NullProgress()) if claimed is not None else None
            ended = outcome is not None and outcome.status == JobStatus.CANCELLED
            result = Cancellation.CANCELLED if ended else Cancellation.REQUESTED
        done = "cancelled" if result == Cancellation.CANCELLED else "cancellation requested"
        logger.info(f"job {job_id}: {done} ({reason})")
        return result

    async def enable(self, provider: str) -> int:
        """Put a provider back in use, and give every job that waits for a provider another look now."""
        await self.runner.health.enable(provider)
        return await queue.requeue(self.db, (JobStatus.WAITING_PROVIDER, JobStatus.QUEUED))  # QUEUED: deferred ones too

    async def run_job(self, job_id: int, progress: ProgressView, timeout_s: float | None = None) -> JobOutcome:
        """Run one queued job in this process to its end (`generate --wait`), waiting through what makes it wait —
        a provider's rate-limit pause or full slots, the budget — for up to `timeout_s` (None: as long as it takes).
        On a timeout the job stays queued and the outcome says where it stands."""
        self.db.wait_out_outages = True
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        async with self._heartbeat():
            while True:
                claimed = await self._claim(job_id, deadline)
                if claimed is not None:
                    outcome = await self._run(*claimed, progress)
                    if outcome is None or outcome.status not in PENDING:
                        return outcome or await self._outcome_of(job_id)
                waiting = await self._outcome_of(job_id)
                if waiting.status not in PENDING or waiting.status in (JobStatus.WAITING_PROVIDER,
                                                                       JobStatus.AWAITING_APPROVAL):
                    return waiting
                pause = await self._until_runnable(job_id, waiting.status)
                if deadline is not None and loop.time() + pause > deadline:
                    return waiting
                progress.update(job_id, f"waiting: {waiting.error or waiting.status}", 0.0)
                await asyncio.sleep(pause)

    async def _until_runnable(self, job_id: int, status: str) -> float:
        """Seconds until a waiting job is worth claiming again: its deferral's end, or (waiting for budget, which a
        finished or released reservation frees) a short while, after which it is put back in the queue."""
        if status == JobStatus.WAITING_BUDGET:
            await queue.requeue(self.db, (JobStatus.WAITING_BUDGET,), job_id)
            return BUDGET_RECHECK_S
        due = await queue.next_deferred(self.db, job_id)
        return max((due - utcnow()).total_seconds(), 0.1) if due is not None else 0.1

    async def _outcome_of(self, job_id: int) -> JobOutcome:
        row = await queue.job_state(self.db, job_id)
        return JobOutcome(job_id, row.status, row.topic, row.account, error=row.error)

    async def work(self, drain: bool, progress: ProgressView, poll_s: float = 5.0) -> list[JobOutcome]:
        """The worker: run the queue; with `drain`, stop when nothing is runnable, else until SIGTERM/SIGINT.

        Jobs waiting for budget get another look at start and whenever a new budget day begins."""
        outcomes: list[JobOutcome] = []
        period = None
        stop = asyncio.Event() if drain else stop_on_signals()
        self.db.wait_out_outages = True  # a database restart is waited out, never the end of the worker
        await queue.requeue(self.db, (JobStatus.WAITING_PROVIDER,))  # this start's config may have the provider now
        while not stop.is_set():
            current = self.runner.ledger.periods(utcnow())
            if current != period:
                period = current
                await queue.requeue(self.db, (JobStatus.WAITING_BUDGET,))
            await unless_stopped(stop, self.process_queue(progress, outcomes))
            if drain and await self._drained():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), min(poll_s, self.settings.video.lease_s / 2))
        return outcomes

    async def _drained(self) -> bool:
        """Nothing running anywhere (a dead worker's job comes back when its lease runs out) and nothing deferred
        for less than a minute (a provider's rate or concurrency slot)."""
        if (await queue.count_by_status(self.db)).get(JobStatus.RUNNING):
            return False
        due = await queue.next_deferred(self.db)
        return due is None or due > utcnow() + timedelta(minutes=1)

    async def process_queue(self, progress: ProgressView, outcomes: list[JobOutcome] | None = None
                            ) -> list[JobOutcome]:
        """Run queued jobs until none is left, `max_concurrent_generations` at a time; each outcome is appended to
        `outcomes` as it comes (so a stop loses none of them)."""
        outcomes = [] if outcomes is None else outcomes

        async def worker() -> None:
            while (claimed := await self._claim()) is not None:
                outcome = await self._run(*claimed, progress)
                if outcome is not None:
                    outcomes.append(outcome)

        workers = self.settings.video.max_concurrent_generations
        await queue.reap_expired(self.db)
        async with self._heartbeat():
            await asyncio.gather(*(worker() for _ in range(workers)))
        return outcomes

    async def _claim(self, job_id: int | None = None, deadline: float | None = None
                     ) -> tuple[queue.Job, Start | None] | None:
        """Lease the next runnable job (or `job_id`) with its first attempt reserved; while its provider has no
        slot free, wait for one (the job stays queued meanwhile, for whichever worker finds the slot first), until
        `deadline` (loop time). A job that cannot even be claimed is failed alone and the next one taken."""
        video = self.settings.video
        limits = {name: limit.max_concurrent for name, limit in video.account_limits.items()}
        loop = asyncio.get_running_loop()
        while True:
            try:
                return await queue.claim_next(self.db, self.worker_id, video.lease_s, job_id, limits,
                                              self.runner.first_attempt)
            except queue.UnclaimableJob as problem:
                await queue.fail_unclaimable(self.db, problem)
                if job_id is not None:
                    return None
            except ProviderBusy as busy:  # a job of ours ending frees a slot; another worker's, we learn by asking
                if deadline is not None and loop.time() >= deadline:
                    return None
                with contextlib.suppress(asyncio.TimeoutError):  # (with jitter, so the askers do not all ask at once)
                    await asyncio.wait_for(self._job_ended.wait(), busy.retry_after_s * random.uniform(0.5, 1.0))

    async def _run(self, job: queue.Job, start: Start | None, progress: ProgressView) -> JobOutcome | None:
        """One claimed job through the generator; None when another worker took it over meanwhile. Whatever goes
        wrong inside the job ends that job alone; a stop puts it straight back in the queue."""
        progress.add(job.id, f"{job.account}: {job.brief.topic}")
        self._running.add(job.id)
        try:
            outcome = await self.runner.run(job, start, functools.partial(progress.update, job.id))
        except asyncio.CancelledError:
            with contextlib.suppress(queue.LeaseLost):
                await asyncio.shield(self.db.write(job.lease.hold, queue.finish_write(job.id, JobStatus.QUEUED)))
            raise
        except (queue.LeaseLost, AttemptClosed) as lost:
            logger.warning(f"job {job.id}: stopped acting on it ({lost}); whoever holds it now goes on")
            progress.update(job.id, "taken over by another worker", 1.0)
            return None
        except Exception as exc:
            fault = machine_fault(exc)
            if fault is None and is_outage(exc):  # its lease runs out; the job comes back to whoever works then
                logger.error(f"job {job.id}: the database went away ({one_line(exc)}); the job will be taken up again")
                return None
            outcome = await (self.runner.put_back(job, fault) if fault else self.runner.fail_alone(job, exc))
        finally:
            self._running.discard(job.id)
            self.runner.lost_leases.discard(job.id)
            self._job_ended.set()  # wake the claims waiting for a provider slot, then arm it for the next job
            self._job_ended = asyncio.Event()
        progress.update(job.id, outcome.status, 1.0)
        if outcome.status in (JobStatus.DONE, JobStatus.FAILED):
            await notify(self.db, EventName.JOB_DONE if outcome.status == JobStatus.DONE else EventName.JOB_FAILED,
                         {"job_id": outcome.job_id, "status": outcome.status, "topic": outcome.topic,
                          "account": outcome.account, "provider": outcome.provider,
                          "cost_usd": round(outcome.cost_usd, 6), "duration_s": round(outcome.duration_s, 2),
                          "video": outcome.path.name if outcome.path else None, "error": outcome.error})
        return outcome

    @contextlib.asynccontextmanager
    async def _heartbeat(self) -> AsyncIterator[None]:
        """While work runs: every second, learn which of this worker's jobs `cancel` asked to stop (one read for
        all of them); every third of a lease, renew the leases, stop acting for any job no longer held, and return
        dead workers' jobs to the queue. A beat that fails (the database restarting) is logged once and tried
        again with backoff: the heartbeat never dies while the work goes on."""
        lease_s = self.settings.video.lease_s
        clock = asyncio.get_running_loop().time
        renewed = clock()

        async def beat() -> None:
            nonlocal renewed
            self.runner.cancel_requests = await queue.cancel_requests(self.db, self.worker_id)
            if clock() - renewed >= lease_s / 3:
                running = set(self._running)
                held = await queue.renew_leases(self.db, self.worker_id, lease_s)
                renewed = clock()
                self.runner.lost_leases |= running - held
                await queue.reap_expired(self.db)

        task = asyncio.create_task(supervised("heartbeat", beat, min(CANCEL_CHECK_S, lease_s / 3)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def supervised(name: str, body: Callable[[], Awaitable[None]], interval_s: float) -> None:
    """Run `body` every `interval_s` until cancelled. A round that raises is logged (once until it works again) and
    the next one comes after a doubling wait (at most SUPERVISED_BACKOFF_MAX_S): a side loop never dies of an error."""
    wait, failing = interval_s, False
    while True:
        await asyncio.sleep(wait)
        try:
            await body()
        except Exception as exc:
            if not failing:
                logger.error(f"{name} failed ({type(exc).__name__}: {one_line(exc)}); trying again with backoff")
            failing, wait = True, min(max(wait * 2, interval_s), SUPERVISED_BACKOFF_MAX_S)
            continue
        if failing:
            logger.warning(f"{name} works again")
        failing, wait = False, interval_s


async def unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """`work`'s result, or None when `stop` is set first (the work is cancelled: a running job returns to the
    queue)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None
    return task.result()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT: how the daemon and the worker learn to stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
