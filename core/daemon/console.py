"""The operator console's HTTP API (`python main.py serve`): the queue, the budget, the providers and the videos over
JSON (and Prometheus metrics), for a phone or a script, behind a bearer token from the environment.

What `status --json` prints is what `GET /api/status` answers, so the two cannot disagree. Jobs queued here are
worked by `run` or `worker`, as the CLI's are. A video is served from data/videos/ only (with range requests, so a
browser can seek); any other path is a 404."""
from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from core.daemon.daemon import Daemon
from core.daemon.dashboard import (
    TrendScores,
    awaiting_briefs,
    board,
    jobs_with_links,
    latest_report,
    render_login,
    render_page,
    render_parts,
)
from core.daemon.openapi import OPENAPI
from core.engine import queue, review
from core.engine.states import PENDING, Cancellation
from core.engine.status import budget_view
from core.errors import DaemonError
from core.schema import attempts, budget_alerts, posts, video_jobs
from core.storage import as_utc, utcnow

TRENDS_LISTED = 20
LATENCY_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)  # a video takes seconds to an hour
REPORTS_LISTED = 30
DISABLE_HOURS = 24 * 365
COOKIE = "console"
COOKIE_DAYS = 30
STREAM_EVERY_S = 1.0
KEEPALIVE_S = 15.0
DAEMON = web.AppKey("daemon", Daemon)
TOKEN = web.AppKey("token", str)
SCORES = web.AppKey("scores", TrendScores)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_app(daemon: Daemon, token: str) -> web.Application:
    app = web.Application(middlewares=[_authorized, _errors_as_json])
    app[DAEMON], app[TOKEN], app[SCORES] = daemon, token, TrendScores(daemon, TRENDS_LISTED)
    app.router.add_get("/", page)
    app.router.add_post("/login", login)
    app.router.add_get("/board", board_parts)
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/stream", stream)
    app.router.add_get("/api/jobs", list_jobs)
    app.router.add_post("/api/jobs", create_job)
    app.router.add_get("/api/jobs/{id}", job_detail)
    app.router.add_post("/api/jobs/{id}/cancel", cancel_job)
    app.router.add_post("/api/jobs/{id}/retry", retry_job)
    app.router.add_post("/api/jobs/{id}/approve", approve_job)
    app.router.add_post("/api/jobs/{id}/reject", reject_job)
    app.router.add_patch("/api/jobs/{id}/brief", edit_brief)
    app.router.add_get("/api/briefs", list_briefs)
    app.router.add_get("/api/trends", list_trends)
    app.router.add_get("/api/budget", budget)
    app.router.add_get("/api/reports", list_reports)
    app.router.add_get("/reports/latest", report)
    app.router.add_get("/api/providers", providers)
    app.router.add_post("/api/providers/{name}/enable", enable_provider)
    app.router.add_post("/api/providers/{name}/disable", disable_provider)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/videos/{account}/{name}", video)
    return app


def problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _authorized(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route needs `Authorization: Bearer <CONSOLE_TOKEN>` or the dashboard's cookie, compared in constant
    time; the page itself shows the sign-in form instead. A change made with the cookie must be a JSON request (a
    form on another site cannot send one), besides the cookie being SameSite."""
    token = request.app[TOKEN].encode()
    bearer = hmac.compare_digest(request.headers.get("Authorization", "").encode(), b"Bearer " + token)
    cookie = hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), token)
    if request.path == "/login" or (request.path == "/" and not (bearer or cookie)):
        return await (handler(request) if request.path == "/login" else _sign_in())
    if not (bearer or cookie):
        return problem(401, "missing or wrong bearer token")
    if not bearer and request.method not in ("GET", "HEAD") and request.content_type != "application/json":
        return problem(403, "a change from the dashboard must be a JSON request")
    return await handler(request)


async def _sign_in(message: str = "", status: int = 200) -> web.Response:
    return web.Response(text=render_login(message), content_type="text/html", status=status)


async def login(request: web.Request) -> web.Response:
    """The sign-in form's token: right, the cookie is set and the page shown; wrong, the form again (401)."""
    sent = str((await request.post()).get("token", ""))
    if not hmac.compare_digest(sent.encode(), request.app[TOKEN].encode()):
        return await _sign_in("That is not the console token.", 401)
    response = web.HTTPSeeOther("/")
    response.set_cookie(COOKIE, sent, httponly=True, samesite="Strict", path="/", max_age=COOKIE_DAYS * 86_400)
    raise response


async def page(request: web.Request) -> web.Response:
    return web.Response(text=render_page(await _board(request)), content_type="text/html")


async def board_parts(request: web.Request) -> web.Response:
    return web.json_response(render_parts(await _board(request)))


async def _board(request: web.Request) -> dict[str, Any]:
    daemon = request.app[DAEMON]
    return await board(daemon, await provider_health(daemon), await request.app[SCORES].best())


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: `status` (what GET /api/status answers) whenever it changes, looked at every second."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    daemon, last, quiet = request.app[DAEMON], "", 0.0
    try:
        while True:
            now = json.dumps({"jobs": await jobs_with_links(daemon), "budget": await budget_view(daemon.ledger)})
            if now != last:
                await response.write(f"event: status\ndata: {now}\n\n".encode())
                last, quiet = now, 0.0
            elif quiet >= KEEPALIVE_S:
                await response.write(b": still here\n\n")
                quiet = 0.0
            await asyncio.sleep(STREAM_EVERY_S)
            quiet += STREAM_EVERY_S
    except (ConnectionResetError, ConnectionError):
        pass  # the browser went away
    return response


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad input is a 400 with the CLI's one line; the secrets in it masked as everywhere."""
    try:
        return await handler(request)
    except DaemonError as exc:
        return problem(400, request.app[DAEMON].secrets.redact(str(exc)))


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def list_jobs(request: web.Request) -> web.Response:
    return web.json_response({"jobs": await jobs_with_links(request.app[DAEMON])})


async def list_briefs(request: web.Request) -> web.Response:
    """The briefs awaiting review, each with its job."""
    daemon = request.app[DAEMON]
    awaiting = await awaiting_briefs(daemon, await jobs_with_links(daemon))
    return web.json_response({"briefs": [{"job_id": job["id"], "account": job["account"], "topic": job["topic"],
                                          "brief": job["brief"]} for job in awaiting]})


async def list_trends(request: web.Request) -> web.Response:
    """The stored trends not yet made, best first, with their scores and who would make each."""
    return web.json_response({"trends": await request.app[SCORES].best()})


async def budget(request: web.Request) -> web.Response:
    """The caps, what is spent and reserved today and this month, and the alerts raised in those periods."""
    daemon = request.app[DAEMON]
    day, month = daemon.ledger.periods(utcnow())
    caps = daemon.settings.video.budget
    alerts = await daemon.db.fetch_all(select(budget_alerts).where(budget_alerts.c.period.in_((day, month)))
                                       .order_by(budget_alerts.c.id))
    return web.json_response({
        "caps": {"per_video_usd": caps.per_video_limit_usd, "daily_usd": caps.daily_limit_usd,
                 "monthly_usd": caps.monthly_limit_usd, "alert_thresholds_pct": caps.alert_thresholds_pct},
        "periods": {"day": day, "month": month}, **await budget_view(daemon.ledger),
        "alerts": [{"scope": a.scope, "period": a.period, "threshold_pct": a.threshold_pct,
                    "used_usd": round(a.used_usd, 2), "cap_usd": a.cap_usd} for a in alerts]})


async def list_reports(request: web.Request) -> web.Response:
    home = request.app[DAEMON].home
    found = sorted(home.reports_dir.rglob("report.html"), key=lambda path: path.stat().st_mtime, reverse=True)
    return web.json_response({"reports": [{"path": home.display(path), "written_at": datetime.fromtimestamp(
        path.stat().st_mtime, timezone.utc).isoformat()} for path in found[:REPORTS_LISTED]]})


async def status(request: web.Request) -> web.Response:
    daemon = request.app[DAEMON]
    return web.json_response({"jobs": await jobs_with_links(daemon), "budget": await budget_view(daemon.ledger)})


def _job_id(request: web.Request) -> int:
    job_id = request.match_info["id"]
    if not job_id.isdigit():
        raise web.HTTPNotFound(text=json.dumps({"error": f"no job {job_id}"}), content_type="application/json")
    return int(job_id)


async def job_detail(request: web.Request) -> web.Response:
    """One job as the status lists it, with its brief."""
    daemon, job_id = request.app[DAEMON], _job_id(request)
    found = [job for job in await jobs_with_links(daemon) if job["id"] == job_id]
    if not found:
        return problem(404, f"no job {job_id}")
    _, brief = await review.brief_of(daemon.db, job_id)
    return web.json_response({**found[0], "brief": brief.model_dump(mode="json")})


async def retry_job(request: web.Request) -> web.Response:
    """A failed or cancelled job made again, as a new job from its brief: 201 `{"id", "retry_of", "status"}`."""
    daemon, job_id = request.app[DAEMON], _job_id(request)
    made = await daemon.planner.retry(job_id)
    status = (await queue.job_state(daemon.db, made)).status
    return web.json_response({"id": made, "retry_of": job_id, "status": status}, status=201)


async def approve_job(request: web.Request) -> web.Response:
    job_id = _job_id(request)
    await review.approve(request.app[DAEMON].db, job_id)
    return web.json_response({"id": job_id, "status": "queued"})


async def reject_job(request: web.Request) -> web.Response:
    job_id, body = _job_id(request), await _json_object(request, empty_ok=True)
    reason = body.get("reason", "rejected in the console")
    if not isinstance(reason, str) or not reason.strip():
        return problem(400, "reason: a short text")
    await review.reject(request.app[DAEMON].db, job_id, reason[:200])
    return web.json_response({"id": job_id, "status": "cancelled"})


async def edit_brief(request: web.Request) -> web.Response:
    """`{"hook"?, "beats"?, "cta"?, "caption"?, "hashtags"?, "visual_prompt"?}` on a brief awaiting approval."""
    job_id, body = _job_id(request), await _json_object(request)
    edited = await review.edit(request.app[DAEMON].db, job_id, body)
    return web.json_response({"id": job_id, "brief": edited.model_dump(mode="json")})


async def _json_object(request: web.Request, empty_ok: bool = False) -> dict[str, Any]:
    if empty_ok and not await request.read():
        return {}
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "the body must be a JSON object"}),
                                 content_type="application/json")
    return body


async def report(request: web.Request) -> web.StreamResponse:
    """The newest HTML report the daemon wrote."""
    latest = latest_report(request.app[DAEMON])
    if latest is None:
        return problem(404, "no report yet: the daemon writes one daily (or run `report`)")
    return web.FileResponse(latest, headers={"Content-Type": "text/html"})


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
    job_id = _job_id(request)
    result = await request.app[DAEMON].worker.cancel(job_id, "cancelled from the console")
    return web.json_response({"id": job_id, "result": "cancelled" if result == Cancellation.CANCELLED
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


async def disable_provider(request: web.Request) -> web.Response:
    """`{"hours"?}` (a year when left out, as an auth failure's): no job is given to it until then or `enable`."""
    daemon, name = request.app[DAEMON], request.match_info["name"]
    if name not in daemon.settings.video.providers:
        return problem(404, f"no provider named {name!r}")
    hours = (await _json_object(request, empty_ok=True)).get("hours", DISABLE_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= DISABLE_HOURS:
        return problem(400, f"hours: a number above 0, at most {DISABLE_HOURS}")
    await daemon.runner.health.disable(name, float(hours), "disabled from the console")
    return web.json_response({"name": name, "enabled": False, "hours": hours})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' text format: jobs by status, the budget's spend, reservations and caps, providers available."""
    daemon = request.app[DAEMON]
    registry = CollectorRegistry()
    jobs = Gauge("influencer_jobs", "jobs by status", ["status"], registry=registry)
    counted = await daemon.db.fetch_all(select(video_jobs.c.status, func.count()).group_by(video_jobs.c.status))
    for status_name, count in counted:
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
    depth = Gauge("influencer_queue_depth", "jobs waiting to be made (queued, waiting or awaiting approval)",
                  registry=registry)
    depth.set(sum(count for status_name, count in counted if status_name in PENDING))
    posts_by = Gauge("influencer_posts", "posts by platform and state", ["platform", "state"], registry=registry)
    for platform, state, count in await daemon.db.fetch_all(
            select(posts.c.platform, posts.c.state, func.count()).group_by(posts.c.platform, posts.c.state)):
        posts_by.labels(platform, state).set(count)
    latency = Histogram("influencer_provider_latency_seconds", "how long each provider's finished attempts of the "
                        "last day took, from reservation to their end", ["provider", "outcome"],
                        buckets=LATENCY_BUCKETS, registry=registry)
    for attempt in await daemon.db.fetch_all(
            select(attempts.c.provider, attempts.c.state, attempts.c.started_at, attempts.c.finished_at).where(
                attempts.c.finished_at.is_not(None), attempts.c.started_at >= utcnow() - timedelta(days=1))):
        took = (as_utc(attempt.finished_at) - as_utc(attempt.started_at)).total_seconds()
        latency.labels(attempt.provider, attempt.state).observe(max(took, 0.0))
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def video(request: web.Request) -> web.StreamResponse:
    """A delivered video, only from data/videos/<account>/ (a name with a path in it is not one)."""
    videos = request.app[DAEMON].home.videos_dir.resolve()
    account, name = request.match_info["account"], request.match_info["name"]
    path = (videos / account / name).resolve()
    if "/" in account + name or path.parent.parent != videos or path.suffix != ".mp4" or not path.is_file():
        return problem(404, "no such video")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})
