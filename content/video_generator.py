"""One job through the providers: reserve → generate → optimize for the platform → cover → settle, with failover."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from content.look import Look
from content.platforms import platform_spec
from content.video_providers import GenerationRequest, VideoProvider
from content.preflight import describe_failures, failures, preflight
from content.video_utils import contact_sheet, extract_thumbnail, optimize
from core import queue
from core.errors import DaemonError, MediaError
from core.home import Home
from core.ledger import BudgetExceeded, Ledger
from core.queue import Job
from core.settings import Settings

StageCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class JobOutcome:
    job_id: int
    status: str
    topic: str
    account: str
    provider: str | None = None
    path: Path | None = None
    thumbnail: Path | None = None
    duration_s: float = 0.0
    cost_usd: float = 0.0
    error: str | None = None


class VideoGenerator:
    def __init__(self, home: Home, settings: Settings, ledger: Ledger, providers: dict[str, VideoProvider]) -> None:
        self.home = home
        self.settings = settings
        self.ledger = ledger
        self.providers = providers

    def ready_providers(self) -> list[VideoProvider]:
        """Enabled providers in failover order, minus those lacking a key (each skip is logged with what to set)."""
        ready = []
        for name in self.settings.video.provider_order():
            provider = self.providers[name]
            missing = provider.missing_requirements()
            if missing:
                logger.warning(f"provider {name} skipped: set {', '.join(missing)} in the environment or .env")
            else:
                ready.append(provider)
        return ready

    async def run(self, job: Job, on_stage: StageCallback | None = None) -> JobOutcome:
        """Try each ready provider until one yields a platform-ready video; records every attempt."""
        stage = on_stage or (lambda _stage, _fraction: None)
        account = next(a for a in self.settings.app.accounts if a.name == job.account)
        workdir = self.home.work_dir / f"job-{job.id}"
        look = Look.of(account, self.settings.app.content, self.home)
        request = GenerationRequest(job_id=job.id, brief=job.brief, look=look, workdir=workdir)
        errors: list[str] = []
        budget_blocked = 0
        providers = self.ready_providers()
        for provider in providers:
            with logger.contextualize(job_id=job.id, provider=provider.name):
                try:
                    attempt = await self.ledger.open_attempt(
                        job.id, provider.name, provider.type_name, provider.estimate_cost(request)
                    )
                except BudgetExceeded as exc:
                    logger.warning(str(exc))
                    errors.append(str(exc))
                    budget_blocked += 1
                    continue
                try:
                    stage(f"{provider.name}: generating", 0.0)
                    result = await provider.generate(request, lambda f: stage(f"{provider.name}: generating", f))
                except DaemonError as exc:
                    logger.error(f"generation failed: {exc}")
                    await self.ledger.fail(attempt, type(exc).__name__, str(exc))
                    errors.append(f"{provider.name}: {exc}")
                    continue
                try:
                    stage("optimizing", 0.0)
                    video, thumbnail, duration = await self._deliver(job, result.path, stage)
                except DaemonError as exc:
                    # The provider delivered (and may have charged): never pay a second provider for this job.
                    await self.ledger.fail(attempt, type(exc).__name__, str(exc), charged_usd=result.cost_usd)
                    return await self._failed(job, f"{provider.name}: {exc}", provider.name)
                await self.ledger.succeed(attempt, result.cost_usd, result.provider_task_id)
                await queue.finish(
                    self.ledger.db, job.id, queue.DONE, output_path=str(video), thumbnail_path=str(thumbnail), error=None
                )
                shutil.rmtree(workdir, ignore_errors=True)
                logger.info(f"done: {self.home.display(video)} ({duration:.1f} s, ${result.cost_usd:.2f})")
                return JobOutcome(job.id, queue.DONE, job.brief.topic, job.account, provider.name, video, thumbnail,
                                  duration, result.cost_usd)
        if not providers:
            errors.append("no enabled provider is ready")
        if providers and budget_blocked == len(providers):
            await queue.finish(self.ledger.db, job.id, queue.WAITING_BUDGET, error="; ".join(errors))
            logger.warning(f"job {job.id} waits for budget: {errors[-1]}")
            return JobOutcome(job.id, queue.WAITING_BUDGET, job.brief.topic, job.account, error="; ".join(errors))
        return await self._failed(job, "; ".join(errors))

    async def _deliver(self, job: Job, raw: Path, stage: StageCallback) -> tuple[Path, Path, float]:
        """Optimize into `data/videos/<account>/`, pass every preflight rule, add the cover and contact sheet."""
        spec = platform_spec(job.platform)
        folder = self.home.videos_dir / job.account
        folder.mkdir(parents=True, exist_ok=True)
        video = folder / f"{job.id:06d}-{_slug(job.brief.topic)}.mp4"
        info = await optimize(raw, spec, video, on_progress=lambda f: stage("optimizing", f))
        stage("preflight", 1.0)
        problems = failures(await preflight(video, spec))
        if problems:
            video.unlink(missing_ok=True)
            raise MediaError(f"{video.name} fails {spec.name} preflight: {describe_failures(problems)}")
        stage("cover", 1.0)
        thumbnail = await extract_thumbnail(video, at_s=min(1.0, info.duration_s / 3))
        await contact_sheet(video, info.duration_s)
        return video, thumbnail, info.duration_s

    async def _failed(self, job: Job, error: str, provider: str | None = None) -> JobOutcome:
        await queue.finish(self.ledger.db, job.id, queue.FAILED, error=error)
        logger.error(f"job {job.id} failed: {error}")
        return JobOutcome(job.id, queue.FAILED, job.brief.topic, job.account, provider, error=error)


def _slug(text: str, limit: int = 40) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in slug.split("-") if part)[:limit].strip("-") or "video"
