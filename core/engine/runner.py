"""The job runner: one claimed job through the providers — reserve → submit → poll → download → optimize → settle —
with failover.

Every attempt walks its state machine (core/engine/states.py, AttemptState), and each state is written before the
step it names is taken. What each class of provider error does is one table, core/engine/policy.py. A create whose
outcome is unknown is looked up at the provider, never repeated blindly; if it cannot be looked up, its estimate
counts as spent.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from loguru import logger
from sqlalchemy import insert

from content.briefs.brief import Likeness
from content.briefs.prompt_policy import PromptReview
from content.media import sidecar, timeline
from content.media.backgrounds import TRANSITION_S
from content.media.credentials import ContentSigner, digital_source_type
from content.media.footage import FindFootage
from content.media.look import Look
from content.media.media import probe
from content.media.platforms import PLATFORMS, platform_spec, variant_path
from content.media.preflight import describe_failures, failures, preflight
from content.media.reference import report_likeness
from content.media.renderer import RenderOptions, Timing, narrated_texts, render_reel, time_reel
from content.media.timeline import Scene
from content.media.video_utils import contact_sheet, contact_sheet_path, extract_thumbnail, optimize, usable
from content.media.voiceover import buy, engine_named, ready_engines, unbought
from content.media.voices.contract import VoiceEngine, VoiceError
from content.providers import GenerationRequest, TaskStatus, VideoProvider
from core.engine import queue
from core.engine.ledger import (
    VOICE,
    Attempt,
    AttemptClosed,
    BudgetExceeded,
    Ledger,
    ProviderBusy,
    ProviderLimits,
    Reservation,
)
from core.engine.policy import POLICY, OnJob, OnProvider, WhilePolling
from core.engine.provider_health import ProviderHealth
from core.engine.queue import Job
from core.engine.states import AttemptState, JobStatus
from core.errors import DaemonError, ErrorClass, FFmpegError, MediaError, ProviderError, machine_fault
from core.home import Home
from core.schema import prompt_outcomes
from core.settings import Settings, Voiceover
from core.storage import Step, Transaction, Write, one_line, utcnow

StageCallback = Callable[[str, float], None]
RECONCILE_AGAIN_S = 60.0  # a provider that cannot be asked about an interrupted create is asked again this late
STORE_PROGRESS_EVERY_S = 1.0  # while polling, how often the provider's progress is written for `status`
T = TypeVar("T")


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
    machine_refused: bool = False  # put back in the queue because the machine refused its files (see put_back)


@dataclass(frozen=True)
class Delivered:
    video: Path
    thumbnail: Path
    duration_s: float
    cost_usd: float
    task_id: str
    raw: Path  # the download, once made platform-ready
    scenes: list[dict[str, Any]] | None  # its timeline, when its maker wrote one (content/media/timeline.py)


@dataclass(frozen=True)
class Ending:
    """How a job ends, or waits, when an attempt's error decides it."""
    status: JobStatus
    error: str
    provider: str | None = None
    not_before: datetime | None = None
    error_class: ErrorClass | None = None


class PaidNotDelivered(DaemonError):
    """A scene's clip was paid for, then could not be downloaded: nobody else is paid for that scene."""


class SceneStop(DaemonError):
    """A scene cannot be made now (or ever) in a way that decides the whole job."""

    def __init__(self, ending: Ending) -> None:
        self.ending = ending
        super().__init__(ending.error)


class DeliveryFailed(DaemonError):
    """The provider delivered (and charged) but the file cannot be made platform-ready."""


class Cancelled(DaemonError):
    """`cancel` asked for this job to stop."""


class KeptTask(DaemonError):
    """Polling a submitted task failed in a way that says nothing about the task (the key was refused, billing):
    the attempt stays open with its task id, to be polled again once the provider is back, never paid again."""

    def __init__(self, error: ProviderError, resume_at: datetime) -> None:
        self.error = error
        self.resume_at = resume_at
        super().__init__(str(error))


@dataclass
class Plan:
    """Where one job stands with its providers: those left to try, in failover order, and why others were passed."""
    providers: list[VideoProvider]
    blocked: dict[str, tuple[str, datetime]]  # paused or disabled providers: why, and until when
    attempts_made: int
    errors: list[str] = field(default_factory=list)
    unready: list[str] = field(default_factory=list)  # enabled providers that cannot run yet: what each lacks
    waits_for_budget: bool = False
    resume_at: datetime | None = None  # when the first blocked provider comes back
    busy: ProviderBusy | None = None  # the next provider is at its limits: wait for a slot rather than pay a fallback


@dataclass(frozen=True)
class Opened:
    """An attempt with its money reserved, not yet sent."""
    provider: VideoProvider
    reservation: Reservation


@dataclass(frozen=True)
class Start:
    """What the claim's transaction decided for a fresh job: its plan and (budget and limits allowing) its first
    attempt, reserved in the same transaction that leased the job."""
    plan: Plan
    opened: Opened | None


class JobRunner:
    def __init__(self, home: Home, settings: Settings, ledger: Ledger, providers: dict[str, VideoProvider],
                 signer: ContentSigner | None = None) -> None:
        self.home = home
        self.settings = settings
        self.ledger = ledger
        self.providers = providers
        self.signer = signer  # content credentials for each delivered video, when configured
        self.health = ProviderHealth(ledger.db)
        self.prompts = PromptReview(settings.video.prompt_policy)
        self.policy = settings.video.retry
        self.cancel_requests: dict[int, str] = {}  # job id → reason, kept current by the worker's heartbeat
        self.lost_leases: set[int] = set()  # jobs the heartbeat found taken back from this worker
        self._looks: dict[str, Look] = {}
        self._tuned: dict[str, VideoProvider] = {}
        self._told_missing: set[str] = set()
        self.work_dir = home.work_dir  # downloads land here, one file per attempt
        self.work_dir.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in [*self.providers.values(), *self._tuned.values()]))

    def ready_providers(self, quality: str = "standard", unready: list[str] | None = None) -> list[VideoProvider]:
        """Enabled providers in failover order for a quality tier, minus those lacking a key (each skip is logged
        with what to set, and added to `unready`)."""
        ready = []
        for name in self.settings.video.provider_order(quality):
            provider = self._for_tier(name, quality)
            missing = provider.missing_requirements()
            if not missing:
                ready.append(provider)
                continue
            if unready is not None:
                unready.append(f"{name} needs {', '.join(missing)}")
            if name not in self._told_missing:  # once per process, not once per job
                self._told_missing.add(name)
                logger.warning(f"provider {name} skipped: set {', '.join(missing)} in the environment or .env")
        return ready

    def _for_tier(self, name: str, quality: str) -> VideoProvider:
        """The provider as a job of this quality tier uses it: with the tier's params (model, resolution) if it
        sets any (made once per provider and tier)."""
        if name not in self.settings.video.tier(quality).provider_params:
            return self.providers[name]
        key = f"{name}@{quality}"
        if key not in self._tuned:
            self._tuned[key] = self.providers[name].tuned(self.settings.video.params_for(name, quality))
        return self._tuned[key]

    async def first_attempt(self, conn: Transaction, job: Job) -> Start | None:
        """Inside the claim's transaction: plan a fresh job and reserve its first attempt. A job with history
        gets None: its interrupted attempt must be reconciled (with provider calls) before anything is reserved.

        Raises ProviderBusy when its provider has no slot (or request) free: the claim is undone and the job waits
        in the queue, untouched, for a worker to find a slot."""
        request = self._request(job)
        if job.attempts_so_far or job.cancel_reason or self._by_scene(request):
            return None
        start = await self._start(conn, job, request, set())
        if start.opened is None and start.plan.busy is not None:
            raise start.plan.busy
        return start

    async def run(self, job: Job, start: Start | None = None, on_stage: StageCallback | None = None) -> JobOutcome:
        """Try each ready provider (once per job, beyond its own retries) until one yields a platform-ready video.

        Every write is fenced by the job's lease: LeaseLost or AttemptClosed means another worker has the job now,
        and this run stops without touching it."""
        stage = on_stage or (lambda _stage, _fraction: None)
        request = self._request(job)
        errors: list[str] = []
        if job.cancel_reason:
            self.cancel_requests[job.id] = job.cancel_reason
        open_attempts = await self.ledger.unfinished(job.id) if start is None and job.attempts_so_far else []
        for found in open_attempts:
            if found[0].buys_voice:
                await self._settle_voice(job, request, *found[:2])
        whole = [found for found in open_attempts if found[0].scene is None and not found[0].buys_voice]
        if start is None and not whole and (self._by_scene(request) or await self._begun_by_scene(job, open_attempts)):
            return await self._run_scenes(job, request, stage)
        if start is None:
            if whole:  # reconcile an interrupted attempt first: resume it where it was, or close it
                try:
                    unfinished = await self._reconciled(job, whole[0])
                except ProviderError as exc:
                    return await self._end(job, JobStatus.QUEUED,
                                           f"cannot reconcile its interrupted attempt yet: {exc}",
                                           not_before=utcnow() + timedelta(seconds=RECONCILE_AGAIN_S))
                if unfinished is not None:
                    provider, attempt, task_id = unfinished
                    outcome = await self._try(job, provider, request, attempt, task_id, stage, errors)
                    if outcome is not None:
                        return outcome
            if job.id in self.cancel_requests:  # nothing (left) open: nothing to stop at a provider
                return await self._end(job, JobStatus.CANCELLED, f"cancelled: {self.cancel_requests[job.id]}")
            start = await self._fenced(job, lambda conn: self._start_with_history(conn, job, request))
        plan, opened = start.plan, start.opened
        plan.errors[:0] = errors
        while opened is not None:
            await self.ledger.alert(opened.reservation)
            outcome = await self._try(job, opened.provider, request, opened.reservation.attempt, None, stage,
                                      plan.errors)
            if outcome is not None:
                return outcome
            current = plan
            opened = await self._fenced(job, lambda conn: self._open_next(conn, job, request, current))
        return await self._give_up(job, plan)

    async def _fenced(self, job: Job, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`work(conn)` in a transaction that first checks this worker still holds the job's lease."""

        async def fenced(conn: Transaction) -> T:
            await job.lease.hold(conn)
            return await work(conn)

        return await self.ledger.db.retrying(fenced)

    async def _start_with_history(self, conn: Transaction, job: Job, request: GenerationRequest) -> Start:
        tried = await queue.tried_providers(conn, job.id) if job.attempts_so_far else set()
        return await self._start(conn, job, request, tried)

    async def fail_alone(self, job: Job, exc: Exception) -> JobOutcome:
        """A bug or an unexpected error inside this one job: it ends failed with one line, its open attempt is
        settled (a task the provider accepted is cancelled where it can be, and its estimate counts as spent: it
        may be billed), its scratch files go, and the worker goes on to the next job. A Reel made scene by scene
        settles each scene's open attempt."""
        error = f"unexpected {type(exc).__name__}: {one_line(exc)}"
        logger.opt(exception=exc).debug(f"job {job.id}: {error}")  # the traceback, for a bug report (debug log)
        writes: list[Write | Step] = [job.lease.hold]
        found = await self.ledger.unfinished(job.id)
        for attempt, _state, task_id in found:
            if task_id is not None and attempt.provider in self.providers:
                with contextlib.suppress(Exception):
                    await self._for_tier(attempt.provider, job.quality).cancel(task_id)
            charged = attempt.estimate_usd if task_id is not None else 0.0
            writes.append(self.ledger.settle(attempt, AttemptState.FAILED, charged, error_class=ErrorClass.UNKNOWN,
                                             error=error))
            discard_download(self._download_path(attempt))
        writes += [queue.finish_write(job.id, JobStatus.FAILED, error=error),
                   self._prompt_outcome(job, JobStatus.FAILED, found[0][0].provider if found else None,
                                        ErrorClass.UNKNOWN)]
        await self.ledger.db.write(*writes)
        await self._discard_scene_clips(job)
        self._discard_files(job)
        logger.error(f"job {job.id} failed: {error}")
        return JobOutcome(job.id, JobStatus.FAILED, job.brief.topic, job.account, error=error)

    async def put_back(self, job: Job, fault: str) -> JobOutcome:
        """The machine refused this job's files (a full disk, a folder it cannot write): not the job's fault, so
        nothing is failed or charged. The job goes back to the queue for a later try, its open attempt left to be
        resumed as after a crash (a paid task is polled and downloaded again, never made again)."""
        wait_s = self.settings.video.retry.machine_fault_wait_s
        await self.ledger.db.write(job.lease.hold, queue.finish_write(
            job.id, JobStatus.QUEUED, not_before=utcnow() + timedelta(seconds=wait_s), error=f"waiting: {fault}"))
        self._discard_files(job)
        logger.error(f"job {job.id}: the machine refused its files ({fault}); back in the queue for {wait_s:g} s")
        return JobOutcome(job.id, JobStatus.QUEUED, job.brief.topic, job.account, error=fault, machine_refused=True)

    def _download_path(self, attempt: Attempt) -> Path:
        """Where an attempt's video is downloaded to, one file per attempt."""
        return self.work_dir / f"{attempt.key}.mp4"

    def _discard_files(self, job: Job) -> None:
        shutil.rmtree(self.work_dir / f"job-{job.id}", ignore_errors=True)
        for leftover in (self.home.videos_dir / job.account).glob(f"{job.id:06d}-*"):
            leftover.unlink(missing_ok=True)

    def _request(self, job: Job) -> GenerationRequest:
        look = self._looks.get(job.account)
        if look is None:
            account = next(a for a in self.settings.app.accounts if a.name == job.account)
            look = self._looks[job.account] = Look.of(account, self.settings.app.content, self.home)
        verdict = self.prompts.review(job.brief.visual_prompt)
        brief = job.brief
        if verdict.outcome == "rewritten":  # a rejected prompt keeps its words: no paid provider will see it
            brief = brief.model_copy(update={"visual_prompt": verdict.prompt})
        variants = tuple(name for name in self.settings.app.platforms if name != job.platform)
        return GenerationRequest(job.id, brief, look, self.work_dir / f"job-{job.id}", job.quality, job.platform,
                                 variants)

    async def _start(self, conn: Transaction, job: Job, request: GenerationRequest, tried: set[str],
                     scene: int | None = None) -> Start:
        """The job's plan (providers it has not tried, minus those that cannot make it) and its next attempt; for
        one `scene`, the plan of its clip, among the providers that make clips."""
        plan = Plan([], await self.health.unavailable(conn), job.attempts_so_far if scene is None else len(tried))
        verdict = self.prompts.review(request.brief.visual_prompt)
        for provider in self.ready_providers(job.quality, plan.unready):
            if scene is not None and not _makes_clips(provider):
                continue
            unable = provider.cannot_make(request)
            if unable is None and verdict.rejected and provider.reads_prompt:
                unable = f"the prompt policy keeps the prompt from it ({', '.join(verdict.notes)})"
            if unable:
                plan.errors.append(f"{provider.name}: {unable}")
            elif provider.name not in tried:
                plan.providers.append(provider)
        if request.look.reference_image is not None:  # the persona's face goes to those that take it, first
            plan.providers.sort(key=lambda provider: not provider.takes_reference())
        if not plan.providers and not tried and not plan.errors and not plan.unready:
            plan.unready.append("no provider is enabled in video_config.json")
        return Start(plan, await self._open_next(conn, job, request, plan, scene))

    async def _open_next(self, conn: Transaction, job: Job, request: GenerationRequest, plan: Plan,
                         scene: int | None = None) -> Opened | None:
        """Reserve an attempt at the plan's next usable provider, in the caller's transaction; None when none is
        left (or the next one is busy)."""
        multiplier = self.settings.video.tier(job.quality).multiplier
        while plan.providers:
            provider = plan.providers.pop(0)
            if provider.name in plan.blocked:
                reason, until = plan.blocked[provider.name]
                plan.errors.append(f"{provider.name}: {reason}")
                plan.resume_at = min(plan.resume_at or until, until)
                continue
            if plan.attempts_made >= self.policy.max_attempts_per_job:
                plan.errors.append(f"{self.policy.max_attempts_per_job} attempts made (the cap per job)")
                break
            config = self.settings.video.providers[provider.name]
            try:
                reservation = await self.ledger.reserve(
                    conn, job.id, provider.name, provider.type_name,
                    round(provider.estimate_cost(request) * multiplier, 6),
                    ProviderLimits(config.max_concurrent, config.requests_per_minute), scene)
            except ProviderBusy as exc:
                plan.busy = exc
                return None
            except BudgetExceeded as exc:
                logger.bind(job_id=job.id, provider=provider.name).warning(str(exc))
                plan.errors.append(str(exc))
                # a scene the video's cap has no room left for shows the persona's sources; no day brings room
                plan.waits_for_budget |= scene is None or exc.cap != "per-video"
                continue
            plan.attempts_made += 1
            return Opened(provider, reservation)
        return None

    async def _give_up(self, job: Job, plan: Plan) -> JobOutcome:
        """No provider (left) can take the job now: wait for a slot, a budget period or a provider, or fail."""
        if plan.busy is not None:
            return await self._end(job, JobStatus.QUEUED, str(plan.busy),
                                   not_before=utcnow() + timedelta(seconds=plan.busy.retry_after_s))
        error = "; ".join(plan.errors) or "every ready provider has been tried"
        if plan.waits_for_budget:
            return await self._end(job, JobStatus.WAITING_BUDGET, error)
        if plan.resume_at is not None:
            return await self._end(job, JobStatus.QUEUED, error, not_before=plan.resume_at)
        if plan.unready:  # a provider that could take it once configured: wait for the config, not fail the trend
            return await self._end(job, JobStatus.WAITING_PROVIDER, "; ".join([*plan.errors, *plan.unready]) + " (it "
                                   "runs once a provider is ready: set the key and restart, or `enable` one)")
        return await self._end(job, JobStatus.FAILED, error)

    async def _try(self, job: Job, provider: VideoProvider, request: GenerationRequest, attempt: Attempt,
                   task_id: str | None, stage: StageCallback, errors: list[str]) -> JobOutcome | None:
        """Run one attempt and apply the error policy: the job's outcome, or None to fail over."""
        with logger.contextualize(job_id=job.id, provider=provider.name):
            try:
                delivered = await self._attempt(job, provider, request, attempt, task_id, stage)
            except DeliveryFailed as exc:  # paid for: never pay a second provider for this job
                self._discard_files(job)
                return await self._end(job, JobStatus.FAILED, f"{provider.name}: {exc}", provider.name)
            except (Cancelled, KeptTask, ProviderError) as exc:
                ending = _ending(provider, exc)
                if ending is not None:
                    return await self._end(job, ending.status, ending.error, ending.provider, ending.not_before,
                                           ending.error_class)
                errors.append(f"{provider.name}: {exc}")
                return None
            await self.ledger.db.write(  # the attempt and the job end together, while the lease holds
                job.lease.hold,
                self.ledger.settle(attempt, AttemptState.DONE, delivered.cost_usd, provider_task_id=delivered.task_id),
                queue.finish_write(job.id, JobStatus.DONE, output_path=str(delivered.video),
                                   thumbnail_path=str(delivered.thumbnail), timeline=delivered.scenes, error=None,
                                   not_before=None),
                self._prompt_outcome(job, JobStatus.DONE, provider.name))
            await self.health.succeeded(provider.name)
            discard_download(delivered.raw)
            shutil.rmtree(request.workdir, ignore_errors=True)  # a local render's scratch
            logger.info(f"done: {self.home.display(delivered.video)} ({delivered.duration_s:.1f} s, "
                        f"${delivered.cost_usd:.2f})")
            return JobOutcome(job.id, JobStatus.DONE, job.brief.topic, job.account, provider.name, delivered.video,
                              delivered.thumbnail, delivered.duration_s, delivered.cost_usd)

    async def _reconciled(self, job: Job, found: tuple[Attempt, str, str | None]
                          ) -> tuple[VideoProvider, Attempt, str | None] | None:
        """An interrupted attempt of the job, reconciled: resume it (with its task id), or close it and return None.

        Submitted work is polled again, never resubmitted. A create that may have happened is looked up by its
        idempotency key, and a task found that way is stored at once, before anything else can happen; if the
        provider cannot tell, a paid estimate counts as spent (a free one is just retried)."""
        attempt, state, task_id = found
        guard = job.lease.hold
        if attempt.provider not in self.providers:
            await self.ledger.close(attempt, AttemptState.CANCELLED, 0.0, guard,
                                    error="its provider is no longer configured")
            return None
        provider = self._for_tier(attempt.provider, job.quality)
        if state == AttemptState.SUBMITTING and task_id is None:
            try:
                task_id = await provider.find_task(attempt.key)
            except ProviderError as exc:
                if not exc.ambiguous:  # the lookup itself failed: the attempt stays open, the job tries again later
                    raise
                await self.ledger.fail(attempt, ErrorClass.UNKNOWN, f"interrupted during a create call: {exc}",
                                       attempt.estimate_usd, guard)
                return None
            if task_id is None and attempt.estimate_usd and not provider.can_find_tasks:
                await self.ledger.fail(attempt, ErrorClass.UNKNOWN, "interrupted during a create call that cannot be "
                                       "looked up: its estimate counts as spent", attempt.estimate_usd, guard)
                return None
            if task_id is not None:  # a second crash now must find the task stored, not an attempt to close
                await self.ledger.advance(attempt, AttemptState.SUBMITTED, guard, provider_task_id=task_id)
        if task_id is None:  # nothing was (or could have been) sent: release and try afresh
            await self.ledger.close(attempt, AttemptState.CANCELLED, 0.0, guard, error=f"interrupted while {state}")
            return None
        logger.info(f"job {job.id}: resuming {provider.name} task {task_id} (was {state})")
        return provider, attempt, task_id

    async def _attempt(self, job: Job, provider: VideoProvider, request: GenerationRequest, attempt: Attempt,
                       task_id: str | None, stage: StageCallback) -> Delivered:
        """One provider, to the end: returns the delivery or raises the ProviderError that ended it (settled).
        With `task_id`, the task was already submitted: it is polled, not created again.

        Once the task has succeeded it is paid for: a download or a file that then fails is charged and ends the
        job (DeliveryFailed), rather than paying a second provider for the same video."""
        guard = job.lease.hold
        if provider.composes and task_id is None:  # it narrates the Reel it makes: the paid speech is bought first
            await self._buy_voice(job, request)
        task_id, cost = await self._made(job, provider, request, attempt, task_id, stage)
        try:
            raw = await self._download(job, provider, attempt, task_id, stage)
            await self.ledger.advance(attempt, AttemptState.OPTIMIZING, guard)
            made = await self._compose(job, provider, request, raw, stage)
            scenes = timeline.load(made)
            video, thumbnail, duration = await self._deliver(job, made, stage, request.variants,
                                                             sidecar.post_of(job.brief, provider.name, cost,
                                                                             scenes or []))
        except (queue.LeaseLost, AttemptClosed):
            raise
        except DaemonError as exc:
            await self._charge_lost(job, attempt, exc, cost)
            raise DeliveryFailed(str(exc)) from exc
        return Delivered(video, thumbnail, duration, cost, task_id, raw, scenes)

    async def _charge_lost(self, job: Job, attempt: Attempt, exc: DaemonError, cost: float) -> None:
        """A paid task whose file could not be had or made ready: the attempt ends failed and charged, its download
        gone. A fault of the machine is not the video's: it is raised again, the attempt left open to resume."""
        if machine_fault(exc):
            raise exc
        kind = exc.error_class if isinstance(exc, ProviderError) else type(exc).__name__
        await self.ledger.fail(attempt, kind, str(exc), cost, job.lease.hold)
        discard_download(self._download_path(attempt))

    async def _made(self, job: Job, provider: VideoProvider, request: GenerationRequest, attempt: Attempt,
                    task_id: str | None, stage: StageCallback) -> tuple[str, float]:
        """The task created (unless `task_id` says it was) and polled to success: its id and what it costs. A
        ProviderError that ends it is settled before it is raised."""
        try:
            await self._checkpoint(job, provider, attempt, task_id)
            since = None  # when the task was created, if this process created it
            if task_id is None:
                task_id, since = await self._submit(job, provider, request, attempt, stage)
            status = await self._wait(job, provider, attempt, task_id, stage, since)
            await self._checkpoint(job, provider, attempt, task_id)
        except ProviderError as exc:
            await self._settle_failure(job, provider, attempt, exc)
            raise
        return task_id, status.cost_usd if status.cost_usd is not None else attempt.estimate_usd

    async def _download(self, job: Job, provider: VideoProvider, attempt: Attempt, task_id: str,
                        stage: StageCallback) -> Path:
        await self.ledger.advance(attempt, AttemptState.DOWNLOADING, job.lease.hold)
        stage(f"{provider.name}: downloading", 1.0)
        return await provider.download(task_id, self._download_path(attempt))

    async def _submit(self, job: Job, provider: VideoProvider, request: GenerationRequest, attempt: Attempt,
                      stage: StageCallback) -> tuple[str, float]:
        """The create call: retried only after a definite temporary failure; an ambiguous one is looked up.
        Returns the task id and when the call went out (the task's clock starts there). The call goes out only
        after "submitting" was written under the lease, so a worker that lost its lease never creates a task."""
        retries = 0
        while True:
            await self.ledger.advance(attempt, AttemptState.SUBMITTING, job.lease.hold)
            stage(f"{provider.name}: submitting", 0.0)
            sent = time.monotonic()
            try:
                task_id = await provider.submit(request, attempt.key, lambda f: stage(f"{provider.name}: rendering", f))
            except ProviderError as exc:
                if exc.ambiguous:
                    task_id = await self._reconcile(provider, attempt, exc)
                elif self._should_retry(exc, retries):
                    retries += 1
                    await self._backoff(provider, exc, retries)
                    continue
                else:
                    raise
            await self.ledger.advance(attempt, AttemptState.SUBMITTED, job.lease.hold, provider_task_id=task_id)
            return task_id, sent

    async def _reconcile(self, provider: VideoProvider, attempt: Attempt, exc: ProviderError) -> str:
        """A create that may or may not have happened: find it, or treat it as a failed, charged attempt."""
        try:
            task_id = await provider.find_task(attempt.key)
        except ProviderError as lookup:  # cannot tell what was made: count it as spent, never send it again
            raise ProviderError(f"{exc}; looking the task up failed too ({lookup})", ErrorClass.UNKNOWN,
                                ambiguous=True) from None
        if task_id is not None:
            logger.warning(f"create call ended ambiguously ({exc}); found the task {task_id} at {provider.name}")
            return task_id
        if provider.can_find_tasks:
            raise ProviderError(f"{exc} (no task was created)", ErrorClass.TEMPORARY)
        raise ProviderError(f"{exc}: the task cannot be looked up, so its estimate counts as spent", ErrorClass.UNKNOWN,
                            ambiguous=True)

    async def _wait(self, job: Job, provider: VideoProvider, attempt: Attempt, task_id: str,
                    stage: StageCallback, since: float | None) -> TaskStatus:
        """Poll until the task ends. The task exists and may be billed, so a failing poll never abandons it: errors
        that say nothing about the task (timeouts, 5xx, 429) are polled through with backoff until the task's
        deadline (`retry.task_deadline_s` from its creation), then the task is cancelled where the API allows and
        its estimate counts as spent; a refused key or billing keeps the task for later (KeptTask).

        The next poll comes when the provider's own progress says the task will be done (timed from when it was
        created, `since`, and from when each poll was asked), never later than its `poll_interval_s` and never
        sooner than the provider's own hint: a finished video is not left waiting for a fixed tick."""
        await self.ledger.advance(attempt, AttemptState.POLLING, job.lease.hold)
        failures = 0
        started = since if since is not None else time.monotonic()
        deadline = started + self.policy.task_deadline_s
        shown, next_store = 0.0, time.monotonic() + STORE_PROGRESS_EVERY_S
        while True:
            await self._checkpoint(job, provider, attempt, task_id)
            asked = time.monotonic()
            try:
                status = await provider.poll(task_id)
            except ProviderError as exc:
                failures += 1
                await self._poll_failed(provider, task_id, exc, failures, deadline)
                continue
            failures = 0
            if status.state == "succeeded":
                return status
            if status.state == "failed":
                raise status.error or ProviderError(f"{provider.name}: task {task_id} failed", ErrorClass.UNKNOWN)
            if time.monotonic() >= deadline:
                raise await self._abandon(provider, task_id, f"not finished {self.policy.task_deadline_s:g} s after "
                                                             f"it was created")
            stage(f"{provider.name}: generating", status.progress or 0.0)
            now = time.monotonic()
            if now >= next_store and status.progress is not None and status.progress - shown >= 0.05:
                shown, next_store = status.progress, now + STORE_PROGRESS_EVERY_S  # `status` needs no more
                await self.ledger.advance(attempt, AttemptState.POLLING, job.lease.hold, progress=round(shown, 3))
            due = asked + _next_poll_in(provider.poll_interval_s, asked - started, status.progress)
            await asyncio.sleep(max(due - time.monotonic(), status.poll_after_s or 0.0, 0.0))

    async def _poll_failed(self, provider: VideoProvider, task_id: str, exc: ProviderError, failures: int,
                           deadline: float) -> None:
        """A poll that raised: wait to poll again, or end the attempt (KeptTask, or the abandoned task's error)."""
        effect = POLICY[exc.error_class].while_polling
        if effect is WhilePolling.END_ATTEMPT:
            raise exc
        if effect is WhilePolling.KEEP_TASK:
            await self.health.disable(provider.name, self.policy.disable_hours, str(exc))
            raise KeptTask(exc, utcnow() + timedelta(hours=self.policy.disable_hours))
        if effect is WhilePolling.GIVE_UP or time.monotonic() >= deadline:
            raise await self._abandon(provider, task_id, f"polling failed ({exc})")
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (failures - 1))
        delay = min(max(random.uniform(0, ceiling), exc.retry_after_s or 0.0), max(deadline - time.monotonic(), 0))
        logger.warning(f"{provider.name}: polling task {task_id} failed ({exc.error_class}: {exc}); asking again in "
                       f"{delay:.1f} s")
        await asyncio.sleep(delay)

    async def _abandon(self, provider: VideoProvider, task_id: str, why: str) -> ProviderError:
        """Give a submitted task up: cancel it where the API allows. The error it returns counts the estimate as
        spent (the provider may still bill the task), so no cap is overshot by the fallback that follows."""
        cancelled = False
        with contextlib.suppress(ProviderError):
            cancelled = await provider.cancel(task_id)
        note = "cancelled at the provider" if cancelled else "the provider cannot cancel it"
        return ProviderError(f"{provider.name}: task {task_id} given up: {why}; {note}, its estimate counts as spent",
                             ErrorClass.UNKNOWN, ambiguous=True)

    async def _checkpoint(self, job: Job, provider: VideoProvider, attempt: Attempt, task_id: str | None) -> None:
        """Between steps: stop if the lease was lost (the heartbeat found another worker holds the job); if
        `cancel` asked, stop the provider's task (where it can), release, and raise Cancelled."""
        if job.id in self.lost_leases:
            raise queue.LeaseLost(f"job {job.id}: another worker took it over")
        reason = self.cancel_requests.get(job.id)
        if reason is None:
            return
        stopped = task_id is not None and await provider.cancel(task_id)
        note = f" (task {task_id} cancelled at {provider.name})" if stopped else ""
        await self.ledger.close(attempt, AttemptState.CANCELLED, 0.0, job.lease.hold,
                                error=f"cancelled: {reason}{note}")
        logger.warning(f"job {job.id} cancelled: {reason}{note}")
        raise Cancelled(reason)

    def _should_retry(self, exc: ProviderError, retries: int) -> bool:
        limit = POLICY[exc.error_class].retries
        return retries < (self.policy.max_retries if limit is None else limit)

    async def _backoff(self, provider: VideoProvider, exc: ProviderError, retries: int) -> None:
        """Exponential backoff with full jitter: a random wait up to base * 2^(n-1), capped."""
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (retries - 1))
        delay = random.uniform(0, ceiling)
        logger.warning(f"{provider.name}: {exc.error_class} error ({exc}); retry {retries} in {delay:.1f} s")
        await asyncio.sleep(delay)

    async def _settle_failure(self, job: Job, provider: VideoProvider, attempt: Attempt,
                              exc: ProviderError) -> None:
        """Release (or, for an unreconcilable create or an abandoned task, charge) the reservation and apply the
        class's policy."""
        charged = attempt.estimate_usd if exc.ambiguous else 0.0
        await self.ledger.fail(attempt, exc.error_class, str(exc), charged, job.lease.hold)
        logger.error(f"attempt failed ({exc.error_class}): {exc}")
        effect = POLICY[exc.error_class].on_provider
        if effect is OnProvider.PAUSE:
            await self.health.pause(provider.name, exc.retry_after_s or 60.0, str(exc))
        elif effect is OnProvider.DISABLE:
            await self.health.disable(provider.name, self.policy.disable_hours, str(exc))
        elif effect is OnProvider.COUNT_FAILURE:
            await self.health.failed(provider.name, self.policy.breaker_failures, self.policy.breaker_cooldown_s)

    async def _compose(self, job: Job, provider: VideoProvider, request: GenerationRequest, raw: Path,
                       stage: StageCallback) -> Path:
        """A provider's video composed into the Reel (content/media/renderer.py, `over`), unless its maker composed
        it already (it wrote a timeline) or the composer is switched off: the video to deliver."""
        composer = self.settings.video.composer
        if timeline.load(raw) is not None or not composer.provider_videos:
            return raw
        usable(await probe(raw), platform_spec(request.platform))
        look = request.look
        if provider.speaks:  # the avatar narrates: no second voice
            look = dataclasses.replace(look, style=look.style.model_copy(update={"voiceover": Voiceover()}))
        else:
            await self._buy_voice(job, request)
        return await render_reel(request.brief, look, request.workdir, composed_path(raw),
                                 RenderOptions(composer.preset, composer.crf), lambda f: stage("composing", f),
                                 platform=request.platform, variants=request.variants, over=raw)

    async def _deliver(self, job: Job, raw: Path, stage: StageCallback, variants: tuple[str, ...],
                       post: sidecar.Post) -> tuple[Path, Path, float]:
        """Optimize into `data/videos/<account>/`, pass every preflight rule, add the cover, contact sheet and
        sidecars (content/media/sidecar.py); the same for each variant its maker made for another platform (beside
        the video, named by the platform). If any of them fails, nothing of the delivery is left behind."""
        folder = self.home.videos_dir / job.account
        folder.mkdir(parents=True, exist_ok=True)
        video = folder / f"{job.id:06d}-{_slug(job.brief.topic)}.mp4"
        made = [name for name in variants if variant_path(raw, name).is_file()]
        try:
            info = await optimize(raw, job.platform, video, on_progress=lambda f: stage("optimizing", f))
            await self._sign(video, post)
            stage("preflight, cover", 1.0)
            async with asyncio.TaskGroup() as group:  # each reads the file; on two cores, side by side
                group.create_task(_preflighted(video, job.platform))
                cover = group.create_task(extract_thumbnail(video, at_s=min(1.0, info.duration_s / 3)))
                group.create_task(contact_sheet(video, info.duration_s))
            for name in made:
                stage(f"variant for {name}", 1.0)
                await optimize(variant_path(raw, name), name, variant_path(video, name))
                await self._sign(variant_path(video, name), post)
                await _preflighted(variant_path(video, name), name)
            sidecar.write(video, dataclasses.replace(post, variants={name: variant_path(video, name).name
                                                                     for name in made}))
        except BaseException as exc:
            discard_delivery(video)
            if isinstance(exc, ExceptionGroup):
                raise exc.exceptions[0] from None
            raise
        if job.brief.like is not None:
            stage("similarity to its reference", 1.0)
            await self._report_likeness(job, job.brief.like, video)
        return video, cover.result(), info.duration_s

    async def _report_likeness(self, job: Job, like: Likeness, video: Path) -> None:
        """How alike a lookalike came out to its reference: data/analysis/<video>/compare.html and similarity.json.
        One that cannot be made (its reference removed, say) is one line; the video is delivered all the same."""
        try:
            result = await report_likeness(self.home.resolve(like.reference), video,
                                           self.home.data_dir / "analysis" / video.stem, self.work_dir / "likeness")
        except (MediaError, FFmpegError, OSError, ValueError, KeyError) as exc:
            logger.warning(f"job {job.id}: no similarity report ({str(exc).splitlines()[0] if str(exc) else exc!r})")
            return
        parts = ", ".join(f"{name} {value:.0%}" for name, value in result.parts.items())
        logger.info(f"job {job.id}: {result.overall:g} / 100 like its reference ({parts})")

    async def _sign(self, video: Path, post: sidecar.Post) -> None:
        """Content credentials in the delivered file, when a certificate is configured (before its preflight, which
        then checks the signed file)."""
        if self.signer is not None:
            await self.signer.sign(video, post.account, digital_source_type(post.scenes))

    def _by_scene(self, request: GenerationRequest) -> bool:
        """Whether this Reel is made scene by scene: its first ready provider makes clips (not whole Reels, not a
        speaking avatar), the composer asks for clips, and the brief has more than one scene."""
        composer = self.settings.video.composer
        if not (composer.provider_videos and composer.scenes) or not request.brief.beats:
            return False
        ready = self.ready_providers(request.quality)
        return bool(ready) and _makes_clips(ready[0])

    async def _begun_by_scene(self, job: Job, open_attempts: Sequence[tuple[Attempt, str, str | None]]) -> bool:
        """Whether the job's Reel was begun scene by scene (a scene's clip paid for or in flight): it is finished
        that way whatever the settings say now, so no paid clip is wasted and no whole video bought besides."""
        if not job.attempts_so_far:
            return False
        return any(found[0].scene is not None for found in open_attempts) or bool(await self.ledger.made_scenes(job.id))

    async def _run_scenes(self, job: Job, request: GenerationRequest, stage: StageCallback) -> JobOutcome:
        """Each scene's clip asked of the providers at once, each its own reserved, paid and failed-over task (as a
        job's video is), then the Reel composed from them and delivered. A scene no provider could make shows the
        persona's own sources; one that must wait (budget, a paused provider) defers the job, its paid scenes kept
        for the next run, never made again."""
        await self._buy_voice(job, request)
        timing = await time_reel(request.brief, request.look, request.workdir)
        scenes = timing.scenes
        paid = await self.ledger.made_scenes(job.id)
        interrupted = {found[0].scene: found for found in await self.ledger.unfinished(job.id)}
        shown = [0.0] * len(scenes)

        def scene_stage(index: int) -> StageCallback:
            def update(what: str, fraction: float) -> None:
                shown[index] = fraction
                stage(f"scene {index + 1} of {len(scenes)}: {what}", sum(shown) / len(scenes))
            return update

        made = await asyncio.gather(*(self._scene(job, index, self._scene_request(request, index, scene),
                                                  scene_stage(index), paid.get(index), interrupted.get(index))
                                      for index, scene in enumerate(scenes)), return_exceptions=True)
        failures = [result for result in made if isinstance(result, BaseException)]
        lost = [error for error in failures if not isinstance(error, SceneStop)]
        if lost:
            raise lost[0]
        stops = sorted((error.ending for error in failures if isinstance(error, SceneStop)), key=_severity)
        if stops:
            first = stops[0]
            if first.status in (JobStatus.FAILED, JobStatus.CANCELLED):
                await self._discard_scene_clips(job)
                self._discard_files(job)
            return await self._end(job, first.status, first.error, first.provider, first.not_before, first.error_class)
        clips = {index: clip for index, clip in enumerate(made) if isinstance(clip, Path)}
        return await self._compose_scenes(job, request, timing, clips, stage)

    def _scene_request(self, request: GenerationRequest, index: int, scene: Scene) -> GenerationRequest:
        """What a provider is asked for one scene: its own prompt (through the prompt policy), as long as it shows."""
        verdict = self.prompts.review(scene.prompt)
        prompt = verdict.prompt if verdict.outcome == "rewritten" else scene.prompt
        length = round(scene.end_s - scene.start_s + TRANSITION_S, 3)
        brief = request.brief.model_copy(update={"visual_prompt": prompt, "duration_s": length})
        return dataclasses.replace(request, brief=brief, workdir=request.workdir / f"scene-{index}", variants=())

    async def _scene(self, job: Job, index: int, request: GenerationRequest, stage: StageCallback,
                     paid: tuple[Attempt, str] | None, interrupted: tuple[Attempt, str, str | None] | None
                     ) -> Path | None:
        """One scene's clip: made and `paid` for before (kept, or downloaded again by its task id), resumed where a
        stop left it (`interrupted`), or asked of each provider in turn. None: no provider made it (the persona's
        sources show it); SceneStop: the job must end or wait."""
        if paid is not None:
            return await self._paid_clip(job, *paid)
        with logger.contextualize(job_id=job.id):
            try:
                return await self._scene_made(job, index, request, stage, interrupted)
            except PaidNotDelivered as exc:
                logger.warning(f"job {job.id}: scene {index + 1} was paid for but not delivered ({exc}): the "
                               f"persona's own sources show it")
                return None

    async def _scene_made(self, job: Job, index: int, request: GenerationRequest, stage: StageCallback,
                          interrupted: tuple[Attempt, str, str | None] | None) -> Path | None:
        """The scene's interrupted attempt resumed, then each provider in turn (a busy one waited for)."""
        errors: list[str] = []
        if interrupted is not None:
            try:
                resumed = await self._reconciled(job, interrupted)
            except ProviderError as exc:
                raise SceneStop(Ending(JobStatus.QUEUED, f"cannot reconcile scene {index + 1}'s interrupted "
                                       f"attempt yet: {exc}", not_before=utcnow() + timedelta(
                                           seconds=RECONCILE_AGAIN_S))) from None
            if resumed is not None:
                clip = await self._scene_attempt(job, *resumed, request, stage, errors)
                if clip is not None:
                    return clip
        while True:
            if job.id in self.cancel_requests:
                raise SceneStop(Ending(JobStatus.CANCELLED, f"cancelled: {self.cancel_requests[job.id]}"))
            start = await self._fenced(job, lambda conn: self._scene_start(conn, job, request, index))
            plan, opened = start.plan, start.opened
            plan.errors[:0] = errors
            while opened is not None:
                await self.ledger.alert(opened.reservation)
                clip = await self._scene_attempt(job, opened.provider, opened.reservation.attempt, None, request,
                                                 stage, plan.errors)
                if clip is not None:
                    return clip
                current = plan
                opened = await self._fenced(job, lambda conn: self._open_next(conn, job, request, current, index))
            if plan.busy is None:
                break
            errors = plan.errors
            await asyncio.sleep(plan.busy.retry_after_s)  # its slot frees as the provider's tasks end
        if plan.waits_for_budget:
            raise SceneStop(Ending(JobStatus.WAITING_BUDGET, "; ".join(plan.errors)))
        if plan.resume_at is not None:
            raise SceneStop(Ending(JobStatus.QUEUED, "; ".join(plan.errors), not_before=plan.resume_at))
        logger.warning(f"job {job.id}: no provider made scene {index + 1} ({'; '.join(plan.errors) or 'none left'}): "
                       f"the persona's own sources show it")
        return None

    async def _scene_start(self, conn: Transaction, job: Job, request: GenerationRequest, index: int) -> Start:
        return await self._start(conn, job, request, await queue.tried_providers(conn, job.id, index), index)

    async def _scene_attempt(self, job: Job, provider: VideoProvider, attempt: Attempt, task_id: str | None,
                             request: GenerationRequest, stage: StageCallback, errors: list[str]) -> Path | None:
        """One provider's try at a scene: the clip, downloaded and paid (settled at once, so no later step can pay
        for it again), or None to fail over. A clip paid for but not delivered raises PaidNotDelivered: nobody else
        is paid for the scene."""
        with logger.contextualize(provider=provider.name):
            try:
                task_id, cost = await self._made(job, provider, request, attempt, task_id, stage)
            except (Cancelled, KeptTask, ProviderError) as exc:
                ending = _ending(provider, exc)
                if ending is not None:
                    raise SceneStop(ending) from None
                errors.append(f"{provider.name}: {exc}")
                return None
            try:
                clip = await self._download(job, provider, attempt, task_id, stage)
            except (queue.LeaseLost, AttemptClosed):
                raise
            except DaemonError as exc:
                await self._charge_lost(job, attempt, exc, cost)
                raise PaidNotDelivered(f"{provider.name}: {exc}") from exc
            await self.ledger.close(attempt, AttemptState.DONE, cost, job.lease.hold, provider_task_id=task_id)
            await self.health.succeeded(provider.name)
            return clip

    async def _paid_clip(self, job: Job, attempt: Attempt, task_id: str) -> Path | None:
        """A scene's clip made and paid for on an earlier run: kept, or downloaded again by its task id (never made
        again); None when the provider cannot give it any more (the persona's sources show the scene)."""
        path = self._download_path(attempt)
        if path.is_file():
            return path
        if attempt.provider in self.providers:
            try:
                return await self._for_tier(attempt.provider, job.quality).download(task_id, path)
            except ProviderError as exc:
                logger.warning(f"job {job.id}: scene {(attempt.scene or 0) + 1}'s paid clip cannot be downloaded "
                               f"again ({exc}): the persona's own sources show it")
        return None

    async def _buy_voice(self, job: Job, request: GenerationRequest) -> None:
        """Before the render that narrates the Reel: its speech bought from the persona's first ready voice engine
        if that one is paid (a free one speaks in the render), reserved in the ledger and settled as a provider's
        attempt is — charged for what was bought, and for a call whose answer was lost. An engine the budget has no
        room for, or that fails, gives way to the next. The speech is kept in the job's workdir, where the render
        reads it, and a run after a stop finds it there: it is never bought twice. An engine a call of which may
        have been billed without its speech coming back is not asked again for the job (its next engine speaks)."""
        look, texts = request.look, narrated_texts(request.brief)
        lost = await self.ledger.voices_lost(job.id)
        for engine in ready_engines(look.style.voiceover, look.language, look.secrets):
            wanted = unbought(engine, texts, request.workdir) if engine.price_usd_per_character else []
            if not wanted:
                return
            if engine.name in lost:
                logger.bind(job_id=job.id).warning(f"voice engine {engine.name} not asked again: a call of its for "
                                                   "this Reel may have been billed and its answer was lost")
                continue
            estimate = engine.estimate_usd(wanted)
            try:
                reservation = await self._fenced(job, lambda conn: self.ledger.reserve(
                    conn, job.id, engine.name, VOICE, estimate))
            except BudgetExceeded as exc:
                logger.bind(job_id=job.id).warning(f"voice {exc}: the next voice engine speaks")
                continue
            await self.ledger.alert(reservation)
            attempt = reservation.attempt
            await self.ledger.advance(attempt, AttemptState.SUBMITTING, job.lease.hold)
            try:
                await buy(engine, texts, request.workdir)
            except VoiceError as exc:
                error_class = ErrorClass.UNKNOWN if exc.billed else exc.error_class
                await self.ledger.fail(attempt, error_class, str(exc),
                                       _voice_spent(engine, attempt, texts, request.workdir, exc.billed),
                                       job.lease.hold)
                logger.bind(job_id=job.id).warning(f"voice engine {engine.name} failed ({exc})")
                continue
            await self.ledger.close(attempt, AttemptState.DONE, estimate, job.lease.hold)
            return

    async def _settle_voice(self, job: Job, request: GenerationRequest, attempt: Attempt, state: str) -> None:
        """A voice purchase a stop interrupted: done if all its speech was kept; stopped during its calls, charged
        for the speech kept and the call that was under way (its answer lost); else released."""
        look = request.look
        engine = engine_named(attempt.provider, look.style.voiceover, look.language, look.secrets)
        guard = job.lease.hold
        if engine is not None and not unbought(engine, narrated_texts(request.brief), request.workdir):
            await self.ledger.close(attempt, AttemptState.DONE, attempt.estimate_usd, guard)
        elif state == AttemptState.SUBMITTING:
            spent = attempt.estimate_usd if engine is None else _voice_spent(
                engine, attempt, narrated_texts(request.brief), request.workdir, billed=True)
            await self.ledger.fail(attempt, ErrorClass.UNKNOWN, "interrupted during a paid voice call: what was "
                                   "kept and the call under way count as spent", spent, guard)
        else:
            await self.ledger.close(attempt, AttemptState.CANCELLED, 0.0, guard, error=f"interrupted while {state}")

    def _stock_footage(self, workdir: Path) -> contextlib.AbstractAsyncContextManager[FindFootage | None]:
        """The stock footage of the first ready provider that composes Reels itself: a scene no clip was made for
        shows what that maker would have shown (the persona's `scene_sources`)."""
        for provider in self.providers.values():
            if provider.composes and not provider.missing_requirements():
                return provider.footage(workdir)
        return contextlib.nullcontext(None)

    async def _compose_scenes(self, job: Job, request: GenerationRequest, timing: Timing, clips: dict[int, Path],
                              stage: StageCallback) -> JobOutcome:
        """The Reel composed from its scenes' clips and delivered; the job done, in one write under the lease."""
        composer = self.settings.video.composer
        made = self.work_dir / f"job{job.id}-scenes.mp4"
        paid = await self.ledger.made_scenes(job.id)
        makers = "+".join(dict.fromkeys(attempt.provider for attempt, _ in paid.values())) or "local"
        cost = await self.ledger.charged(job.id)
        try:
            async with self._stock_footage(request.workdir) as footage:
                await render_reel(request.brief, request.look, request.workdir, made,
                                  RenderOptions(composer.preset, composer.crf), lambda f: stage("composing", f),
                                  find_footage=footage, platform=request.platform, variants=request.variants,
                                  scene_clips=clips, timing=timing)
            scenes = timeline.load(made)
            video, thumbnail, duration = await self._deliver(job, made, stage, request.variants,
                                                             sidecar.post_of(job.brief, makers, cost, scenes or []))
        except DaemonError as exc:
            if machine_fault(exc):
                raise
            discard_download(made)
            await self._discard_scene_clips(job)
            self._discard_files(job)
            return await self._end(job, JobStatus.FAILED, f"composing its scenes failed: {exc}", makers)
        await self.ledger.db.write(
            job.lease.hold,
            queue.finish_write(job.id, JobStatus.DONE, output_path=str(video), thumbnail_path=str(thumbnail),
                               timeline=scenes, error=None, not_before=None),
            self._prompt_outcome(job, JobStatus.DONE, makers))
        discard_download(made)
        await self._discard_scene_clips(job)
        shutil.rmtree(request.workdir, ignore_errors=True)
        logger.info(f"done: {self.home.display(video)} ({duration:.1f} s, {len(paid)} scenes made by {makers}, "
                    f"${cost:.2f})")
        return JobOutcome(job.id, JobStatus.DONE, job.brief.topic, job.account, makers, video, thumbnail, duration,
                          cost)

    async def _discard_scene_clips(self, job: Job) -> None:
        for attempt, _ in (await self.ledger.made_scenes(job.id)).values():
            discard_download(self._download_path(attempt))

    async def _end(self, job: Job, status: JobStatus, error: str, provider: str | None = None,
                   not_before: datetime | None = None, error_class: ErrorClass | None = None) -> JobOutcome:
        """Record where the job now stands; a job that ends here (failed, cancelled) also records how its prompt
        fared, in the same transaction."""
        writes: list[Write | Step] = [job.lease.hold, queue.finish_write(job.id, status, error=error,
                                                                          not_before=not_before)]
        if status in (JobStatus.FAILED, JobStatus.CANCELLED):
            writes.append(self._prompt_outcome(job, status, provider, error_class))
        await self.ledger.db.write(*writes)
        level = {JobStatus.FAILED: "ERROR", JobStatus.QUEUED: "INFO"}.get(status, "WARNING")
        logger.log(level, f"job {job.id} {status.replace('_', ' ')}: {error}")
        return JobOutcome(job.id, status, job.brief.topic, job.account, provider, error=error)


    def _prompt_outcome(self, job: Job, outcome: JobStatus, provider: str | None,
                        error_class: ErrorClass | None = None) -> Write:
        """A row of prompt analytics: the job's theme and prompt, the policy's verdict, and how the job ended."""
        verdict = self.prompts.review(job.brief.visual_prompt)
        return insert(prompt_outcomes), {
            "job_id": job.id, "account": job.account, "theme": job.brief.theme, "prompt": verdict.prompt,
            "verdict": verdict.outcome, "policy_notes": "; ".join(verdict.notes) or None, "outcome": outcome,
            "error_class": error_class, "provider": provider, "created_at": utcnow()}


def _voice_spent(engine: VoiceEngine, attempt: Attempt, texts: Sequence[str], workdir: Path, billed: bool) -> float:
    """What a voice purchase that stopped short cost: the speech it kept (its texts are bought in order, so all
    it wanted less what is still unbought), and, when `billed`, the call under way whose answer was lost."""
    left = unbought(engine, texts, workdir)
    spent = attempt.estimate_usd - engine.estimate_usd(left) + (engine.estimate_usd(left[:1]) if billed else 0.0)
    return round(min(max(spent, 0.0), attempt.estimate_usd), 6)


def _makes_clips(provider: VideoProvider) -> bool:
    """A provider that can be asked for one scene's clip: not one that makes whole Reels or speaks the script."""
    return not (provider.composes or provider.speaks)


def _ending(provider: VideoProvider, exc: Exception) -> Ending | None:
    """How an attempt's error ends (or defers) the job, or None when the next provider should be tried."""
    if isinstance(exc, Cancelled):
        return Ending(JobStatus.CANCELLED, f"cancelled: {exc}", provider.name)
    if isinstance(exc, KeptTask):  # the task lives on at the provider: wait with it, pay nobody else
        return Ending(JobStatus.QUEUED, f"{provider.name}: {exc} (its task is kept, polled again when the provider "
                      f"is back)", not_before=exc.resume_at)
    assert isinstance(exc, ProviderError)
    on_job = POLICY[exc.error_class].on_job
    if on_job is OnJob.FAIL:  # never resent unchanged, anywhere
        return Ending(JobStatus.FAILED, f"{provider.name} rejected the prompt: {exc}", provider.name,
                      error_class=exc.error_class)
    if on_job is OnJob.REQUEUE:  # no penalty: other providers may take it
        return Ending(JobStatus.QUEUED, f"{provider.name}: {exc}")
    return None


def _severity(ending: Ending) -> int:
    """Which of several scenes' endings the job takes: a cancel or failure over a wait."""
    order = [JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.WAITING_BUDGET, JobStatus.QUEUED]
    return order.index(ending.status) if ending.status in order else len(order)


async def _preflighted(video: Path, platform: str) -> None:
    """Every preflight rule of `platform` passed by `video`, or a MediaError naming those that failed."""
    spec = platform_spec(platform)
    problems = failures(await preflight(video, spec))
    if problems:
        raise MediaError(f"{video.name} fails {spec.name} preflight: {describe_failures(problems)}")


def discard_download(download: Path) -> None:
    """Remove a provider's download with the timeline and variants its maker wrote beside it, and the Reel composed
    over it with its own."""
    for made in (download, composed_path(download)):
        for scratch in (made, timeline.beside(made), *_variants(made)):
            scratch.unlink(missing_ok=True)


def composed_path(download: Path) -> Path:
    """Where the Reel composed over a provider's download is made."""
    return download.with_suffix(".composed.mp4")


def discard_delivery(video: Path) -> None:
    """Remove a delivered video with everything written beside it: variants, cover, contact sheet, sidecars."""
    for path in (video, *_variants(video), video.with_suffix(".jpg"), contact_sheet_path(video), *sidecar.paths(video)):
        path.unlink(missing_ok=True)


def _variants(video: Path) -> list[Path]:
    return [variant_path(video, name) for name in PLATFORMS]


def _next_poll_in(interval_s: float, elapsed_s: float, progress: float | None) -> float:
    """Seconds to the next poll: when the progress so far says the task will be done, within [interval/10, interval]."""
    if not progress:
        return interval_s
    remaining = elapsed_s * (1 - progress) / progress
    return min(interval_s, max(remaining, interval_s / 10))


def _slug(text: str, limit: int = 40) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in slug.split("-") if part)[:limit].strip("-") or "video"
