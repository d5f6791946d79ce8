"""The synthesized music bed against the one before it, side by side in one run (issue 20): spectral flatness (how
noise-like, i.e. drum-like, its spectrum is; a sine chord is ~0), the share of energy above 2 kHz (hats, snare,
the melody's overtones), and the loudness range (EBU R128 LRA: an arrangement that changes), over moods and seeds.

The earlier bed is the synthesizer as it was at `--before` (a git revision; default adcac4e, the last one with the
four-sine bed), loaded from git history into this process. Usage: python bench/music_bench.py [--seconds 30]
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.media import music  # noqa: E402
from content.media.ffmpeg import ffmpeg_exe  # noqa: E402

MOODS = ("upbeat", "calm", "dramatic")
SEEDS = (1, 7, 23)


def module_at(revision: str, folder: Path) -> ModuleType:
    """content/media/music.py as it was at `revision`."""
    source = subprocess.run(["git", "show", f"{revision}:content/media/music.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = folder / f"music_{revision}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"music_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def figures(synth: ModuleType, seconds: float, seed: int, mood: str, folder: Path) -> dict[str, float]:
    wav = synth.write_music_bed(folder / f"{synth.__name__}-{mood}-{seed}.wav", seconds, seed, mood)
    mono = np.concatenate(list(synth.synthesize(seconds, seed, mood))).mean(axis=1)
    size = 2048
    frames = np.lib.stride_tricks.sliding_window_view(mono, size)[::size // 2] * np.hanning(size)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12
    freqs = np.fft.rfftfreq(size, 1 / synth.SAMPLE_RATE)
    flatness = float((np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)).mean())
    highs = float(power[:, freqs > 2000].sum() / power.sum())
    stderr = subprocess.run([ffmpeg_exe(), "-nostats", "-i", str(wav), "-af", "ebur128", "-f", "null", "-"],
                            capture_output=True, text=True, check=True).stderr
    found = re.search(r"LRA:\s*([\d.]+)", stderr[stderr.rfind("Summary:"):])
    return {"flatness": flatness, "highs": highs, "lra": float(found.group(1)) if found else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--before", default="adcac4e")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="music-bench-") as scratch:
        folder = Path(scratch)
        before = module_at(args.before, folder)
        print(f"music bench: {args.seconds:g} s beds, seeds {SEEDS}; before = {args.before}, now = the working tree")
        print(f"  {'mood':<9} {'':<7} {'flatness':>9} {'> 2 kHz':>8} {'LRA':>6}")
        for mood in MOODS:
            for name, synth in (("before", before), ("now", music)):
                rows = [figures(synth, args.seconds, seed, mood, folder) for seed in SEEDS]
                median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
                print(f"  {mood:<9} {name:<7} {median['flatness']:>9.4f} {median['highs']:>7.2%} "
                      f"{median['lra']:>5.1f} LU")


if __name__ == "__main__":
    main()
