"""The daemon's cycle — collect trends, plan a batch of briefs, generate the queue, report — and its schedule."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import random
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from loguru import logger

from content.briefs.brief import Brief, BriefBuilder
from content.briefs.llm import BriefWriter
from content.media.platforms import platform_spec
from core.engine.runner import JobOutcome, Start, VideoGenerator
from content.providers import VideoProvider
from core.engine import queue
from core.errors import ConfigError, DaemonError, InputError, machine_fault
from core.home import Home
from core.leader import Leadership
from core.engine.ledger import AttemptClosed, Ledger, ProviderBusy
from core.progress import NullProgress, ProgressView
from core.secrets import Secrets
from core.settings import REEL_SECONDS, Account, Settings
from core.storage import Database, is_outage, one_line, utcnow
from trends.collector import Collector, SourceRun, build_sources
from trends.models import Trend
from trends.selection import Candidate, select
from trends.store import collected_since, recently_used, save_trends, trend_row_id, unused_trends

if TYPE_CHECKING:
    from analytics.video_analytics import VideoAnalytics

CANCEL_CHECK_S = 1.0  # how soon a running job notices `cancel`
LEADERSHIP_CHECK_S = 5.0  # how often the leader checks it still leads, and the others ask to lead
BUDGET_RECHECK_S = 5.0  # `generate --wait`: how often a job waiting for budget is looked at again
SUPERVISED_BACKOFF_MAX_S = 30.0
T = TypeVar("T")


@dataclass
class CycleResult:
    outcomes: list[JobOutcome] = field(default_factory=list)
    report: Path | None = None

    @property
    def failed(self) -> list[JobOutcome]:
        """Jobs that failed, that wait for a provider to be configured, or that the machine put back (a full disk):
        either way a person must look."""
        return [o for o in self.outcomes if o.status in (queue.FAILED, queue.WAITING_PROVIDER) or o.machine_refused]


@dataclass(frozen=True)
class Collection:
    found: int  # trends after merging across sources
    new: int  # of which not stored before
    runs: list[SourceRun]


class Orchestrator:
    def __init__(self, home: Home, settings: Settings, db: Database, generator: VideoGenerator,
                 secrets: Secrets) -> None:
        self.home = home
        self.settings = settings
        self.db = db
        self.generator = generator
        self.briefs = BriefBuilder()
        self.writer = BriefWriter(settings.app.briefs.llm, secrets, db)
        self.collector = Collector(build_sources(settings.app.trends.sources, home, secrets), db,
                                   home.trend_cache_dir)
        self.patterns: dict[str, Any] = {}  # the viral patterns of the last collection (trends/patterns.py)
        self._cycle_lock = asyncio.Lock()
        self._job_ended = asyncio.Event()
        self._running: set[int] = set()  # jobs this process works on now (the heartbeat renews their leases)
        # Leases name their holder: a crashed worker's jobs are taken over once its lease runs out.
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    @classmethod
    def create(cls, home: Home, settings: Settings, db: Database, providers: dict[str, VideoProvider],
               secrets: Secrets) -> "Orchestrator":
        ledger = Ledger(db, settings.video.budget)
        return cls(home, settings, db, VideoGenerator(home, settings, ledger, providers), secrets)

    async def close(self) -> None:
        await asyncio.gather(self.generator.close(), self.collector.close(), self.writer.close())

    async def collect_trends(self, refresh: bool = False) -> Collection:
        """Every enabled source (cached unless `refresh`), merged and stored; then the viral patterns."""
        found, runs = await self.collector.collect(refresh)
        new = await save_trends(self.db, found)
        logger.info(f"trends: {len(found)} collected, {new} new"
                    + "".join(f"; {run.source} failed" for run in runs if not run.ok))
        await self.update_patterns()
        return Collection(len(found), new, runs)

    async def update_patterns(self) -> Path:
        """Viral patterns over the posts collected in the last `memory_days` (at least a week)."""
        from trends.patterns import analyse, posts_frame, write_patterns  # pandas: loaded when a cycle runs

        now = utcnow()
        window = timedelta(days=max(self.settings.app.trends.memory_days, 7))
        posts = await collected_since(self.db, now - window)
        self.patterns = await asyncio.to_thread(
            lambda: analyse(posts_frame(posts, self.settings.app.schedule.timezone)))
        path = await asyncio.to_thread(write_patterns, self.patterns, self.home.trend_reports_dir, now)
        logger.info(f"viral patterns of {self.patterns['posts']} posts: {self.home.display(path)}")
        return path

    async def candidates(self) -> list[Candidate]:
        """Stored, unused trends best first, each with its persona or why it is passed over."""
        settings = self.settings.app
        now = utcnow()
        recent = await recently_used(self.db, now - timedelta(days=settings.trends.memory_days))
        return select(await unused_trends(self.db), recent, settings.accounts, settings.trends, now)

    async def plan_batch(self) -> list[int]:
        """Turn the best unused trends into briefs and jobs, each for a persona that takes it."""
        settings = self.settings.app
        planned: list[int] = []
        for candidate in await self.candidates():
            if len(planned) >= settings.trends.top_n:
                break
            if candidate.account is None:
                continue
            trend, account = candidate.trend, candidate.account
            brief = await self._brief(trend, account)
            try:
                job_id = await queue.enqueue(self.db, candidate.trend_id, trend.dedup_key, brief, settings.platform,
                                             max_queue_size=self.settings.video.max_queue_size)
            except queue.QueueFull as exc:
                logger.warning(f"planning stopped: {exc}")
                break
            if job_id is not None:
                planned.append(job_id)
                logger.info(f"planned job {job_id} for {account.name} ({brief.written_by} brief): {trend.topic}")
        return planned

    async def _brief(self, trend: Trend, account: Account) -> Brief:
        """The template's brief, with the hashtags that travel strongly with the trend's in its theme; rewritten by the
        LLM if set."""
        content = self.settings.app.content
        related: list[str] = []
        if self.patterns:  # set by a collection, which loaded pandas already
            from trends.patterns import related_hashtags

            related = related_hashtags(self.patterns, trend.hashtags, trend.theme)
        draft = self.briefs.build(trend, account, content, related)
        return await self.writer.improve(draft, trend, account, content.prompt_style, related)

    async def enqueue_prompt(self, prompt: str, account_name: str | None, priority: int, quality: str,
                             duration_s: float | None) -> int:
        """A job from a prompt typed by the user (`generate`), through the same brief and queue as a trend. Input
        that cannot make a video is refused before anything is stored."""
        settings = self.settings.app
        prompt = _checked_prompt(prompt)
        _check_number("--priority", priority, 0, MAX_PRIORITY)
        if duration_s is not None:
            spec = platform_spec(settings.platform)
            _check_number("--duration", duration_s, max(REEL_SECONDS[0], spec.min_duration_s),
                          min(REEL_SECONDS[1], spec.max_duration_s))
        accounts = {a.name: a for a in settings.accounts}
        if account_name is not None and account_name not in accounts:
            raise ConfigError("--account", f"no account named {account_name!r} (accounts: {', '.join(accounts)})")
        account = accounts[account_name] if account_name else settings.accounts[0]
        trend = Trend(caption=prompt, theme=account.niches[0] if account.niches else "general", timestamp=utcnow(),
                      source="cli")
        await save_trends(self.db, [trend])
        trend_id = await trend_row_id(self.db, trend.dedup_key)
        brief = await self._brief(trend, account)
        if duration_s is not None:
            brief = brief.model_copy(update={"duration_s": duration_s})
        job_id = await queue.enqueue(self.db, trend_id, trend.dedup_key, brief, settings.platform, priority, quality,
                                     self.settings.video.max_queue_size)
        if job_id is None:
            raise DaemonError(f"a video job for {trend.topic!r} already exists: never twice for one topic")
        logger.info(f"queued job {job_id} for {account.name}: {trend.topic}")
        return job_id

    async def cancel(self, job_id: int, reason: str) -> str:
        """Cancel a job (see queue.cancel). A job with an attempt to wind up and no live worker is claimed here and
        wound up now: its provider task cancelled where the API allows, its reservation released."""
        result = await queue.cancel(self.db, job_id, reason)
        if result == "reconcile":  # None: a worker claimed it first, and sees the request when it does
            claimed = await self._claim(job_id)
            outcome = await self._run(*claimed, NullProgress()) if claimed is not None else None
            result = "cancelled" if outcome is not None and outcome.status == queue.CANCELLED else "requested"
        logger.info(f"job {job_id}: {'cancelled' if result == 'cancelled' else 'cancellation requested'} ({reason})")
        return result

    async def enable(self, provider: str) -> int:
        """Put a provider back in use, and give every job that waits for a provider another look now."""
        await self.generator.health.enable(provider)
        return await queue.requeue(self.db, (queue.WAITING_PROVIDER, queue.QUEUED))  # QUEUED: deferred ones too

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
                    if outcome is None or outcome.status not in queue.PENDING:
                        return outcome or await self._outcome_of(job_id)
                waiting = await self._outcome_of(job_id)
                if waiting.status not in queue.PENDING or waiting.status == queue.WAITING_PROVIDER:
                    return waiting
                pause = await self._until_runnable(job_id, waiting.status)
                if deadline is not None and loop.time() + pause > deadline:
                    return waiting
                progress.update(job_id, f"waiting: {waiting.error or waiting.status}", 0.0)
                await asyncio.sleep(pause)

    async def _until_runnable(self, job_id: int, status: str) -> float:
        """Seconds until a waiting job is worth claiming again: its deferral's end, or (waiting for budget, which a
        finished or released reservation frees) a short while, after which it is put back in the queue."""
        if status == queue.WAITING_BUDGET:
            await queue.requeue(self.db, (queue.WAITING_BUDGET,), job_id)
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
        stop = asyncio.Event() if drain else _stop_on_signals()
        self.db.wait_out_outages = True  # a database restart is waited out, never the end of the worker
        await queue.requeue(self.db, (queue.WAITING_PROVIDER,))  # this start's config may have the provider now
        while not stop.is_set():
            current = self.generator.ledger.periods(utcnow())
            if current != period:
                period = current
                await queue.requeue(self.db, (queue.WAITING_BUDGET,))
            await _unless_stopped(stop, self.process_queue(progress, outcomes))
            if drain and await self._drained():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), min(poll_s, self.settings.video.lease_s / 2))
        return outcomes

    async def _drained(self) -> bool:
        """Nothing running anywhere (a dead worker's job comes back when its lease runs out) and nothing deferred
        for less than a minute (a provider's rate or concurrency slot)."""
        if (await queue.count_by_status(self.db)).get(queue.RUNNING):
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
                                              self.generator.first_attempt)
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
            outcome = await self.generator.run(job, start, functools.partial(progress.update, job.id))
        except asyncio.CancelledError:
            with contextlib.suppress(queue.LeaseLost):
                await asyncio.shield(self.db.write(job.lease.hold, queue.finish_write(job.id, queue.QUEUED)))
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
            outcome = await (self.generator.put_back(job, fault) if fault else self.generator.fail_alone(job, exc))
        finally:
            self._running.discard(job.id)
            self.generator.lost_leases.discard(job.id)
            self._job_ended.set()  # wake the claims waiting for a provider slot, then arm it for the next job
            self._job_ended = asyncio.Event()
        progress.update(job.id, outcome.status, 1.0)
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
            self.generator.cancel_requests = await queue.cancel_requests(self.db, self.worker_id)
            if clock() - renewed >= lease_s / 3:
                running = set(self._running)
                held = await queue.renew_leases(self.db, self.worker_id, lease_s)
                renewed = clock()
                self.generator.lost_leases |= running - held
                await queue.reap_expired(self.db)

        task = asyncio.create_task(supervised("heartbeat", beat, min(CANCEL_CHECK_S, lease_s / 3)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_cycle(self, progress: ProgressView | None = None) -> CycleResult:
        async with self._cycle_lock:
            await self.collect_trends()
            result = CycleResult()
            if self.settings.video.enabled:
                await self.plan_batch()
                # Jobs parked at a cap get another look: a new day or month, or a raised cap, may admit them.
                await queue.requeue(self.db, (queue.WAITING_BUDGET,))
                result.outcomes = await self.process_queue(progress or NullProgress())
            else:
                logger.info("video generation is disabled in video_config.json: trends collected, nothing rendered")
            result.report = await self.write_report()
            return result

    def analytics(self) -> "VideoAnalytics":
        from analytics.video_analytics import VideoAnalytics  # pandas: loaded when figures are asked for, not at start

        return VideoAnalytics(self.db, self.settings.video.budget, self.settings.app.analytics)

    async def write_report(self, days: int = 1, formats: tuple[str, ...] = ("html", "csv", "json")) -> Path:
        """The analytics report of the last `days` budget days; returns the path of the first format written."""
        from analytics.reports import write_report  # matplotlib and jinja2: loaded when a report is written

        path = await write_report(self.analytics(), self.home.reports_dir, days, formats)
        logger.info(f"report written: {self.home.display(path)}")
        return path

    async def run_forever(self) -> None:
        """The daemon. Of all the `run` processes on one database, one leads: it runs the cycles (every
        `trend_interval_hours`, the first one now) and writes the daily and weekly reports. The others work the
        queue, and one of them takes over when the leader stops or dies. Stops on SIGTERM/SIGINT."""
        stop = _stop_on_signals()
        leadership = self.db.leadership("scheduler")
        try:
            while not stop.is_set():
                if await leadership.acquire():
                    await self._lead(stop, leadership)
                else:
                    await self._stand_by(stop, leadership)
        finally:
            await leadership.release()
        logger.info("stopped cleanly")

    async def _lead(self, stop: asyncio.Event, leadership: Leadership) -> None:
        """Schedule the cycles and reports until a stop, or until the leadership is lost (its database session)."""
        schedule = self.settings.app.schedule
        running: set[asyncio.Task[object]] = set()

        def launch(work: Callable[[], Awaitable[object]], name: str) -> Callable[[], Awaitable[None]]:
            """Wrap scheduled work so a stop can cancel it and a failure never kills the daemon."""

            async def job() -> None:
                task = asyncio.current_task()
                assert task is not None
                running.add(task)
                try:
                    await work()
                except asyncio.CancelledError:
                    logger.info(f"{name} interrupted by the stop")
                except Exception:
                    logger.exception(f"{name} failed; the daemon keeps running")
                finally:
                    running.discard(task)

            return job

        hour, minute = map(int, schedule.report_time.split(":"))
        scheduler = AsyncIOScheduler(timezone=schedule.timezone)
        scheduler.add_job(launch(self.run_cycle, "cycle"), IntervalTrigger(hours=schedule.trend_interval_hours),
                          id="cycle", name="collect trends and make videos", next_run_time=utcnow(),
                          max_instances=1, coalesce=True, misfire_grace_time=3600)
        scheduler.add_job(launch(self.write_report, "daily report"), CronTrigger(hour=hour, minute=minute),
                          id="daily_report", name="daily report", max_instances=1, coalesce=True,
                          misfire_grace_time=3600)
        scheduler.add_job(launch(lambda: self.write_report(7), "weekly report"),
                          CronTrigger(day_of_week=self.settings.app.analytics.weekly_report_day, hour=hour,
                                      minute=minute), id="weekly_report", name="weekly report", max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
        logger.info("leading: this process schedules trend collection and reports")
        scheduler.start()
        for job in scheduler.get_jobs():
            logger.info(f"scheduled '{job.name}': next run {job.next_run_time:%Y-%m-%d %H:%M:%S %Z}, {job.trigger}")
        logger.info("daemon running; SIGTERM or Ctrl-C stops it cleanly")
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), LEADERSHIP_CHECK_S)
            if not stop.is_set() and not await leadership.held():
                logger.error("lost the leadership (its database session ended): scheduling stops until it is won back")
                break
        logger.info("stopping: no new work starts; an interrupted job returns to the queue" if stop.is_set()
                    else "scheduled work stops; an interrupted job returns to the queue")
        scheduler.shutdown(wait=False)
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _stand_by(self, stop: asyncio.Event, leadership: Leadership) -> None:
        """Another process leads: work the queue like `worker`, and ask for the leadership between rounds."""
        logger.info("another process leads (it schedules trends and reports): this one works the queue meanwhile")
        while not stop.is_set():
            if self.settings.video.enabled:
                await _unless_stopped(stop, self.process_queue(NullProgress()))
            if not stop.is_set() and await leadership.acquire():
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), LEADERSHIP_CHECK_S)


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


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
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


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT: how the daemon and the worker learn to stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


MIN_PROMPT_CHARS, MAX_PROMPT_CHARS = 3, 500  # a topic in a few words; a trend's caption is held to the same floor
MAX_PRIORITY = 1000


def _checked_prompt(prompt: str) -> str:
    """The prompt with its runs of whitespace made single spaces, if it can name a video's topic."""
    words = " ".join(prompt.split())
    if len(words) < MIN_PROMPT_CHARS:
        raise InputError(f"prompt {prompt!r}: say what the video is about in at least {MIN_PROMPT_CHARS} characters")
    if len(words) > MAX_PROMPT_CHARS:
        raise InputError(f"prompt: {len(words)} characters; a topic fits in {MAX_PROMPT_CHARS}")
    return words


def _check_number(option: str, value: float, low: float, high: float) -> None:
    if not (math.isfinite(value) and low <= value <= high):
        raise InputError(f"{option} {value:g}: give a number from {low:g} to {high:g}")
