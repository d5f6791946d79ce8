"""Cut detection, measured side by side in one run on a clip with known cuts (issue 24's target: all 9 cuts, none
false, faster than both anchors).

The clip is tests/clips.py's KNOWN_CUTS at 1080x1920 (20.8 s, ten shots: a zoom, a fast pan, a cut between two shots
of one palette, drifting gradients, solid colours). A cut counts as found when one is reported within two frames of
it; every other report is false.
  (a) ours: content/media/shots.py (thumbnail decode, histogram and pixel distances against local motion)
  (b) PySceneDetect 0.7.2's ContentDetector at its defaults (threshold 27), through OpenCV
  (c) ffmpeg's scene score on a 270-wide downscale, select=gt(scene,0.3)

Usage: python bench/cut_bench.py [--runs 3]   (medians of the wall times)
"""
from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.media.ffmpeg import ffmpeg_exe  # noqa: E402
from content.media.shots import find_shots  # noqa: E402
from tests.clips import FPS, cut_times, make_known_cuts  # noqa: E402

TOLERANCE_S = 2 / FPS


def ours(clip: Path) -> list[float]:
    return list(asyncio.run(find_shots(clip, FPS)).cuts_s)


def pyscenedetect(clip: Path) -> list[float]:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(clip), ContentDetector())
    return [start.seconds for start, _ in scenes[1:]]


def ffmpeg_scene(clip: Path) -> list[float]:
    run = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(clip), "-an", "-vf",
                          "scale=270:-2,select='gt(scene,0.3)',showinfo", "-f", "null", "-"],
                         capture_output=True, text=True, check=True)
    return [float(t) for t in re.findall(r"pts_time:([\d.]+)", run.stderr)]


def score(found: list[float], truth: list[float]) -> tuple[int, int]:
    """(cuts found, false reports)."""
    hits = {t for t in truth if any(abs(f - t) <= TOLERANCE_S for f in found)}
    false = [f for f in found if not any(abs(f - t) <= TOLERANCE_S for t in truth)]
    return len(hits), len(false)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    truth = cut_times()
    with tempfile.TemporaryDirectory() as folder:
        clip = make_known_cuts(Path(folder) / "known_cuts.mp4")
        print(f"clip: 1080x1920, {FPS} fps, 20.8 s, {len(truth)} cuts at {', '.join(f'{t:g}' for t in truth)} s\n")
        results = {}
        for name, detector in (("(a) ours", ours), ("(b) PySceneDetect ContentDetector", pyscenedetect),
                               ("(c) ffmpeg scene>0.3 on a downscale", ffmpeg_scene)):
            times, found = [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                found = detector(clip)
                times.append(time.perf_counter() - start)
            hits, false = score(found, truth)
            results[name] = statistics.median(times)
            print(f"{name:<38} {hits}/{len(truth)} found, {false} false, {results[name]:.2f} s")
        mine = results["(a) ours"]
        print()
        for name, seconds in results.items():
            if name != "(a) ours":
                print(f"{name} / ours: {seconds / mine:.2f}x the time (target: above 1)")


if __name__ == "__main__":
    main()
