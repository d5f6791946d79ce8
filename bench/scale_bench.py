"""Scale-out throughput: 1, 2 and 4 worker processes on one PostgreSQL database, against a simulated provider with
latency, with the media steps stubbed (bench/fleet.py) so that the engine's scaling is what is measured.

Each run gets `--jobs-per-worker` jobs per worker and a fresh database. Throughput counts from the first attempt to
the last job's end (read from the database), so process start-up is left out.

  scaling(N) = throughput with N workers / throughput with 1 worker   (near-linear: >= 0.8 x N)
  provider limits: the most tasks that ran at once (from the provider's record of submissions) against its
  max_concurrent, which is set above what the workers can ask for; then once more with 4 workers and the limit set
  to what one worker asks for, where the limit, not the workers, must set the pace.

Usage: python bench/scale_bench.py [--server postgresql://postgres:postgres@127.0.0.1/postgres]
                                   [--per-worker 8] [--latency 1.0] [--jobs-per-worker 60]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench import fleet  # noqa: E402
from core.home import Home  # noqa: E402
from core.storage import Database  # noqa: E402

NEAR_LINEAR = 0.8  # of N times one worker's throughput


@dataclass(frozen=True)
class Run:
    workers: int
    jobs: int
    seconds: float
    peak: int  # most tasks at the provider at once
    limit: int

    @property
    def throughput(self) -> float:
        return self.jobs / self.seconds


def run(server: str, workers: int, per_worker: int, latency_s: float, jobs: int, limit: int) -> Run:
    """One fleet of `workers` through `jobs` jobs, on a database of its own (dropped afterwards)."""
    url = fleet.create_database(server)
    try:
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as scratch:
            home = Home.at(scratch)
            fleet.configure(home, url, per_worker=per_worker, latency_s=latency_s, max_concurrent=limit)
            fleet.seed(home, url, jobs)
            processes = fleet.start_workers(home, workers)
            if any(process.wait() for process in processes):
                raise SystemExit(f"a worker failed; see {home.logs_dir}")
            done, seconds = asyncio.run(_span(url))
            if done != jobs:
                raise SystemExit(f"only {done} of {jobs} jobs finished")
            return Run(workers, jobs, seconds, fleet.peak_concurrency(fleet.submissions(home), latency_s), limit)
    finally:
        fleet.drop_database(server, url)


async def _span(url: str) -> tuple[int, float]:
    """Jobs done, and seconds from the first attempt's start to the last job's end."""
    db = await Database.open(url)
    try:
        rows = await db.fetch_all(text(
            "SELECT (SELECT COUNT(*) FROM video_jobs WHERE status = 'done'), "
            "EXTRACT(EPOCH FROM (SELECT MAX(updated_at) FROM video_jobs) - (SELECT MIN(started_at) FROM attempts))"))
    finally:
        await db.close()
    return int(rows[0][0]), float(rows[0][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("TEST_POSTGRES_URL",
                                                           "postgresql://postgres:postgres@127.0.0.1/postgres"),
                        help="a PostgreSQL server's admin URL: each run makes (and drops) a database there")
    parser.add_argument("--per-worker", type=int, default=8, help="max_concurrent_generations of each worker")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds the simulated provider takes a video")
    parser.add_argument("--jobs-per-worker", type=int, default=60)
    args = parser.parse_args()
    roomy = 4 * args.per_worker + 1  # above what 4 workers can ask for: enforced, never binding
    runs = [run(args.server, workers, args.per_worker, args.latency, args.jobs_per_worker * workers, roomy)
            for workers in (1, 2, 4)]
    bound = run(args.server, 4, args.per_worker, args.latency, args.jobs_per_worker * 4, args.per_worker)
    print(f"scale bench: simulated latency {args.latency} s, {args.per_worker} jobs at once per worker, "
          f"{args.jobs_per_worker} jobs per worker")
    base = runs[0].throughput
    for result in runs:
        target = NEAR_LINEAR * result.workers
        verdict = "met" if result.throughput / base >= target else "MISSED"
        show(f"{result.workers} worker{'s' * (result.workers > 1)}", result, base,
             f"   target >= {target:.1f}: {verdict}")
    show("4 workers, limit = 1 worker's", bound, base, "")


def show(label: str, result: Run, base: float, verdict: str) -> None:
    """Two lines: throughput and its ratio to one worker's, then the provider's peak against its limit."""
    held = "held" if result.peak <= result.limit else "EXCEEDED"
    print(f"  {label:<30} {result.throughput:6.2f} jobs/s   scaling {result.throughput / base:4.2f}{verdict}")
    print(f"  {'':<30} peak {result.peak} tasks at once, max_concurrent {result.limit}: {held}")

if __name__ == "__main__":
    main()
