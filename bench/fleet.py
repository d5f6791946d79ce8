"""A fleet of worker processes on one database and one simulated provider: the harness of tests/test_scale_out.py
and bench/scale_bench.py (and, in-process, of bench/queue_bench.py).

Each worker is `python main.py worker --drain` (run as `python bench/fleet.py HOME`), with the media steps after
the download (composing, optimize, preflight, covers) switched off or stubbed: they are bench/render_bench.py's business, and here the engine
is measured and checked. The provider's record of what it was asked to make, `data/simulated_submissions.jsonl`,
is the bill the checks read.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.briefs.brief import Brief  # noqa: E402
from content.providers import provider_params  # noqa: E402
from core.engine import (
    queue,  # noqa: E402
    runner,  # noqa: E402
)
from core.home import Home  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.storage import Database, utcnow  # noqa: E402
from trends.models import Trend  # noqa: E402
from trends.store import save_trends  # noqa: E402

PROVIDER = "sim"
DURATION_S = 15.0
T = TypeVar("T")


def create_database(server_url: str) -> str:
    """A new, empty PostgreSQL database on the server of `server_url` (an admin's URL); returns its URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    _admin(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def run_apart(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to the end on an event loop in a thread of its own: callable from sync code, and from inside a
    running event loop too."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _admin(server_url: str, sql: str) -> None:
    """One statement outside any transaction (CREATE/DROP DATABASE need that)."""
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_apart(run())


def configure(home: Home, url: str, *, per_worker: int, latency_s: float, max_concurrent: int | None = None,
              cost_per_second: float = 0.001, daily_cap_usd: float = 1e6, lease_s: float = 60.0) -> None:
    """A home whose one provider is the simulated one, on the database at `url` (DATABASE_URL in its .env)."""
    config = json.loads((ROOT / "config" / "video_config.json").read_text())
    video = config["video_generation"]
    video.update(default_provider=PROVIDER, fallback_providers=[], max_concurrent_generations=per_worker,
                 max_queue_size=100_000, lease_s=lease_s, composer={"provider_videos": False})
    video["budget"].update(per_video_limit_usd=1.0, daily_limit_usd=daily_cap_usd, monthly_limit_usd=daily_cap_usd)
    video["providers"] = {PROVIDER: {"type": "simulated", "max_concurrent": max_concurrent, "params": {
        "latency_s": latency_s, "cost_per_second": cost_per_second}}}
    home.video_config_file.parent.mkdir(parents=True, exist_ok=True)
    home.video_config_file.write_text(json.dumps(config))
    home.config_file.write_text((ROOT / "config" / "config.json").read_text())
    home.env_file.write_text(f"DATABASE_URL={url}\n")
    placeholder = home.data_dir / "simulated" / f"placeholder-{DURATION_S:g}s.mp4"
    placeholder.parent.mkdir(parents=True, exist_ok=True)
    placeholder.write_bytes(b"\0" * 1024)  # what the simulated provider hands out, made ahead of time
    home.videos_dir.mkdir(parents=True, exist_ok=True)


def seed(home: Home, url: str, jobs: int) -> None:
    """`jobs` queued jobs in the database at `url`, for the first account of `home`'s config."""
    settings = load_settings(home, provider_params())

    async def run() -> None:
        db = await Database.open(url)
        try:
            await enqueue_jobs(db, settings.app.accounts[0].name, settings.app.platform, jobs)
        finally:
            await db.close()

    run_apart(run())


async def enqueue_jobs(db: Database, account: str, platform: str, jobs: int) -> None:
    """`jobs` queued jobs, one per trend."""
    await save_trends(db, [Trend(caption=f"Fleet topic {i}", theme="fleet", timestamp=utcnow(), source="fleet")
                           for i in range(jobs)])
    for i in range(jobs):
        brief = Brief(account=account, template="default", topic=f"Fleet topic {i}", hook="h", beats=["1", "2", "3"],
                      hashtags=[], cta="c", visual_prompt="p", duration_s=DURATION_S)
        await queue.enqueue(db, i + 1, f"fleet-{i}", brief, platform)


def start_workers(home: Home, count: int) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes on `home`; each one's output goes to `logs/worker-N.out`."""
    home.logs_dir.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    workers = []
    for number in range(count):
        with (home.logs_dir / f"worker-{number}.out").open("wb") as out:
            workers.append(subprocess.Popen([sys.executable, __file__, str(home.root)], stdout=out,
                                            stderr=subprocess.STDOUT, env=environment, cwd=ROOT))
    return workers


def submissions(home: Home) -> list[dict[str, Any]]:
    path = home.data_dir / "simulated_submissions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def peak_concurrency(records: list[dict[str, Any]], latency_s: float) -> int:
    """The most tasks running at the provider at once: each runs from its creation (the time in its task id, in
    ms) for `latency_s`; one that starts the moment another ends does not overlap it."""
    events = []
    for record in records:
        created_ms = int(record["task_id"].split("-")[1])
        events += [(created_ms, 1), (created_ms + round(latency_s * 1000), -1)]
    running = peak = 0
    for _, change in sorted(events):  # at the same ms, an end (-1) sorts before a start (+1)
        running += change
        peak = max(peak, running)
    return peak


async def stub_delivery(self: runner.JobRunner, job: queue.Job, raw: Path, stage: Any, variants: Any,
                        post: Any) -> tuple[Path, Path, float]:
    """The download, moved into place as the video (and its own cover): no media work."""
    video = self.home.videos_dir / f"{job.id:06d}.mp4"
    os.replace(raw, video)
    return video, video, job.brief.duration_s


def stub_media() -> None:
    runner.JobRunner._deliver = stub_delivery  # type: ignore[method-assign]


if __name__ == "__main__":
    from main import main

    stub_media()
    sys.exit(main(["--home", sys.argv[1], "worker", "--drain"]))
