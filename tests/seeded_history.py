"""Sixty days of production written straight into the schema — 1,200 jobs across providers, accounts and themes, with
retries, failovers, failures, charges and engagement — plus the same history as plain Python records, from which
the tests work out every expected figure without pandas or SQL."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from content.media.video_utils import contact_sheet_path
from core.schema import attempts, briefs, cost_ledger, engagement_metrics, trends, video_jobs
from core.storage import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
ZONE = "America/New_York"  # budget days that are not UTC days
PROVIDERS = {"runway": (0.12, 40, 90), "kling": (0.07, 60, 240), "luma": (0.1, 30, 120), "local": (0.0, 15, 30)}
ACCOUNTS = ["mia_moves", "sam_wanders", "leo_eats"]
THEMES = ["fitness", "travel", "food", "tech"]


@dataclass
class AttemptRecord:
    provider: str
    state: str
    started_at: datetime
    finished_at: datetime
    charge: float | None  # a charge row, when one was booked

    @property
    def budget_day(self) -> str:
        return self.started_at.astimezone(ZoneInfo(ZONE)).date().isoformat()


@dataclass
class JobRecord:
    id: int
    account: str
    theme: str
    status: str
    duration_s: float
    attempts: list[AttemptRecord]
    engagement: list[dict[str, int]] = field(default_factory=list)  # snapshots, oldest first

    @property
    def ended_at(self) -> datetime:
        return self.attempts[-1].finished_at


def history(jobs: int = 1200, seed: int = 7) -> list[JobRecord]:
    rng = random.Random(seed)
    records = []
    for job_id in range(1, jobs + 1):
        start = NOW - timedelta(days=60) + timedelta(seconds=rng.uniform(0, 60 * 86400 - 3600))
        duration = rng.choice([5.0, 10.0, 15.0])
        chain = rng.sample(list(PROVIDERS), 2)
        plan = rng.choices(["ok", "retry", "failover", "failed", "cancelled"], [70, 10, 12, 6, 2])[0]
        steps = {"ok": [(chain[0], "done")], "retry": [(chain[0], "failed"), (chain[0], "done")],
                 "failover": [(chain[0], "failed"), (chain[1], "done")],
                 "failed": [(chain[0], "failed"), (chain[1], "failed")], "cancelled": [(chain[0], "cancelled")]}[plan]
        tries, at = [], start
        for provider, state in steps:
            price, low, high = PROVIDERS[provider]
            took = rng.uniform(low, high)
            charge = round(price * duration, 2) if state == "done" else (
                round(price * duration, 2) if state == "failed" and rng.random() < 0.25 else None)  # paid, lost
            tries.append(AttemptRecord(provider, state, at, at + timedelta(seconds=took), charge))
            at += timedelta(seconds=took + rng.uniform(1, 30))
        status = {"failed": "failed", "cancelled": "cancelled"}.get(plan, "done")
        record = JobRecord(job_id, rng.choice(ACCOUNTS), rng.choice(THEMES), status, duration, tries)
        if status == "done" and rng.random() < 0.7:
            views = rng.randint(200, 200_000)
            final = {"views": views, "reach": int(views * 0.8), "likes": views // rng.randint(10, 40),
                     "comments": views // rng.randint(200, 900), "saves": views // rng.randint(100, 500),
                     "shares": views // rng.randint(100, 700), "follows": rng.randint(0, 40)}
            record.engagement = [{k: v // 3 for k, v in final.items()}, final]
        records.append(record)
    return records


async def write_history(db: Database, records: list[JobRecord], media: Path | None = None,
                        with_media: int = 0) -> None:
    """Store the records; the newest `with_media` made videos get a cover and a contact sheet in `media`."""
    newest = sorted((r for r in records if r.status == "done"), key=lambda r: r.ended_at, reverse=True)[:with_media]
    files = {r.id: _media(media, r.id) for r in newest} if media else {}
    async with db.transaction() as conn:
        for r in records:
            created = r.attempts[0].started_at - timedelta(seconds=5)
            await conn.execute(trends.insert().values(
                id=r.id, dedup_key=f"t{r.id}", source="file", topic=f"topic {r.id}", caption="", theme=r.theme,
                hashtags=[], likes=0, comments=0, views=0, posted_at=created, collected_at=created))
            await conn.execute(briefs.insert().values(
                id=r.id, trend_id=r.id, account=r.account, template="default", created_at=created,
                content={"topic": f"topic {r.id}", "theme": r.theme, "caption": f"caption of video {r.id}"}))
            video, cover = files.get(r.id, (None, None))
            await conn.execute(video_jobs.insert().values(
                id=r.id, brief_id=r.id, trend_key=f"t{r.id}", account=r.account, priority=0, status=r.status,
                platform="instagram_reels", aspect_ratio="9:16", duration_s=r.duration_s, created_at=created,
                updated_at=r.ended_at, output_path=str(video) if video else (f"/videos/{r.id:06d}.mp4"
                                                                            if r.status == "done" else None),
                thumbnail_path=str(cover) if cover else None,
                error="provider failed" if r.status == "failed" else None))
            for a in r.attempts:
                price = PROVIDERS[a.provider][0] * r.duration_s
                attempt_id = (await conn.execute(attempts.insert().values(
                    job_id=r.id, provider=a.provider, provider_type=a.provider, state=a.state,
                    estimated_cost_usd=price, actual_cost_usd=a.charge, started_at=a.started_at,
                    finished_at=a.finished_at))).inserted_primary_key[0]
                entries = [("reserve", price, a.started_at), ("release", -price, a.finished_at)]
                entries += [("charge", a.charge, a.finished_at)] if a.charge is not None else []
                for kind, amount, at in entries:
                    await conn.execute(cost_ledger.insert().values(
                        job_id=r.id, attempt_id=attempt_id, provider=a.provider, kind=kind, amount_usd=amount,
                        budget_day=a.budget_day, budget_month=a.budget_day[:7], created_at=at))
            for n, snapshot in enumerate(r.engagement):
                await conn.execute(engagement_metrics.insert().values(
                    job_id=r.id, captured_at=r.ended_at + timedelta(days=n + 1), source="seed", imported_at=NOW,
                    **snapshot))


def _media(folder: Path, job_id: int) -> tuple[Path, Path]:
    """A made video's file name, cover and contact sheet (the video itself is never read by the report)."""
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / f"{job_id:06d}.mp4"
    cover = video.with_suffix(".jpg")
    Image.new("RGB", (1080, 1920), (40 + job_id % 200, 90, 160)).save(cover, quality=85)
    Image.new("RGB", (1080, 384), (200, 120, job_id % 255)).save(contact_sheet_path(video), quality=85)
    return video, cover
