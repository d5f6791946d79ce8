"""The figures users set budgets and pick providers by: cost, performance and ROI over the last N budget days.

    analytics = VideoAnalytics(db, budget=settings.video.budget, analytics=settings.app.analytics)
    summary = cost_summary(await analytics.dataset(days=30), settings.video.budget)

Money is rounded to the cent only when a figure is handed out, so every total is the ledger's own sum. Rates named
`*_rate` are percentages (0–100); `avg_engagement` is a fraction of views, as Instagram reports it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from analytics.dataset import Dataset, Window, load, rows
from core.engine.alerts import crossed_thresholds
from core.engine.ledger import Ledger
from core.engine.states import AttemptState, JobStatus
from core.engine.status import budget_view
from core.settings import AnalyticsSettings, Budget, ValueModel
from core.storage import Database, utcnow

ENGAGEMENTS = ["likes", "comments", "saves", "shares"]


class VideoAnalytics:
    def __init__(self, db: Database, budget: Budget | None = None, analytics: AnalyticsSettings | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.budget = budget or Budget()
        self.settings = analytics or AnalyticsSettings()
        self.clock = clock

    def window(self, days: int) -> Window:
        if days < 1:
            raise ValueError("days must be 1 or more")
        return Window(days, self.budget.timezone, self.clock())

    async def dataset(self, days: int) -> Dataset:
        return await load(self.db, self.window(days))

    async def budget_alerts(self) -> list[dict[str, Any]]:
        """The alerts due now: the highest threshold each cap has crossed by today's and this month's spend plus what
        is reserved for running attempts."""
        view = await budget_view(Ledger(self.db, self.budget))
        used = {name: v["spent_usd"] + v["reserved_usd"] for name, v in view.items()}
        return budget_alerts(self.budget.alert_thresholds_pct, [
            ("daily", self.budget.daily_limit_usd, used["daily"]),
            ("monthly", self.budget.monthly_limit_usd, used["monthly"]),
        ])


# ---- the figures, from a dataset -----------------------------------------------------------------------------------


def cost_summary(data: Dataset, budget: Budget) -> dict[str, Any]:
    charges, made = data.charges, _made(data.jobs)
    total, seconds = float(charges["amount"].sum()), float(made["duration_s"].sum())
    by_day = charges.groupby("day")["amount"].sum().reindex(data.window.day_keys, fill_value=0.0)
    by_provider = charges.groupby("provider")["amount"].agg(["sum", "size"]).sort_values("sum", ascending=False)
    by_account = charges.groupby("account")["amount"].sum()
    videos_by_account = made.groupby("account").size()
    accounts = sorted(set(by_account.index) | set(videos_by_account.index))
    return {
        "days": data.window.days,
        "from": data.window.day_keys[0],
        "to": data.window.day_keys[-1],
        "total_cost_usd": _usd(total),
        "analysis_cost_usd": _usd(float(data.analysis["amount"].sum())),  # transcripts, keyframes: no video's
        "total_videos": len(made),
        "video_seconds": round(seconds, 1),
        "avg_cost_per_video": _usd(total / len(made)) if len(made) else None,
        "avg_cost_per_second": _rate_usd(total / seconds) if seconds else None,
        "by_provider": [{"provider": p, "cost_usd": _usd(row["sum"]), "charges": int(row["size"])}
                        for p, row in by_provider.iterrows()],
        "by_day": [{"day": day, "cost_usd": _usd(amount), "daily_cap_usd": budget.daily_limit_usd}
                   for day, amount in by_day.items()],
        "by_account": [{"account": a, "cost_usd": _usd(by_account.get(a, 0.0)),
                        "videos": int(videos_by_account.get(a, 0))} for a in accounts],
    }


def performance_metrics(data: Dataset) -> dict[str, Any]:
    jobs, tries, made = data.jobs, data.attempts, _made(data.jobs)
    ended = len(jobs)
    providers_per_job = tries.groupby("job_id")["provider"].nunique()
    repeats_per_job = tries.groupby(["job_id", "provider"]).size().groupby("job_id").max()
    wins = winning_attempts(tries)
    first_start = tries.groupby("job_id")["started_at"].min()
    job_seconds = (wins.set_index("job_id")["finished_at"] - first_start.reindex(wins["job_id"])).dt.total_seconds()
    charges = data.charges.groupby("provider")["amount"].sum()
    seconds_made = made.merge(wins, left_on="id", right_on="job_id").groupby("provider")["duration_s"].sum()
    per_provider = []
    settled = tries[tries["state"].isin([AttemptState.DONE, AttemptState.FAILED, AttemptState.CANCELLED])]
    for provider, group in settled.groupby("provider"):
        succeeded = group[group["state"] == AttemptState.DONE]
        spans = (succeeded["finished_at"] - succeeded["started_at"]).dt.total_seconds()
        cost, made_s = float(charges.get(provider, 0.0)), float(seconds_made.get(provider, 0.0))
        per_provider.append({
            "provider": provider, "attempts": len(group), "succeeded": len(succeeded),
            "failed": int((group["state"] == AttemptState.FAILED).sum()),
            "success_rate": _pct(len(succeeded), len(group)),
            "p50_s": _quantile(spans, 0.5), "p95_s": _quantile(spans, 0.95),
            "cost_usd": _usd(cost), "video_seconds": round(made_s, 1),
            "cost_per_successful_second": _rate_usd(cost / made_s) if made_s else None,
        })
    total_cost, total_s = float(data.charges["amount"].sum()), float(made["duration_s"].sum())
    return {
        "days": data.window.days,
        "jobs_ended": ended,
        "videos_made": len(made),
        "jobs_failed": int((jobs["status"] == JobStatus.FAILED).sum()),
        "jobs_cancelled": int((jobs["status"] == JobStatus.CANCELLED).sum()),
        "success_rate": _pct(len(made), ended),
        "generation_p50_s": _quantile(job_seconds, 0.5),
        "generation_p95_s": _quantile(job_seconds, 0.95),
        "failover_rate": _pct(int((providers_per_job > 1).sum()), ended),
        "retry_rate": _pct(int((repeats_per_job > 1).sum()), ended),
        "cost_per_successful_second": _rate_usd(total_cost / total_s) if total_s else None,
        "avg_engagement": _engagement_rate(data.engagement),
        "provider_comparison": sorted(per_provider, key=lambda p: p["provider"]),
    }


def roi_analysis(data: Dataset, model: ValueModel) -> dict[str, Any]:
    made = _made(data.jobs)
    videos = made[["id", "account", "theme", "topic"]].rename(columns={"id": "job_id"}).merge(
        data.engagement, on="job_id", how="left")
    measured = videos["views"].notna()
    metrics = ["views", "reach", *ENGAGEMENTS, "follows"]
    videos[metrics] = videos[metrics].fillna(0).astype(int)
    videos["value"] = value_of(videos, model)
    cost_per_job = data.charges.groupby("job_id")["amount"].sum()
    videos["cost"] = videos["job_id"].map(cost_per_job).fillna(0.0)
    total_cost, total_value = float(data.charges["amount"].sum()), float(videos["value"].sum())
    return {
        "days": data.window.days,
        "value_model": model.model_dump(),
        "videos": len(videos),
        "videos_with_metrics": int(measured.sum()),
        "total_views": int(videos["views"].sum()),
        "total_cost": _usd(total_cost),
        "estimated_value": _usd(total_value),
        "roi_percentage": _roi(total_value, total_cost),
        "by_theme": _roi_groups(data.charges, videos, "theme"),
        "by_account": _roi_groups(data.charges, videos, "account"),
        "per_video": [
            {"job_id": int(v.job_id), "account": v.account, "theme": v.theme, "topic": v.topic,
             "views": int(v.views), "likes": int(v.likes), "comments": int(v.comments), "saves": int(v.saves),
             "shares": int(v.shares), "follows": int(v.follows), "cost_usd": _usd(v.cost),
             "value_usd": _usd(v.value), "roi_percentage": _roi(v.value, v.cost)}
            for v in rows(videos.sort_values("job_id"))
        ],
    }


def value_of(videos: pd.DataFrame, model: ValueModel) -> pd.Series:
    """Each video's estimated value in dollars: views per thousand, then each engagement, at the model's prices."""
    return (videos["views"] / 1000 * model.per_1k_views + videos["likes"] * model.per_like
            + videos["comments"] * model.per_comment + videos["saves"] * model.per_save
            + videos["shares"] * model.per_share + videos["follows"] * model.per_follower)


def budget_alerts(thresholds: list[int], caps: list[tuple[str, float, float]]) -> list[dict[str, Any]]:
    """For each (scope, cap, used): the highest threshold crossed, if any ("critical" from 90 %)."""
    alerts = []
    for scope, cap, used in caps:
        crossed = crossed_thresholds(used, cap, thresholds)
        if crossed:
            pct = crossed[-1]
            alerts.append({"type": scope, "level": "critical" if pct >= 90 else "warning", "threshold_pct": pct,
                           "used_usd": _usd(used), "cap_usd": cap,
                           "message": f"{scope} budget: ${used:.2f} of ${cap:.2f} used ({used / cap:.0%}), "
                                      f"past the {pct}% alert"})
    return alerts


def _made(jobs: pd.DataFrame) -> pd.DataFrame:
    return jobs[jobs["status"] == JobStatus.DONE]


def winning_attempts(tries: pd.DataFrame) -> pd.DataFrame:
    """Each made video's successful attempt (the last one, should a job have two)."""
    done = tries[tries["state"] == AttemptState.DONE]
    return done.drop_duplicates("job_id", keep="last")[["job_id", "provider", "finished_at"]]


def _roi_groups(charges: pd.DataFrame, videos: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    cost = charges.groupby(key)["amount"].sum()
    value = videos.groupby(key)["value"].sum()
    count = videos.groupby(key).size()
    views = videos.groupby(key)["views"].sum()
    return [{key: name, "videos": int(count.get(name, 0)), "views": int(views.get(name, 0)),
             "cost_usd": _usd(cost.get(name, 0.0)), "value_usd": _usd(value.get(name, 0.0)),
             "roi_percentage": _roi(float(value.get(name, 0.0)), float(cost.get(name, 0.0)))}
            for name in sorted(set(cost.index) | set(value.index))]


def _engagement_rate(engagement: pd.DataFrame) -> float | None:
    """Engagements per view over the videos with metrics, views weighted."""
    views = int(engagement["views"].sum())
    return round(float(engagement[ENGAGEMENTS].sum().sum()) / views, 4) if views else None


def _quantile(values: pd.Series, q: float) -> float | None:
    values = values.dropna()
    return round(float(values.quantile(q)), 1) if len(values) else None


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _roi(value: float, cost: float) -> float | None:
    return round(100 * (value - cost) / cost, 1) if cost else None


def _usd(amount: float) -> float:
    return round(float(amount), 2)


def _rate_usd(amount: float) -> float:
    """A price per second: to a hundredth of a cent."""
    return round(float(amount), 4)
