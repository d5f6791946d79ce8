"""Engine throughput: many jobs through the queue, the ledger and the attempt state machine, against the simulated
provider, with the media steps (optimize, preflight, covers) stubbed out so only the engine is measured.

  efficiency = ideal makespan / measured makespan, where ideal = ceil(jobs / concurrency) x provider latency
  engine overhead per job = CPU time of the process / jobs
  peak RSS of the process

Usage: python bench/queue_bench.py [--jobs 2000] [--concurrency 50] [--latency 0.2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content import video_generator  # noqa: E402
from content.briefs import Brief  # noqa: E402
from content.video_providers import build_providers, provider_params  # noqa: E402
from core import queue  # noqa: E402
from core.home import Home  # noqa: E402
from core.logs import setup_logging  # noqa: E402
from core.orchestrator import Orchestrator  # noqa: E402
from core.progress import NullProgress  # noqa: E402
from core.secrets import Secrets  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.storage import Database, utcnow  # noqa: E402
from trends.models import Trend  # noqa: E402
from trends.store import save_trends  # noqa: E402

TARGET_EFFICIENCY = 0.9


def configure(home: Home, concurrency: int, latency_s: float) -> None:
    config = json.loads((ROOT / "config" / "video_config.json").read_text())
    video = config["video_generation"]
    video.update(default_provider="sim", fallback_providers=[], max_concurrent_generations=concurrency,
                 max_queue_size=100_000)
    video["budget"].update(per_video_limit_usd=1.0, daily_limit_usd=1e6, monthly_limit_usd=1e6)
    video["providers"] = {"sim": {"type": "simulated", "params": {"latency_s": latency_s, "cost_per_second": 0.001}}}
    home.video_config_file.parent.mkdir(parents=True, exist_ok=True)
    home.video_config_file.write_text(json.dumps(config))
    home.config_file.write_text((ROOT / "config" / "config.json").read_text())


async def stub_delivery(self, job, raw: Path, stage):  # type: ignore[no-untyped-def]
    """The media steps are measured by bench/render_bench.py; here the download is just moved into place."""
    video = self.home.videos_dir / f"{job.id:06d}.mp4"
    os.replace(raw, video)
    return video, video, job.brief.duration_s


async def run(jobs: int, concurrency: int, latency_s: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as scratch:
        home = Home.at(scratch)
        configure(home, concurrency, latency_s)
        setup_logging(home, [], verbose=False, quiet=True)
        settings = load_settings(home, provider_params())
        db = await Database.open(f"sqlite:///{home.database_file}")
        providers = build_providers(settings.video, Secrets({}), home.data_dir)
        placeholder = home.data_dir / "simulated" / "placeholder-15s.mp4"
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.write_bytes(b"\0" * 1024)  # what the simulated provider hands out, made ahead of time
        home.videos_dir.mkdir(parents=True)
        account = settings.app.accounts[0].name
        now = utcnow()
        await save_trends(db, [Trend(caption=f"Bench topic {i}", theme="bench", timestamp=now, source="bench")
                               for i in range(jobs)])
        for i in range(jobs):
            brief = Brief(account=account, template="default", topic=f"Bench topic {i}", hook="h",
                          beats=["1", "2", "3"], hashtags=[], cta="c", visual_prompt="p", duration_s=15)
            await queue.enqueue(db, i + 1, f"bench-{i}", brief, settings.app.platform)
        orchestrator = Orchestrator.create(home, settings, db, providers, Secrets({}))
        video_generator.VideoGenerator._deliver = stub_delivery  # type: ignore[method-assign]
        cpu_before = time.process_time()
        started = time.perf_counter()
        outcomes = await orchestrator.process_queue(NullProgress())
        makespan = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        await db.close()
    done = sum(o.status == "done" for o in outcomes)
    if done != jobs:
        raise SystemExit(f"only {done} of {jobs} jobs finished")
    ideal = math.ceil(jobs / concurrency) * latency_s
    return {"makespan_s": makespan, "ideal_s": ideal, "efficiency": ideal / makespan,
            "overhead_ms_per_job": cpu / jobs * 1000,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    figures = asyncio.run(run(args.jobs, args.concurrency, args.latency))
    verdict = "met" if figures["efficiency"] >= TARGET_EFFICIENCY else "MISSED"
    print(f"queue bench: {args.jobs} jobs, concurrency {args.concurrency}, simulated latency {args.latency} s")
    print(f"  makespan {figures['makespan_s']:.2f} s, ideal {figures['ideal_s']:.2f} s")
    print(f"  efficiency {figures['efficiency']:.2f}   target >= {TARGET_EFFICIENCY}: {verdict}")
    print(f"  engine overhead {figures['overhead_ms_per_job']:.1f} ms CPU per job")
    print(f"  peak RSS {figures['rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
