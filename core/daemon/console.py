"""The operator console's HTTP API (`python main.py serve`): the queue, the budget and the videos over JSON, for a
phone or a script, behind a bearer token from the environment.

What `status --json` prints is what `GET /api/status` answers, so the two cannot disagree. Jobs queued here are
worked by `run` or `worker`, as the CLI's are. A video is served from data/videos/ only (with range requests, so a
browser can seek); any other path is a 404."""
from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from core.daemon.daemon import Daemon
from core.engine.states import Cancellation
from core.engine.status import budget_view, job_rows
from core.errors import DaemonError

DAEMON = web.AppKey("daemon", Daemon)
TOKEN = web.AppKey("token", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_app(daemon: Daemon, token: str) -> web.Application:
    app = web.Application(middlewares=[_authorized, _errors_as_json])
    app[DAEMON], app[TOKEN] = daemon, token
    app.router.add_get("/api/status", status)
    app.router.add_post("/api/jobs", create_job)
    app.router.add_post("/api/jobs/{id}/cancel", cancel_job)
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


async def video(request: web.Request) -> web.StreamResponse:
    """A delivered video, only from data/videos/<account>/ (a name with a path in it is not one)."""
    videos = request.app[DAEMON].home.videos_dir.resolve()
    account, name = request.match_info["account"], request.match_info["name"]
    path = (videos / account / name).resolve()
    if "/" in account + name or path.parent.parent != videos or path.suffix != ".mp4" or not path.is_file():
        return problem(404, "no such video")
    return web.FileResponse(path, headers={"Content-Type": "video/mp4"})
