"""What `status` shows: each job's stage, progress, provider and cost, and the budget's state this day and month."""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select

from core.engine.ledger import Ledger
from core.engine.states import OPEN_STATES, AttemptState, JobStatus, LedgerKind
from core.schema import attempts, briefs, cost_ledger, service_calls, trends, video_jobs
from core.storage import Database, as_utc, utcnow

if TYPE_CHECKING:
    from core.engine.runner import JobOutcome


async def job_rows(ledger: Ledger, limit: int = 50) -> list[dict[str, Any]]:
    """The newest `limit` jobs, each with its topic, account and file, its latest attempt's stage and progress, what
    it cost, and the scenes of its delivered video."""
    db = ledger.db
    jobs = await db.fetch_all(
        select(video_jobs, trends.c.topic).join(briefs, briefs.c.id == video_jobs.c.brief_id)
        .join(trends, trends.c.id == briefs.c.trend_id).order_by(video_jobs.c.id.desc()).limit(limit))
    ids = [job.id for job in jobs]
    tries: dict[int, list[Any]] = {}
    for row in await db.fetch_all(select(attempts).where(attempts.c.job_id.in_(ids)).order_by(attempts.c.id)):
        tries.setdefault(row.job_id, []).append(row)
    latest = {job_id: rows[-1] for job_id, rows in tries.items()}
    charged = dict(await db.fetch_all(
        select(cost_ledger.c.job_id, func.sum(cost_ledger.c.amount_usd))
        .where(cost_ledger.c.job_id.in_(ids), cost_ledger.c.kind == LedgerKind.CHARGE).group_by(cost_ledger.c.job_id)))
    typical = await _median_durations(db)
    rows = []
    for job in jobs:
        attempt = latest.get(job.id)
        running = job.status == JobStatus.RUNNING and attempt is not None and attempt.state in OPEN_STATES
        ended = (1.0 if job.status == JobStatus.DONE else None, None)
        progress, eta = _progress(attempt, typical) if running else ended
        rows.append({
            "id": job.id,
            "topic": job.topic,
            "account": job.account,
            "file": job.output_path,
            "status": job.status,
            "stage": attempt.state if running and attempt is not None else job.status,
            "provider": attempt.provider if attempt is not None else None,
            "progress": progress,
            "eta_s": eta,
            "cost_usd": round(float(charged.get(job.id, 0.0)), 6),
            "error": job.error,
            "attempts": [_attempt_view(a) for a in tries.get(job.id, [])],
            "scenes": job.timeline or [],
        })
    return rows


def _progress(attempt: Any, typical: dict[str, float]) -> tuple[float | None, float | None]:
    """Progress as the provider reports it, else as far through that provider's median duration; and the ETA."""
    elapsed = (utcnow() - as_utc(attempt.started_at)).total_seconds()
    if attempt.progress:
        return attempt.progress, round(elapsed * (1 - attempt.progress) / attempt.progress, 1)
    median = typical.get(attempt.provider)
    if median is None:
        return None, None
    return round(min(elapsed / median, 0.99), 3), round(max(median - elapsed, 0.0), 1)


async def _median_durations(db: Database, recent: int = 20) -> dict[str, float]:
    """Each provider's median attempt duration over its last `recent` successful attempts."""
    rows = await db.fetch_all(select(attempts.c.provider, attempts.c.started_at, attempts.c.finished_at)
                              .where(attempts.c.state == AttemptState.DONE).order_by(attempts.c.id.desc()).limit(500))
    durations: dict[str, list[float]] = {}
    for row in rows:
        spans = durations.setdefault(row.provider, [])
        if len(spans) < recent and row.finished_at is not None:
            spans.append((as_utc(row.finished_at) - as_utc(row.started_at)).total_seconds())
    return {provider: statistics.median(spans) for provider, spans in durations.items() if spans}


async def budget_view(ledger: Ledger) -> dict[str, dict[str, float]]:
    day, month = ledger.periods(utcnow())
    caps = ledger.caps
    view = {}
    for name, period, key, limit in (("daily", "budget_day", day, caps.daily_limit_usd),
                                     ("monthly", "budget_month", month, caps.monthly_limit_usd)):
        sums = dict(await ledger.db.fetch_all(
            select(cost_ledger.c.kind, func.sum(cost_ledger.c.amount_usd)).where(cost_ledger.c[period] == key)
            .group_by(cost_ledger.c.kind)))
        calls = (await ledger.db.fetch_all(select(  # paid calls that are no video's (service_calls)
            func.coalesce(func.sum(service_calls.c.actual_cost_usd), 0.0),
            func.coalesce(func.sum(case((service_calls.c.state == AttemptState.RESERVED,
                                         service_calls.c.estimated_cost_usd), else_=0.0)), 0.0))
            .where(service_calls.c[period] == key)))[0]
        spent = float(sums.get(LedgerKind.CHARGE, 0.0)) + float(calls[0])
        reserved = float(sums.get(LedgerKind.RESERVE, 0.0)) + float(sums.get(LedgerKind.RELEASE, 0.0)) + float(calls[1])
        view[name] = {"limit_usd": limit, "spent_usd": round(spent, 6), "reserved_usd": round(reserved, 6)}
    return view


async def job_result(db: Database, outcome: "JobOutcome") -> dict[str, Any]:
    """A finished job as `generate --wait --json` prints it, with every attempt it took."""
    rows = await db.fetch_all(select(attempts).where(attempts.c.job_id == outcome.job_id).order_by(attempts.c.id))
    return {
        "id": outcome.job_id, "status": outcome.status, "provider": outcome.provider,
        "path": str(outcome.path) if outcome.path else None,
        "thumbnail": str(outcome.thumbnail) if outcome.thumbnail else None,
        "duration_s": round(outcome.duration_s, 3), "cost_usd": outcome.cost_usd, "error": outcome.error,
        "attempts": [_attempt_view(a) for a in rows],
    }


def _attempt_view(row: Any) -> dict[str, Any]:
    return {"provider": row.provider, "state": row.state, "error_class": row.error_class,
            "cost_usd": row.actual_cost_usd or 0.0}


def _scenes(scenes: list[dict[str, Any]]) -> str:
    """A timeline in a table cell: how many scenes, from where."""
    sources = sorted({scene["source"] for scene in scenes})
    return f"{len(scenes)} ({', '.join(sources)})" if scenes else ""


def print_status(jobs: list[dict[str, Any]], budget: dict[str, dict[str, float]]) -> None:
    table = Table(title="jobs (newest first)")
    for column in ("id", "topic", "account", "status", "stage", "provider", "progress", "ETA", "cost", "attempts",
                   "scenes", "file", "error"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        progress = "" if job["progress"] is None else f"{job['progress']:.0%}"
        eta = "" if job["eta_s"] is None else f"{job['eta_s']:.0f} s"
        tried = " → ".join(f"{a['provider']} {a['error_class'] or a['state']}" for a in job["attempts"])
        table.add_row(str(job["id"]), job["topic"][:40], job["account"], job["status"], job["stage"],
                      job["provider"] or "", progress, eta, f"${job['cost_usd']:.2f}", tried, _scenes(job["scenes"]),
                      Path(job["file"]).name if job["file"] else "", (job["error"] or "")[:60])
    console = Console()
    console.print(table)
    for name, figures in budget.items():
        console.print(f"{name} budget: ${figures['spent_usd']:.2f} spent, ${figures['reserved_usd']:.2f} reserved "
                       f"of ${figures['limit_usd']:.2f}")
