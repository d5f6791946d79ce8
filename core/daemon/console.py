"""The operator console's HTTP API (`python main.py serve`): the queue, the budget, the providers and the videos over
JSON (and Prometheus metrics), for a phone or a script, behind a bearer token from the environment.

What `status --json` prints is what `GET /api/status` answers, so the two cannot disagree. Jobs queued here are
worked by `run` or `worker`, as the CLI's are. A video is served from data/videos/ only (with range requests, so a
browser can seek); any other path is a 404."""
from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, select

from core.daemon.daemon import Daemon
from core.engine.states import Cancellation
from core.engine.status import budget_view, job_rows
from core.errors import DaemonError
from core.schema import video_jobs

DAEMON = web.AppKey("daemon", Daemon)
TOKEN = web.AppKey("token", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_app(daemon: Daemon, token: str) -> web.Application:
    app = web.Application(middlewares=[_authorized, _errors_as_json])
    app[DAEMON], app[TOKEN] = daemon, token
    app.router.add_get("/api/status", status)
    app.router.add_post("/api/jobs", create_job)
    app.router.add_post("/api/jobs/{id}/cancel", cancel_job)
    app.router.add_get("/api/providers", providers)
    app.router.add_post("/api/providers/{name}/enable", enable_provider)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/videos/{account}/{name}", video)
    return app


def problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _authorized(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route needs `Authorization: Bearer <CONSOLE_TOKEN>`, compared in constant time."""
    sent = request.headers.get("Authorization", "")
    expected = f"Bearer {request.app[TOKEN]}"
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        return problem(401, "missing or wrong bearer token")
    return await handler(request)


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad input is a 400 with the CLI's one line; the secrets in it masked as everywhere."""
    try:
        return await handler(request)
    except DaemonError as exc:
        return problem(400, request.app[DAEMON].secrets.redact(str(exc)))


async def status(request: web.Request) -> web.Response:
    ledger = request.app[DAEMON].ledger
    jobs = await job_rows(ledger)
    videos = request.app[DAEMON].home.videos_dir
    for job in jobs:
        file = Path(job["file"]) if job["file"] else None
        job["video_url"] = f"/videos/{file.parent.name}/{file.name}" if file and file.parent.parent == videos else None
    return web.json_response({"jobs": jobs, "budget": await budget_view(ledger)})


async def create_job(request: web.Request) -> web.Response:
    """`{"prompt", "priority"?, "quality"?, "duration_s"?, "account"?}`, checked as `generate` checks them."""
    try:
        body: Any = await request.json()
    except ValueError:
        return problem(400, "the body must be a JSON object")
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
        return problem(400, "prompt: a string is required")
    priority, quality = body.get("priority", 0), body.get("quality", "standard")
    duration, account = body.get("duration_s"), body.get("account")
    if not isinstance(priority, int) or quality not in ("standard", "hd", "premium") or \
            not (duration is None or isinstance(duration, (int, float))) or \
            not (account is None or isinstance(account, str)):
        return problem(400, "priority: an integer; quality: standard, hd or premium; duration_s: seconds; "
                            "account: a name")
    job_id = await request.app[DAEMON].planner.enqueue_prompt(body["prompt"], account, priority, quality,
                                                              None if duration is None else float(duration))
    return web.json_response({"id": job_id, "status": "queued"}, status=201)


async def cancel_job(request: web.Request) -> web.Response:
    job_id = request.match_info["id"]
    if not job_id.isdigit():
        return problem(404, f"no job {job_id}")
    result = await request.app[DAEMON].worker.cancel(int(job_id), "cancelled from the console")
    return web.json_response({"id": int(job_id), "result": "cancelled" if result == Cancellation.CANCELLED
                              else "stopping at its next step"})


async def providers(request: web.Request) -> web.Response:
    return web.json_response({"providers": await provider_health(request.app[DAEMON])})


async def provider_health(daemon: Daemon) -> list[dict[str, Any]]:
    """Each configured provider: whether it can run (its key, its config) and whether it is paused or disabled now."""
    async with daemon.db.transaction() as conn:
        unavailable = await daemon.runner.health.unavailable(conn)
    listed = []
    for name, entry in daemon.settings.video.providers.items():
        provider = daemon.runner.providers[name]
        missing, refusal = provider.missing_requirements(), provider.misconfigured()
        reason, until = unavailable.get(name, (None, None))
        listed.append({"name": name, "type": entry.type, "enabled": entry.enabled,
                       "ready": entry.enabled and not missing and refusal is None and reason is None,
                       "missing": missing, "misconfigured": refusal, "unavailable": reason,
                       "until": until.isoformat() if until else None})
    return listed


async def enable_provider(request: web.Request) -> web.Response:
    """As `enable NAME`: a pause, a disable and the failure count cleared; the jobs waiting for it looked at again."""
    daemon, name = request.app[DAEMON], request.match_info["name"]
    if name not in daemon.settings.video.providers:
        return problem(404, f"no provider named {name!r}")
    woken = await daemon.worker.enable(name)
    return web.json_response({"name": name, "enabled": True, "jobs_woken": woken})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' text format: jobs by status, the budget's spend, reservations and caps, providers available."""
    daemon = request.app[DAEMON]
    registry = CollectorRegistry()
    jobs = Gauge("influencer_jobs", "jobs by status", ["status"], registry=registry)
    for status_name, count in await daemon.db.fetch_all(
            select(video_jobs.c.status, func.count()).group_by(video_jobs.c.status)):
        jobs.labels(status_name).set(count)
    budget = {field: Gauge(f"influencer_budget_{field}", f"the budget's {field.replace('_', ' ')}", ["period"],
                           registry=registry) for field in ("limit_usd", "spent_usd", "reserved_usd")}
    for period, figures in (await budget_view(daemon.ledger)).items():
        for field, gauge in budget.items():
            gauge.labels(period).set(figures[field])
    listed = await provider_health(daemon)
    ready = Gauge("influencer_provider_ready", "1 when the provider can take a job now", ["provider"],
                  registry=registry)
    for provider in listed:
        ready.labels(provider["name"]).set(1 if provider["ready"] else 0)
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def video(request: web.Request) -> web.StreamResponse:
    """A delivered video, only from data/videos/<account>/ (a name with a path in it is not one)."""
    videos = request.app[DAEMON].home.videos_dir.resolve()
    account, name = request.match_info["account"], request.match_info["name"]
    path = (videos / account / name).resolve()
    if "/" in account + name or path.parent.parent != videos or path.suffix != ".mp4" or not path.is_file():
        return problem(404, "no such video")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})
