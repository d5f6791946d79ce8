"""The operator console's web dashboard: one server-rendered page (no front-end build step), usable on a phone.

It shows the live queue (stage, progress, ETA), the briefs awaiting review (approve, edit, reject), a gallery that
plays each delivered Reel with its caption and cost, the budget against its caps and alert thresholds, provider
health with enable buttons, the latest report and the best trends with their scores. The page reloads its parts
from `/board` whenever the server-sent events of `/api/stream` say something changed; a part being edited (a brief's
form) is left alone until its set of briefs changes. Logging in sets the console token as an HttpOnly, SameSite
cookie; every change is a JSON request the API checks as it checks a script's."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from content.media.sidecar import paths as sidecar_paths
from core.daemon.daemon import Daemon
from core.engine import review
from core.engine.states import JobStatus
from core.engine.status import budget_view, job_rows

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
ENDED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)
GALLERY = 12
TRENDS = 8
SCORES_KEPT_S = 60.0


async def jobs_with_links(daemon: Daemon) -> list[dict[str, Any]]:
    """What `status --json` lists, each job with the URL its delivered video is served at."""
    jobs = await job_rows(daemon.ledger)
    videos = daemon.home.videos_dir
    for job in jobs:
        file = Path(job["file"]) if job["file"] else None
        job["video_url"] = f"/videos/{file.parent.name}/{file.name}" if file and file.parent.parent == videos else None
    return jobs


async def board(daemon: Daemon, providers: list[dict[str, Any]], trends: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the page shows, read once."""
    jobs = await jobs_with_links(daemon)
    thresholds = daemon.settings.video.budget.alert_thresholds_pct
    budget: dict[str, dict[str, Any]] = {}
    for period, figures in (await budget_view(daemon.ledger)).items():
        used = figures["spent_usd"] + figures["reserved_usd"]
        used_pct = round(100 * used / figures["limit_usd"], 1) if figures["limit_usd"] else 0.0
        budget[period] = {**figures, "used_pct": used_pct,
                          "alert": max([pct for pct in thresholds if used_pct >= pct], default=None)}
    gallery = [{**job, "caption": _caption(job["file"])} for job in jobs
               if job["status"] == JobStatus.DONE and job["video_url"]][:GALLERY]
    return {"jobs": jobs, "budget": budget, "thresholds": thresholds, "providers": providers,
            "awaiting": await awaiting_briefs(daemon, jobs), "gallery": gallery, "trends": trends[:TRENDS],
            "report": latest_report(daemon) is not None, "ended": [str(s) for s in ENDED]}


async def awaiting_briefs(daemon: Daemon, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The jobs awaiting approval, each with its brief."""
    awaiting = []
    for job in jobs:
        if job["status"] == JobStatus.AWAITING_APPROVAL:
            _, brief = await review.brief_of(daemon.db, job["id"])
            awaiting.append({**job, "brief": brief.model_dump(mode="json")})
    return awaiting


class TrendScores:
    """The best trends not yet made — their score and the persona that would make each (or why none) — worked out
    at most once a minute: scoring reads every stored trend, and the page asks for its parts whenever the queue
    moves."""

    def __init__(self, daemon: Daemon, count: int) -> None:
        self.daemon = daemon
        self.count = count
        self._at = -math.inf
        self._best: list[dict[str, Any]] = []

    async def best(self) -> list[dict[str, Any]]:
        if time.monotonic() - self._at >= SCORES_KEPT_S:
            self._best = [{"topic": c.trend.topic, "theme": c.trend.theme, "source": c.trend.source,
                           "score": round(c.score, 3), "account": c.account.name if c.account else None,
                           "passed_over": c.passed_over}
                          for c in (await self.daemon.planner.candidates())[:self.count]]
            self._at = time.monotonic()
        return self._best


def latest_report(daemon: Daemon) -> Path | None:
    reports = sorted(daemon.home.reports_dir.rglob("report.html"), key=lambda path: path.stat().st_mtime)
    return reports[-1] if reports else None


def render_page(view: dict[str, Any]) -> str:
    return _env.get_template("dashboard.html.j2").render(view=view, parts=render_parts(view))


def render_parts(view: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each live part of the page, and the key that changes when it must be redrawn."""
    parts = {}
    for name in ("queue", "review", "gallery", "budget", "providers", "trends"):
        html = _env.get_template(f"part_{name}.html.j2").render(view=view)
        key = html if name != "review" else json.dumps([job["id"] for job in view["awaiting"]])
        parts[name] = {"html": html, "key": str(hash(key))}
    return parts


def render_login(message: str = "") -> str:
    return _env.get_template("login.html.j2").render(message=message)


def _caption(file: str | None) -> str:
    """The post's caption, from the video's sidecar."""
    if not file:
        return ""
    try:
        return str(json.loads(sidecar_paths(Path(file))[0].read_text(encoding="utf-8")).get("caption", ""))
    except (OSError, ValueError, AttributeError):
        return ""
