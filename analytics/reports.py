"""The cycle summary report: videos made, cost by provider, success rate, mean generation time — HTML, CSV, JSON."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from content.video_utils import contact_sheet_path
from core.schema import attempts, briefs, cost_ledger, prompt_outcomes, video_jobs
from core.storage import Database, as_utc, utcnow
from trends.collector import failed_runs

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
PROVIDER_COLUMNS = ["provider", "attempts", "succeeded", "failed", "success_rate", "cost_usd", "mean_generation_s"]


async def build_summary(db: Database, days: float = 1.0, now: datetime | None = None) -> dict[str, Any]:
    """Figures for the last `days` days, from the jobs, attempts and ledger tables."""
    end = now or utcnow()
    start = end - timedelta(days=days)
    attempt_rows = await db.fetch_all(select(attempts).where(attempts.c.started_at >= start))
    charge_rows = await db.fetch_all(
        select(cost_ledger.c.provider, cost_ledger.c.amount_usd)
        .where(cost_ledger.c.kind == "charge", cost_ledger.c.created_at >= start)
    )
    job_rows = await db.fetch_all(
        select(video_jobs, briefs.c.content)
        .join(briefs, briefs.c.id == video_jobs.c.brief_id)
        .where(video_jobs.c.updated_at >= start)
        .order_by(video_jobs.c.id)
    )
    providers = _provider_table(attempt_rows, charge_rows)
    statuses = pd.Series([row.status for row in job_rows], dtype="object").value_counts().to_dict()
    done, failed = int(statuses.get("done", 0)), int(statuses.get("failed", 0))
    succeeded = [a for a in attempt_rows if a.state == "done" and a.finished_at]
    winners = {a.job_id: a for a in succeeded}
    return {
        "generated_at": end.isoformat(timespec="seconds"),
        "window": {"from": start.isoformat(timespec="seconds"), "to": end.isoformat(timespec="seconds"), "days": days},
        "videos_made": done,
        "jobs_failed": failed,
        "jobs_waiting_budget": int(statuses.get("waiting_budget", 0)),
        "jobs_queued": int(statuses.get("queued", 0)),
        "success_rate": round(done / (done + failed), 4) if done + failed else None,
        "total_cost_usd": round(float(sum(row.amount_usd for row in charge_rows)), 2),
        "mean_generation_s": _mean_seconds(succeeded),
        "providers": providers,
        "videos": [_video(row, winners.get(row.id)) for row in job_rows if row.status == "done"],
        "failures": [{"job_id": row.id, "topic": row.content["topic"], "error": row.error}
                     for row in job_rows if row.status == "failed"],
        "trend_source_failures": await failed_runs(db, start),
        "prompts_by_theme": _prompt_table(await db.fetch_all(
            select(prompt_outcomes).where(prompt_outcomes.c.created_at >= start))),
    }


async def write_report(db: Database, reports_dir: Path, days: float = 1.0, now: datetime | None = None) -> Path:
    """Write `<reports_dir>/<date>/report.{html,csv,json}`; returns the HTML path."""
    summary = await build_summary(db, days, now)
    folder = reports_dir / summary["generated_at"][:10]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    table = pd.DataFrame(summary["providers"], columns=PROVIDER_COLUMNS)
    total = {"provider": "TOTAL", "attempts": int(table["attempts"].sum()), "succeeded": int(table["succeeded"].sum()),
             "failed": int(table["failed"].sum()), "success_rate": summary["success_rate"],
             "cost_usd": summary["total_cost_usd"], "mean_generation_s": summary["mean_generation_s"]}
    pd.concat([table, pd.DataFrame([total])], ignore_index=True).to_csv(folder / "report.csv", index=False)
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    videos = [{**v, "thumbnail_href": _href(v["thumbnail"], folder), "href": _href(v["path"], folder),
               "sheet_href": _href(v["contact_sheet"], folder)} for v in summary["videos"]]
    html = env.get_template("summary.html.j2").render(summary=summary, videos=videos)
    (folder / "report.html").write_text(html, encoding="utf-8")
    return folder / "report.html"


def _provider_table(attempt_rows: list[Any], charge_rows: list[Any]) -> list[dict[str, Any]]:
    if not attempt_rows:
        return []
    frame = pd.DataFrame(
        {
            "provider": [a.provider for a in attempt_rows],
            "succeeded": [a.state == "done" for a in attempt_rows],
            "failed": [a.state == "failed" for a in attempt_rows],
            "seconds": [_seconds(a) if a.state == "done" else None for a in attempt_rows],
        }
    )
    grouped = frame.groupby("provider").agg(
        attempts=("provider", "size"), succeeded=("succeeded", "sum"), failed=("failed", "sum"),
        mean_generation_s=("seconds", "mean"),
    )
    costs = pd.DataFrame([(c.provider, c.amount_usd) for c in charge_rows], columns=["provider", "cost"])
    grouped["cost_usd"] = costs.groupby("provider")["cost"].sum().reindex(grouped.index).fillna(0.0)
    grouped["success_rate"] = grouped["succeeded"] / grouped["attempts"]
    return [
        {
            "provider": provider,
            "attempts": int(row.attempts),
            "succeeded": int(row.succeeded),
            "failed": int(row.failed),
            "success_rate": round(float(row.success_rate), 4),
            "cost_usd": round(float(row.cost_usd), 2),
            "mean_generation_s": None if pd.isna(row.mean_generation_s) else round(float(row.mean_generation_s), 1),
        }
        for provider, row in grouped.iterrows()
    ]


def _prompt_table(rows: list[Any]) -> list[dict[str, Any]]:
    """Prompt analytics per theme: how many jobs' prompts the policy passed, rewrote or rejected, and how many of
    them ended done, failed, or refused by a provider's moderation."""
    if not rows:
        return []
    frame = pd.DataFrame({"theme": [r.theme or "-" for r in rows], "verdict": [r.verdict for r in rows],
                          "outcome": [r.outcome for r in rows],
                          "refused": [r.error_class == "content_violation" for r in rows]})
    table = frame.groupby("theme").agg(
        jobs=("theme", "size"), rewritten=("verdict", lambda v: int((v == "rewritten").sum())),
        rejected=("verdict", lambda v: int((v == "rejected").sum())),
        done=("outcome", lambda v: int((v == "done").sum())), failed=("outcome", lambda v: int((v == "failed").sum())),
        refused_by_provider=("refused", "sum"))
    return [{"theme": theme, **{k: int(v) for k, v in row.items()}} for theme, row in table.iterrows()]


def _seconds(attempt: Any) -> float | None:
    if not attempt.finished_at:
        return None
    return (as_utc(attempt.finished_at) - as_utc(attempt.started_at)).total_seconds()


def _mean_seconds(succeeded: list[Any]) -> float | None:
    values = [s for s in (_seconds(a) for a in succeeded) if s is not None]
    return round(sum(values) / len(values), 1) if values else None


def _video(row: Any, attempt: Any) -> dict[str, Any]:
    return {
        "job_id": row.id,
        "account": row.account,
        "topic": row.content["topic"],
        "provider": attempt.provider if attempt else None,
        "cost_usd": round(float(attempt.actual_cost_usd or 0.0), 2) if attempt else 0.0,
        "generation_s": _seconds(attempt) if attempt else None,
        "path": row.output_path,
        "thumbnail": row.thumbnail_path,
        "contact_sheet": _existing(contact_sheet_path(Path(row.output_path))) if row.output_path else None,
    }


def _existing(path: Path) -> str | None:
    return str(path) if path.exists() else None


def _href(path: str | None, folder: Path) -> str | None:
    return os.path.relpath(path, folder) if path else None
