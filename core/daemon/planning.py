"""Planning, trends → briefs → jobs: collect the trends, find the viral patterns, and turn the best unused trends
(or a prompt the user typed) into briefs and queued jobs."""
from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from content.briefs.brief import Brief, BriefBuilder
from content.briefs.llm import BriefWriter
from content.media.lookalike import likeness_of
from content.media.platforms import PLATFORMS, PlatformSpec, aspect_of, platform_spec
from content.media.reference import kept
from core.engine import queue
from core.engine.analysis_purchases import AnalysisPurchases
from core.engine.notifications import EventName, notify
from core.engine.states import JobStatus
from core.errors import ConfigError, DaemonError, FFmpegError, InputError, MediaError
from core.home import Home
from core.secrets import Secrets
from core.settings import REEL_SECONDS, Account, Settings
from core.storage import Database, utcnow
from trends.collector import Collector, SourceRun, build_sources
from trends.learning import learn
from trends.models import Trend
from trends.selection import Candidate, select
from trends.store import collected_since, own_results, recently_used, save_trends, trend_row_id, unused_trends

MIN_PROMPT_CHARS, MAX_PROMPT_CHARS = 3, 500  # a topic in a few words; a trend's caption is held to the same floor
MAX_PRIORITY = 1000


@dataclass(frozen=True)
class Collection:
    found: int  # trends after merging across sources
    new: int  # of which not stored before
    runs: list[SourceRun]


class Planner:
    def __init__(self, home: Home, settings: Settings, db: Database, secrets: Secrets,
                 purchases: AnalysisPurchases) -> None:
        self.home = home
        self.purchases = purchases
        self.settings = settings
        self.db = db
        self.briefs = BriefBuilder()
        self.writer = BriefWriter(settings.app.briefs.llm, secrets, db)
        self.collector = Collector(build_sources(settings.app.trends.sources, home, secrets), db,
                                   home.trend_cache_dir)
        self.patterns: dict[str, Any] = {}  # the viral patterns of the last collection (trends/patterns.py)

    async def close(self) -> None:
        await asyncio.gather(self.collector.close(), self.writer.close())

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
        learned = learn(await own_results(self.db))
        return select(await unused_trends(self.db), recent, settings.accounts, settings.trends, now, learned)

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
            brief = await self._brief(trend, account, settings.platform)
            try:
                job_id = await queue.enqueue(self.db, candidate.trend_id, trend.dedup_key, brief, settings.platform,
                                             max_queue_size=self.settings.video.max_queue_size,
                                             reviewed=account.review_briefs)
            except queue.QueueFull as exc:
                logger.warning(f"planning stopped: {exc}")
                break
            if job_id is not None:
                planned.append(job_id)
                logger.info(f"planned job {job_id} for {account.name} ({brief.written_by} brief): {trend.topic}")
                await self._to_review(job_id, brief, account)
        return planned

    async def _brief(self, trend: Trend, account: Account, platform: str, like: Path | None = None) -> Brief:
        """The template's brief, with the hashtags that travel strongly with the trend's in its theme; rewritten by the
        LLM if set; in the shape of the platform it is made for; following the reference video `like`, else one of
        the persona's `reference_videos` when it lists some."""
        content = self.settings.app.content
        related: list[str] = []
        if self.patterns:  # set by a collection, which loaded pandas already
            from trends.patterns import related_hashtags

            related = related_hashtags(self.patterns, trend.hashtags, trend.theme)
        draft = self.briefs.build(trend, account, content, related)
        brief = await self.writer.improve(draft, trend, account, content.prompt_style, related)
        spec = platform_spec(platform)
        brief = brief.model_copy(update={"aspect_ratio": aspect_of(spec.width, spec.height)})
        if like is not None:
            return await self._like(brief, like, spec)
        listed = account.style.reference_videos
        if not listed:
            return brief
        chosen = self.home.resolve(listed[int(hashlib.sha256(trend.dedup_key.encode()).hexdigest(), 16)
                                          % len(listed)])  # the persona's references in turn, one by the trend
        try:
            return await self._like(brief, chosen, spec)
        except InputError as exc:  # a bad reference of the persona's: this Reel in its own style, the rest go on
            logger.warning(f"{account.name}: {exc}; this Reel is made in the persona's own style")
            return brief

    async def _like(self, brief: Brief, video: Path, spec: PlatformSpec) -> Brief:
        """`brief` made to follow the reference `video` (kept and analysed once), as long as it when the platform
        allows."""
        try:
            analysis, folder = await kept(video, self.home.references_dir, self.home.work_dir,
                                          self.purchases.extras())
        except (MediaError, FFmpegError, OSError) as exc:
            raise InputError(f"{video}: cannot be used as a reference ({str(exc).splitlines()[0]})") from None
        low, high = max(REEL_SECONDS[0], spec.min_duration_s), min(REEL_SECONDS[1], spec.max_duration_s)
        return brief.model_copy(update={
            "like": likeness_of(analysis, self.home.display(folder)),
            "duration_s": round(min(max(analysis.duration_s, low), high), 3)})

    async def enqueue_prompt(self, prompt: str, account_name: str | None, priority: int, quality: str,
                             duration_s: float | None, aspect: str | None = None, like: Path | None = None) -> int:
        """A job from a prompt typed by the user (`generate`), through the same brief and queue as a trend. Input
        that cannot make a video is refused before anything is stored. With `aspect`, the video is made for the
        first listed platform of that shape (else the first known one): the listed platforms still get variants.
        With `like`, it follows that reference video (`generate --like`)."""
        settings = self.settings.app
        prompt = _checked_prompt(prompt)
        _check_number("--priority", priority, 0, MAX_PRIORITY)
        platform = settings.platform if aspect is None else _platform_for(aspect, settings.platforms)
        if duration_s is not None:
            spec = platform_spec(platform)
            _check_number("--duration", duration_s, max(REEL_SECONDS[0], spec.min_duration_s),
                          min(REEL_SECONDS[1], spec.max_duration_s))
        accounts = {a.name: a for a in settings.accounts}
        if account_name is not None and account_name not in accounts:
            raise ConfigError("--account", f"no account named {account_name!r} (accounts: {', '.join(accounts)})")
        account = accounts[account_name] if account_name else settings.accounts[0]
        if like is not None and not like.is_file():
            raise InputError(f"--like {like}: no such file")
        trend = Trend(caption=prompt, theme=account.niches[0] if account.niches else "general", timestamp=utcnow(),
                      source="cli")
        await save_trends(self.db, [trend])
        trend_id = await trend_row_id(self.db, trend.dedup_key)
        brief = await self._brief(trend, account, platform, like)
        if duration_s is not None:
            brief = brief.model_copy(update={"duration_s": duration_s})
        job_id = await queue.enqueue(self.db, trend_id, trend.dedup_key, brief, platform, priority, quality,
                                     self.settings.video.max_queue_size, reviewed=account.review_briefs)
        if job_id is None:
            raise DaemonError(f"a video job for {trend.topic!r} already exists: never twice for one topic")
        logger.info(f"queued job {job_id} for {account.name}: {trend.topic}")
        await self._to_review(job_id, brief, account)
        return job_id

    async def retry(self, job_id: int) -> int:
        """A failed or cancelled job made again: a new job from its brief, for its persona and platform, queued
        (or awaiting approval) like any; the old one stays as it ended. Each job is retried once: a second retry
        names the first's job."""
        job = await queue.with_brief(self.db, job_id)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise DaemonError(f"job {job_id} is {job.status}: only a failed or cancelled job can be retried")
        accounts = {a.name: a for a in self.settings.app.accounts}
        if job.account not in accounts:
            raise DaemonError(f"job {job_id}: account {job.account!r} is no longer in config/config.json")
        key = f"{job.trend_key.partition(':')[0]}:retry-{job_id}"
        brief = Brief.model_validate(job.content)
        made = await queue.enqueue(self.db, job.trend_id, key, brief, job.platform, job.priority, job.quality,
                                   self.settings.video.max_queue_size, reviewed=accounts[job.account].review_briefs)
        if made is None:
            raise DaemonError(f"job {job_id} was retried already, as job {await queue.job_of_key(self.db, key)}")
        logger.info(f"job {job_id} retried as job {made}")
        await self._to_review(made, brief, accounts[job.account])
        return made

    async def _to_review(self, job_id: int, brief: Brief, account: Account) -> None:
        """A brief that waits for the operator is an event (a chat's message with buttons, a webhook)."""
        if account.review_briefs:
            await notify(self.db, EventName.BRIEF_REVIEW, {"job_id": job_id, "account": account.name,
                                                           "topic": brief.topic, "hook": brief.hook,
                                                           "beats": list(brief.beats), "cta": brief.cta})


def _platform_for(aspect: str, listed: Sequence[str]) -> str:
    shaped = [name for name, spec in PLATFORMS.items() if aspect_of(spec.width, spec.height) == aspect]
    return next((name for name in listed if name in shaped), shaped[0])


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
