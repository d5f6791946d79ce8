"""Start-up cost of the command line: `main.py --help` (the parser only) beside `main.py status` (every room a
command loads, the database opened), each a fresh process, medians over the runs.

  target: --help under 0.5 s; the ratio status / --help says what the parser alone saves

Usage: python bench/startup_bench.py [--runs 5]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(*args: str, home: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "main.py"), "--home", str(home), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        subprocess.run([sys.executable, str(ROOT / "main.py"), "--home", folder, "init"], check=True,
                       stdout=subprocess.DEVNULL)
        seconds("status", home=home)  # the database made once, outside the measurement
        help_s = statistics.median(seconds("--help", home=home) for _ in range(runs))
        status_s = statistics.median(seconds("status", home=home) for _ in range(runs))
    print(f"main.py --help: {help_s:.3f} s (target < 0.5 s: {'met' if help_s < 0.5 else 'NOT met'})")
    print(f"main.py status: {status_s:.3f} s; status / --help = {status_s / help_s:.1f}")


if __name__ == "__main__":
    main()
