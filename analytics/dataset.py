"""The rows behind an analytics window, read once from the database into pandas frames.

A window is the last N budget days, today included, in the budget's time zone — the same days the daily cap counts.
Money is the ledger's `charge` rows booked on those days; performance and ROI are about the jobs that ended (done,
failed or cancelled) since the window's first midnight, with all their attempts.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Select, func, select

from core.engine.states import JobStatus, LedgerKind
from core.schema import attempts, briefs, cost_ledger, engagement_metrics, service_calls, video_jobs
from core.storage import Database, as_utc

ENDED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Window:
    days: int
    timezone: str
    end: datetime  # UTC

    @property
    def last_day(self) -> date:
        return self.end.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        """The first day's midnight, in UTC."""
        return datetime.combine(self.first_day, time(), tzinfo=ZoneInfo(self.timezone)).astimezone(timezone.utc)

    @property
    def day_keys(self) -> list[str]:
        return [(self.first_day + timedelta(days=n)).isoformat() for n in range(self.days)]


@dataclass
class Dataset:
    window: Window
    charges: pd.DataFrame  # job_id, provider, amount, day, account, theme: every charge booked in the window
    jobs: pd.DataFrame  # id, account, theme, topic, status, duration_s, output_path, thumbnail_path, error, ended_at
    attempts: pd.DataFrame  # job_id, provider, state, started_at, finished_at: all attempts of the ended jobs
    engagement: pd.DataFrame  # job_id and the metrics of its latest snapshot, for the window's videos
    analysis: pd.DataFrame  # service, amount, day: what paid analysis (no video's) cost in the window


async def load(db: Database, window: Window) -> Dataset:
    charge_rows = await db.fetch_all(
        select(cost_ledger.c.job_id, cost_ledger.c.provider, cost_ledger.c.amount_usd, cost_ledger.c.budget_day,
               video_jobs.c.account, briefs.c.content)
        .join(video_jobs, video_jobs.c.id == cost_ledger.c.job_id)
        .join(briefs, briefs.c.id == video_jobs.c.brief_id)
        .where(cost_ledger.c.kind == LedgerKind.CHARGE, cost_ledger.c.budget_day >= window.day_keys[0],
               cost_ledger.c.budget_day <= window.day_keys[-1]))
    charges = pd.DataFrame(
        [(r.job_id, r.provider, r.amount_usd, r.budget_day, r.account, _theme(r.content)) for r in charge_rows],
        columns=["job_id", "provider", "amount", "day", "account", "theme"])
    ended_in_window = (video_jobs.c.status.in_(ENDED) & (video_jobs.c.updated_at >= window.start)
                       & (video_jobs.c.updated_at <= window.end))
    job_rows = await db.fetch_all(
        select(video_jobs, briefs.c.content).join(briefs, briefs.c.id == video_jobs.c.brief_id)
        .where(ended_in_window).order_by(video_jobs.c.id))
    jobs = pd.DataFrame(
        [(r.id, r.account, _theme(r.content), r.content.get("topic", ""), r.status, r.duration_s, r.output_path,
          r.thumbnail_path, r.error, as_utc(r.updated_at)) for r in job_rows],
        columns=["id", "account", "theme", "topic", "status", "duration_s", "output_path", "thumbnail_path", "error",
                 "ended_at"])
    ended = select(video_jobs.c.id).where(ended_in_window)
    attempt_rows = await db.fetch_all(
        select(attempts.c.job_id, attempts.c.provider, attempts.c.state, attempts.c.started_at,
               attempts.c.finished_at).where(attempts.c.job_id.in_(ended)).order_by(attempts.c.id))
    attempt_frame = pd.DataFrame(
        [(r.job_id, r.provider, r.state, as_utc(r.started_at), as_utc(r.finished_at) if r.finished_at else None)
         for r in attempt_rows],
        columns=["job_id", "provider", "state", "started_at", "finished_at"])
    for column in ("started_at", "finished_at"):
        attempt_frame[column] = pd.to_datetime(attempt_frame[column], utc=True)
    analysis_rows = await db.fetch_all(
        select(service_calls.c.service, service_calls.c.actual_cost_usd, service_calls.c.budget_day)
        .where(service_calls.c.actual_cost_usd > 0, service_calls.c.budget_day >= window.day_keys[0],
               service_calls.c.budget_day <= window.day_keys[-1]))
    analysis = pd.DataFrame([tuple(r) for r in analysis_rows], columns=["service", "amount", "day"])
    return Dataset(window, charges, jobs, attempt_frame, await _latest_engagement(db, ended), analysis)


async def _latest_engagement(db: Database, ended: Select[Any]) -> pd.DataFrame:
    latest = (select(engagement_metrics.c.job_id, func.max(engagement_metrics.c.captured_at).label("captured_at"))
              .where(engagement_metrics.c.job_id.in_(ended)).group_by(engagement_metrics.c.job_id).subquery())
    rows = await db.fetch_all(
        select(engagement_metrics).join(latest, (latest.c.job_id == engagement_metrics.c.job_id)
                                        & (latest.c.captured_at == engagement_metrics.c.captured_at)))
    columns = ["job_id", "views", "reach", "likes", "comments", "saves", "shares", "follows"]
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


def rows(frame: pd.DataFrame) -> Iterator[Any]:
    """`frame.itertuples()`: its rows as named tuples, one attribute per column. Typed Any: pandas-stubs gives every
    field the union of all scalars, which no `int()` or `float()` accepts."""
    return frame.itertuples()


def _theme(content: dict[str, object]) -> str:
    return str(content.get("theme") or "-")
