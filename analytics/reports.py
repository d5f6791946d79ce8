"""The video analytics report: one set of figures written three ways — `report.html` (self-contained, charts and
thumbnails inline, readable on a phone), `report.csv` (one row per figure) and `report.json` — into
`<reports_dir>/<date>/`. The 1-day report is `report.*`; an N-day one is `report-<N>d.*`."""
from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from sqlalchemy import func, select

from analytics import charts
from analytics.dataset import Dataset, rows
from analytics.video_analytics import VideoAnalytics, cost_summary, performance_metrics, roi_analysis, winning_attempts
from content.media.video_utils import contact_sheet_path
from core.engine.states import JobStatus
from core.errors import ErrorClass
from core.schema import prompt_outcomes, video_jobs
from trends.collector import failed_runs

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FIGURE_SECTIONS = ("cost", "performance", "roi", "budget")
CSV_COLUMNS = ["section", "figure", "key", "value"]
COVER_WIDTH, SHEET_WIDTH = 270, 720  # pixels of the inlined covers and contact sheets


async def build_report(analytics: VideoAnalytics, days: int) -> dict[str, Any]:
    """Every figure of the last `days` budget days, plus the window's videos, failures, trend-source failures and
    prompt outcomes."""
    data = await analytics.dataset(days)
    window, db = data.window, analytics.db
    queue = dict(await db.fetch_all(select(video_jobs.c.status, func.count()).where(
        video_jobs.c.status.in_([JobStatus.QUEUED, JobStatus.WAITING_BUDGET])).group_by(video_jobs.c.status)))
    budget = analytics.budget
    return {
        "generated_at": window.end.isoformat(timespec="seconds"),
        "window": {"days": days, "from": window.day_keys[0], "to": window.day_keys[-1],
                   "timezone": window.timezone, "start": window.start.isoformat(timespec="seconds")},
        "cost": cost_summary(data, budget),
        "performance": performance_metrics(data),
        "roi": roi_analysis(data, analytics.settings.value_model),
        "budget": {"daily_limit_usd": budget.daily_limit_usd, "monthly_limit_usd": budget.monthly_limit_usd,
                   "alerts": await analytics.budget_alerts()},
        "queue": {status: int(queue.get(status, 0)) for status in (JobStatus.QUEUED, JobStatus.WAITING_BUDGET)},
        "videos": _videos(data, analytics.settings.gallery_size),
        "failures": [{"job_id": int(j.id), "topic": j.topic, "error": j.error}
                     for j in rows(data.jobs[data.jobs["status"] == JobStatus.FAILED])],
        "trend_source_failures": await failed_runs(db, window.start),
        "prompts_by_theme": _prompt_table(await db.fetch_all(
            select(prompt_outcomes).where(prompt_outcomes.c.created_at >= window.start))),
    }


async def write_report(analytics: VideoAnalytics, reports_dir: Path, days: int,
                       formats: tuple[str, ...] = ("html", "csv", "json")) -> Path:
    """Build and save the report in `formats`; returns the path of the first."""
    report = await build_report(analytics, days)
    return (await save_report(report, reports_dir, formats))[0]


async def save_report(report: dict[str, Any], reports_dir: Path,
                      formats: tuple[str, ...] = ("html", "csv", "json")) -> list[Path]:
    days = report["window"]["days"]
    folder = reports_dir / report["window"]["to"]
    return await asyncio.to_thread(_write, report, folder, "report" if days == 1 else f"report-{days}d", formats)


def _write(report: dict[str, Any], folder: Path, stem: str, formats: tuple[str, ...]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    writers = {"html": _write_html, "csv": _write_csv, "json": _write_json}
    paths = []
    for name in formats:
        path = folder / f"{stem}.{name}"
        partial = path.with_name(path.name + ".partial")
        writers[name](report, partial)
        partial.replace(path)  # a reader never sees half a report
        paths.append(path)
    return paths


def _write_json(report: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


def _write_csv(report: dict[str, Any], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(figure_rows(report))


def figure_rows(report: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Every figure as (section, figure, key, value): `("cost", "by_provider.cost_usd", "runway", 12.5)`; a table's
    rows are keyed by their first column."""
    rows: list[tuple[str, str, str, Any]] = []
    for section in FIGURE_SECTIONS:
        for name, value in report[section].items():
            if isinstance(value, dict):
                rows += [(section, f"{name}.{k}", "", v) for k, v in value.items()]
            elif isinstance(value, list):
                for item in value:
                    key_name, key = next(iter(item.items()))
                    rows += [(section, f"{name}.{k}", str(key), v) for k, v in item.items() if k != key_name]
            else:
                rows.append((section, name, "", value))
    return [(s, f, k, "" if v is None else v) for s, f, k, v in rows]


def _write_html(report: dict[str, Any], path: Path) -> None:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    env.filters["shown"] = shown
    cost, performance, roi = report["cost"], report["performance"], report["roi"]
    figures = {
        "spend_per_day": charts.spend_per_day(cost["by_day"]),
        "spend_by_provider": charts.spend_by_provider(cost["by_provider"]),
        "provider_quality": charts.provider_quality(performance["provider_comparison"]),
        "roi": charts.roi_by_theme_and_account(roi["by_theme"], roi["by_account"]),
    }
    gallery = [{**video, "thumbnail_src": _data_uri(video["thumbnail"], COVER_WIDTH),
                "sheet_src": _data_uri(video["contact_sheet"], SHEET_WIDTH)} for video in report["videos"]]
    top_videos = sorted(roi["per_video"], key=lambda v: -v["value_usd"])[:20]
    html = env.get_template("report.html.j2").render(report=report, charts=figures, gallery=gallery,
                                                     top_videos=top_videos)
    path.write_text(html, encoding="utf-8")


def _videos(data: Dataset, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` videos made in the window, newest first, with their covers and contact sheets."""
    made = data.jobs[data.jobs["status"] == JobStatus.DONE].sort_values("ended_at", ascending=False).head(limit)
    wins = winning_attempts(data.attempts)
    provider = dict(zip(wins["job_id"], wins["provider"]))
    cost = data.charges.groupby("job_id")["amount"].sum()
    return [{"job_id": int(j.id), "account": j.account, "topic": j.topic, "provider": provider.get(j.id),
             "cost_usd": round(float(cost.get(j.id, 0.0)), 2), "duration_s": float(j.duration_s),
             "path": j.output_path, "thumbnail": j.thumbnail_path,
             "contact_sheet": _existing(contact_sheet_path(Path(j.output_path))) if j.output_path else None}
            for j in rows(made)]


def _prompt_table(rows: list[Any]) -> list[dict[str, Any]]:
    """Prompt analytics per theme: how many jobs' prompts the policy passed, rewrote or rejected, and how many of
    them ended done, failed, or refused by a provider's moderation."""
    if not rows:
        return []
    frame = pd.DataFrame({"theme": [r.theme or "-" for r in rows], "verdict": [r.verdict for r in rows],
                          "outcome": [r.outcome for r in rows],
                          "refused": [r.error_class == ErrorClass.CONTENT_VIOLATION for r in rows]})
    table = frame.groupby("theme").agg(
        jobs=("theme", "size"), rewritten=("verdict", lambda v: int((v == "rewritten").sum())),
        rejected=("verdict", lambda v: int((v == "rejected").sum())),
        done=("outcome", lambda v: int((v == JobStatus.DONE).sum())),
        failed=("outcome", lambda v: int((v == JobStatus.FAILED).sum())),
        refused_by_provider=("refused", "sum"))
    return [{"theme": theme, **{str(k): int(v) for k, v in row.items()}} for theme, row in table.iterrows()]


def _data_uri(path: str | None, width: int) -> str | None:
    """A JPEG scaled down to `width` and inlined, so the report is one light file that opens anywhere (mailed,
    synced to a phone)."""
    if not path or not Path(path).is_file():
        return None
    with Image.open(path) as image:
        image.thumbnail((width, width * 4))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _existing(path: Path) -> str | None:
    return str(path) if path.exists() else None


FORMATS = {
    "money": "${:,.2f}",
    "per_s": "${:,.4f}",  # a price per second of video
    "pct": "{:,.1f}%",
    "secs": "{:,.1f} s",
    "count": "{:,.0f}",
}


def shown(value: float | None, fmt: str) -> str:
    """A figure as the HTML shows it; the tests read it back to check it against the JSON."""
    return "–" if value is None else FORMATS[fmt].format(value)
