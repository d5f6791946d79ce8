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
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fleet  # noqa: E402
from content.providers import build_providers, provider_params  # noqa: E402
from core.daemon.daemon import Daemon  # noqa: E402
from core.home import Home  # noqa: E402
from core.logs import setup_logging  # noqa: E402
from core.progress import NullProgress  # noqa: E402
from core.secrets import Secrets  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.storage import Database  # noqa: E402

TARGET_EFFICIENCY = 0.9


async def run(jobs: int, concurrency: int, latency_s: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as scratch:
        home = Home.at(scratch)
        url = f"sqlite:///{home.database_file}"
        fleet.configure(home, url, per_worker=concurrency, latency_s=latency_s)
        setup_logging(home, Secrets({}), verbose=False, quiet=True)
        settings = load_settings(home, provider_params())
        db = await Database.open(url)
        providers = build_providers(settings.video, Secrets({}), home.data_dir)
        await fleet.enqueue_jobs(db, settings.app.accounts[0].name, settings.app.platform, jobs)
        daemon = Daemon(home, settings, db, providers, Secrets({}))
        fleet.stub_media()
        cpu_before = time.process_time()
        started = time.perf_counter()
        outcomes = await daemon.worker.process_queue(NullProgress())
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
