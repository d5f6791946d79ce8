"""The daemon, the composition root: it wires the rooms together (planning, the worker, analytics), runs the cycle —
collect trends, plan a batch, work the queue, report — and, in the process that leads, the schedule."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from loguru import logger

from content.media.credentials import ContentSigner
from content.providers import VideoProvider
from core.daemon.planning import Planner
from core.engine import queue
from core.engine.analysis_purchases import AnalysisPurchases
from core.engine.ledger import Ledger
from core.engine.notifications import Deliveries
from core.engine.publishing import Publishing
from core.engine.retention import Expired, remove_expired, remove_expired_references
from core.engine.runner import JobOutcome, JobRunner
from core.engine.states import JobStatus
from core.engine.worker import Worker, stop_on_signals, unless_stopped
from core.home import Home
from core.leader import Leadership
from core.progress import NullProgress, ProgressView
from core.secrets import Secrets
from core.settings import Settings
from core.storage import Database, utcnow

if TYPE_CHECKING:
    from analytics.insights import PullResult
    from analytics.video_analytics import VideoAnalytics

LEADERSHIP_CHECK_S = 5.0  # how often the leader checks it still leads, and the others ask to lead
NOTIFY_EVERY_S = 5.0  # between two rounds of notification deliveries
PUBLISH_EVERY_S = 60.0  # the longest wait between two looks at the posts (schedule the finished, advance the due)


@dataclass
class CycleResult:
    outcomes: list[JobOutcome] = field(default_factory=list)
    report: Path | None = None

    @property
    def failed(self) -> list[JobOutcome]:
        """Jobs that failed, that wait for a provider to be configured, or that the machine put back (a full disk):
        either way a person must look."""
        looked_at = (JobStatus.FAILED, JobStatus.WAITING_PROVIDER)
        return [o for o in self.outcomes if o.status in looked_at or o.machine_refused]


class Daemon:
    def __init__(self, home: Home, settings: Settings, db: Database, providers: dict[str, VideoProvider],
                 secrets: Secrets) -> None:
        self.home = home
        self.settings = settings
        self.db = db
        self.ledger = Ledger(db, settings.video.budget)
        self.runner = JobRunner(home, settings, self.ledger, providers,
                                ContentSigner.configured(settings.app.content_credentials, secrets, home.root))
        self.worker = Worker(settings, db, self.runner)
        self.planner = Planner(home, settings, db, secrets,
                               AnalysisPurchases(self.ledger, settings.app.analysis, secrets, home.paid_analysis_dir))
        self.secrets = secrets
        self.publishing = Publishing(settings, db, secrets, home)
        self.notifications = Deliveries(settings.app.notifications, db, secrets)
        self._cycle_lock = asyncio.Lock()

    async def close(self) -> None:
        await asyncio.gather(self.runner.close(), self.planner.close(), self.publishing.close(),
                             self.notifications.close())

    async def pull_insights(self, due_only: bool = True) -> "PullResult":
        """Published posts' metrics into the engagement table (see analytics/insights.py)."""
        from analytics.insights import pull_insights

        return await pull_insights(self.db, self.settings, self.secrets, due_only)

    async def remove_expired(self) -> tuple[list[Expired], list[Path]]:
        """Posted videos' files and unused reference videos past `retention_days`, removed (see
        core/engine/retention.py)."""
        videos = await remove_expired(self.db, self.settings, self.publishing.host)
        return videos, remove_expired_references(self.home.references_dir, self.settings,
                                                 self.home.paid_analysis_dir)

    async def notify(self) -> None:
        """Deliver what is due to be told, and carry out the briefs approved or rejected from a chat."""
        await self.notifications.send_due()
        await self.notifications.take_decisions()

    async def publish_due(self) -> None:
        """auto_publish's finished videos scheduled, and every post that is due advanced."""
        await self.publishing.schedule_finished()
        await self.publishing.run_due()

    async def run_cycle(self, progress: ProgressView | None = None) -> CycleResult:
        async with self._cycle_lock:
            await self.planner.collect_trends()
            result = CycleResult()
            if self.settings.video.enabled:
                await self.planner.plan_batch()
                # Jobs parked at a cap get another look: a new day or month, or a raised cap, may admit them.
                await queue.requeue(self.db, (JobStatus.WAITING_BUDGET,))
                result.outcomes = await self.worker.process_queue(progress or NullProgress())
                await self.publish_due()  # auto_publish: what was just made, if its persona posts at once
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
        stop = stop_on_signals()
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
        look_every = IntervalTrigger(seconds=self.publishing.look_every_s(PUBLISH_EVERY_S))
        scheduler.add_job(launch(self.publish_due, "publishing"), look_every,
                          id="publishing", name="publish what is due", next_run_time=utcnow(), max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
        scheduler.add_job(launch(self.notify, "notifications"), IntervalTrigger(seconds=NOTIFY_EVERY_S),
                          id="notifications", name="deliver notifications", next_run_time=utcnow(), max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
        scheduler.add_job(launch(self.publishing.refresh_tokens, "token renewal"), IntervalTrigger(hours=6),
                          id="tokens", name="renew platform tokens", next_run_time=utcnow(), max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
        scheduler.add_job(launch(self.pull_insights, "insights"), IntervalTrigger(hours=1), id="insights",
                          name="read published posts' metrics", max_instances=1, coalesce=True,
                          misfire_grace_time=3600)
        scheduler.add_job(launch(self.remove_expired, "retention"), CronTrigger(hour=hour, minute=minute),
                          id="retention", name="remove posted videos past retention", max_instances=1,
                          coalesce=True, misfire_grace_time=3600)
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
                await unless_stopped(stop, self.worker.process_queue(NullProgress()))
            if not stop.is_set() and await leadership.acquire():
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), LEADERSHIP_CHECK_S)
