"""`providers test NAME`: one real, smallest video from one provider, for a user who has just set its key.

It runs through the engine like any job — reserved against the budget, recorded in the ledger, crash-safe, never
paid twice — with that provider alone and its video delivered as made (no composing, so no paid voice). The estimate
is shown and confirmed first; afterwards each step's result is printed from the attempt's row."""
from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy import select

from content.briefs.brief import Brief
from content.media.look import Look
from content.providers import GenerationRequest
from core.daemon.daemon import Daemon
from core.engine.states import JobStatus
from core.errors import ConfigError, InputError
from core.progress import progress_view
from core.schema import attempts
from core.settings import REEL_SECONDS, Settings

TEST_PROMPT = "A slow push-in on a steaming cup of coffee on a sunlit wooden table, morning light"


def alone(settings: Settings, name: str) -> Settings:
    """The settings with `name` the only enabled provider (enabled even if the config has it off), at the head of
    every quality tier, and its video delivered as made."""
    video = settings.video
    if name not in video.providers:
        raise ConfigError("config/video_config.json", f"no provider named {name!r} (the providers: "
                                                      f"{', '.join(video.providers)})", "video_generation.providers")
    providers = {n: entry.model_copy(update={"enabled": n == name}) for n, entry in video.providers.items()}
    tiers = {q: tier.model_copy(update={"providers": []}) for q, tier in video.quality_tiers.items()}
    composer = video.composer.model_copy(update={"provider_videos": False, "scenes": False})
    video = video.model_copy(update={"providers": providers, "quality_tiers": tiers, "default_provider": name,
                                     "fallback_providers": [], "composer": composer})
    return settings.model_copy(update={"video": video})


async def try_provider(daemon: Daemon, name: str, yes: bool) -> int:
    """Estimate, confirm, make one video, then report each step; exit 0 when the video was made."""
    provider = daemon.runner.providers[name]
    if missing := provider.missing_requirements():
        raise InputError(f"providers test {name}: set {', '.join(missing)} in the environment or .env first")
    if (refusal := provider.misconfigured()) is not None:
        raise InputError(f"providers test {name}: cannot run as configured: {refusal}")
    account = daemon.settings.app.accounts[0]
    seconds = float(REEL_SECONDS[0])
    brief = Brief(account=account.name, template=account.brief_template, topic=TEST_PROMPT, hook=TEST_PROMPT,
                  beats=["1", "2", "3"], hashtags=[], cta="-", visual_prompt=TEST_PROMPT, duration_s=seconds)
    look = Look.of(account, daemon.settings.app.content, daemon.home)
    estimate = provider.estimate_cost(GenerationRequest(0, brief, look, daemon.home.data_dir))
    model = getattr(provider.params, "model", provider.type_name)
    print(f"providers test {name}: one {seconds:g} s video from {model} (type {provider.type_name}), estimated "
          f"${estimate:.2f}, billed to your account and counted in the budget")
    if not yes:
        if not sys.stdin.isatty():
            raise InputError(f"providers test {name}: confirm with --yes (nothing was sent)")
        if input("go ahead? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing was sent")
            return 1
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    job_id = await daemon.planner.enqueue_prompt(f"{TEST_PROMPT} (provider test {stamp})", account.name, 1000,
                                                 "standard", seconds)
    progress = progress_view(enabled=True)
    try:
        outcome = await daemon.worker.run_job(job_id, progress)
    finally:
        progress.close()
    for row in await daemon.db.fetch_all(select(attempts).where(attempts.c.job_id == job_id)
                                         .order_by(attempts.c.id)):
        charged = "not reported" if row.actual_cost_usd is None else f"${row.actual_cost_usd:.2f}"
        print(f"  attempt {row.id}: task {row.provider_task_id or '(none)'}, ended {row.state}; estimated "
              f"${row.estimated_cost_usd:.2f}, charged {charged}"
              + (f"; {row.error_class}: {row.error}" if row.error else ""))
    if outcome.status != JobStatus.DONE:
        print(f"job {job_id} {outcome.status}: {outcome.error}", file=sys.stderr)
        return 1
    print(f"  video: {outcome.path} ({outcome.duration_s:.1f} s, passed the platform's preflight)")
    print(f"providers test {name}: OK (job {job_id}, ${outcome.cost_usd:.2f})")
    return 0
