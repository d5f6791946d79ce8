"""Composing a Reel from footage, measured side by side in one run (medians over --runs), with issue 19's targets.

A 15 s Reel of five scenes (hook, three beats, the end card), each a different 1080x1920 clip, as stock footage
arrives:
  (a) the composer: the clips trimmed to their scenes, the captions (karaoke), the voiceover (espeak-ng, when
      installed) over the music bed, mixed to -14 LUFS
  (b) the floor: the same clips, trimmed the same, concatenated and encoded once with the same encoder and the same
      soundtrack file, no overlays
  (c) moviepy 2 composing the same timeline: the same clips cut to the scenes, a clip per caption line and one per
      lit word, the same soundtrack
  (d) `main.py generate --wait` end to end over the same clips as the persona's own (start-up, planning, the
      composer, the optimizer, preflight, cover and contact sheet), for a 15 s Reel

Each case runs in a fresh Python process. Usage: python bench/compose_bench.py [--runs 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from render_bench import child_main, moviepy_captions, run_case  # noqa: E402  (bench/ is this script's own folder)

from content.briefs.brief import Brief  # noqa: E402
from content.media import timeline  # noqa: E402
from content.media.ffmpeg import ffmpeg_exe, run_ffmpeg  # noqa: E402
from content.media.footage import Footage, Wanted  # noqa: E402
from content.media.frame import REELS  # noqa: E402
from content.media.look import Look  # noqa: E402
from content.media.platforms import platform_spec  # noqa: E402
from content.media.renderer import FPS, RenderOptions, render_reel  # noqa: E402
from content.media.video_utils import encoder_args  # noqa: E402
from core.home import Home  # noqa: E402
from core.settings import Account, ContentSettings, Style, Voiceover  # noqa: E402

TARGETS = {"compose_over_floor": 1.5, "moviepy_over_compose": 10.0, "generate_over_floor": 1.5}
SOURCES = ["mandelbrot=s=1080x1920:r=30", "testsrc2=s=1080x1920:r=30", "gradients=s=1080x1920:r=30:speed=0.02:n=5",
           "life=s=1080x1920:r=30:mold=10:ratio=0.4:life_color=#e0c090:death_color=#203040",
           "cellauto=s=1080x1920:r=30:rule=110"]
CLIP_S = 4.5
PROMPT = "Five morning habits that actually stick"


def bench_brief(duration_s: float) -> Brief:
    return Brief(account="bench", template="default", topic=PROMPT, hook=PROMPT,
                 beats=["Drink a full glass of water before coffee", "Step outside for five minutes of daylight",
                        "Write the one task that matters today"],
                 hashtags=["habits", "morningroutine"], cta="Follow for one small habit a day",
                 visual_prompt="sunrise kitchen", duration_s=duration_s)


def bench_look(home: Home) -> Look:
    """The default (kinetic) persona, its scenes from stock footage, narrated where espeak-ng is installed."""
    voice = Voiceover(enabled=shutil.which("espeak-ng") is not None)
    style = Style(voiceover=voice, scene_sources=["stock"])
    return Look.of(Account(name="bench", handle="bench", style=style), ContentSettings(), home)


def make_footage(folder: Path) -> list[Path]:
    """Five clips as a stock library hands them out: 1080x1920 H.264 at 30 fps, a little longer than a scene."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for index, source in enumerate(SOURCES):
        clip = folder / f"clip{index}.mp4"
        if not clip.exists():
            subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(CLIP_S),
                            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(clip)], check=True)
        clips.append(clip)
    return clips


class Footage5:
    """A stock library that hands out the bench's clips in turn."""

    def __init__(self, clips: list[Path]) -> None:
        self.clips = clips

    async def __call__(self, scene: timeline.Scene, wanted: Wanted, used: set[str]) -> Footage | None:
        clip = self.clips[len(used) % len(self.clips)]
        return Footage(clip, CLIP_S, 1080, 1920)


# ---- cases, each run in its own process ---------------------------------------------------------------------------


async def case_compose(workdir: Path, duration_s: float) -> dict[str, float]:
    clips = make_footage(workdir.parent / "footage")
    started = time.perf_counter()
    await render_reel(bench_brief(duration_s), bench_look(Home.at(workdir)), workdir / "work",
                      workdir / "composed.mp4", RenderOptions(), find_footage=Footage5(clips))
    return {"wall_s": time.perf_counter() - started}


def scene_lengths(workdir: Path, duration_s: float) -> list[float]:
    """The composer's own timeline (it runs first in every run): the floor and moviepy cut the clips the same."""
    scenes = timeline.load(workdir / "composed.mp4")
    assert scenes is not None, "run the compose case first"
    return [s["end_s"] - s["start_s"] for s in scenes]


async def case_floor(workdir: Path, duration_s: float) -> dict[str, float]:
    clips = make_footage(workdir.parent / "footage")
    return {"wall_s": await floor(clips, scene_lengths(workdir, duration_s), workdir / "work" / "soundtrack.wav",
                                  workdir / "floor.mp4")}


async def floor(clips: list[Path], lengths: list[float], audio: Path, output: Path) -> float:
    """Seconds to encode the clips trimmed to `lengths`, concatenated, with `audio`: no overlays, one encode."""
    inputs = [arg for clip in clips for arg in ("-i", str(clip))]
    parts = [f"[{i}:v]trim=duration={length:.3f},setpts=PTS-STARTPTS[v{i}]" for i, length in enumerate(lengths)]
    joined = "".join(f"[v{i}]" for i in range(len(lengths))) + f"concat=n={len(lengths)}:v=1:a=0[v]"
    started = time.perf_counter()
    await run_ffmpeg(["-y", *inputs, "-i", str(audio), "-filter_complex", ";".join([*parts, joined]),
                      "-map", "[v]", "-map", f"{len(clips)}:a", "-t", f"{sum(lengths):.3f}", "-r", str(FPS),
                      *encoder_args(platform_spec("instagram_reels"), fps=FPS, preset="veryfast", crf=21),
                      str(output)], what="floor")
    return time.perf_counter() - started


def case_moviepy(workdir: Path, duration_s: float) -> dict[str, float]:
    from moviepy import AudioFileClip, CompositeVideoClip, TextClip, VideoFileClip, concatenate_videoclips

    clips = make_footage(workdir.parent / "footage")
    lengths = scene_lengths(workdir, duration_s)
    look = bench_look(Home.at(workdir))
    started = time.perf_counter()
    scenes = concatenate_videoclips([VideoFileClip(str(clip)).subclipped(0, length)
                                     for clip, length in zip(clips, lengths)])
    layers = [scenes, *moviepy_captions(TextClip, look, bench_brief(duration_s), sum(lengths))]
    video = CompositeVideoClip(layers, size=(REELS.width, REELS.height)).with_duration(sum(lengths))
    video = video.with_audio(AudioFileClip(str(workdir / "work" / "soundtrack.wav")))
    video.write_videofile(str(workdir / "moviepy.mp4"), fps=FPS, codec="libx264", preset="veryfast",
                          audio_codec="aac", audio_bitrate="128k", logger=None,
                          ffmpeg_params=["-crf", "21", "-profile:v", "high", "-pix_fmt", "yuv420p",
                                         "-movflags", "+faststart"])
    return {"wall_s": time.perf_counter() - started}


def case_generate(workdir: Path, duration_s: float) -> dict[str, float]:
    """A user's `generate --wait` over the same clips as the persona's own library; and its own floor: the same
    clips cut to the scene lengths its timeline (in the sidecar) planned, with its sound."""
    clips = make_footage(workdir.parent / "footage")
    home = workdir / "home"
    subprocess.run([sys.executable, str(ROOT / "main.py"), "--home", str(home), "init"], check=True,
                   stdout=subprocess.DEVNULL)
    config = json.loads((home / "config" / "config.json").read_text())
    library = home / "data" / "bench_clips"
    library.mkdir(parents=True)
    for clip in clips:
        shutil.copy(clip, library / clip.name)
    config["accounts"][0]["style"].update(images_folder="data/bench_clips", scene_sources=["library"],
                                          template="kinetic",
                                          voiceover={"enabled": shutil.which("espeak-ng") is not None})
    (home / "config" / "config.json").write_text(json.dumps(config))
    started = time.perf_counter()
    made = subprocess.run([sys.executable, str(ROOT / "main.py"), "--home", str(home), "generate", PROMPT,
                           "--duration", str(duration_s), "--wait", "--json"], check=True, capture_output=True,
                          text=True).stdout
    wall = time.perf_counter() - started
    video = Path(json.loads(made)["path"])
    scenes = json.loads(video.with_suffix(".json").read_text())["scenes"]
    lengths = [s["end_s"] - s["start_s"] for s in scenes]
    return {"wall_s": wall, "floor_s": asyncio.run(floor(clips, lengths, video, workdir / "generate-floor.mp4"))}


CASES = {"compose": case_compose, "floor": case_floor, "moviepy": case_moviepy, "generate": case_generate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.case:
        child_main(args.case, args.workdir, args.duration, CASES)
        return
    with tempfile.TemporaryDirectory(prefix="compose-bench-") as scratch:
        root = Path(scratch)
        make_footage(root / "footage")
        results: dict[str, list[float]] = {name: [] for name in [*CASES, "generate_floor"]}
        for run in range(args.runs):
            for name in CASES:  # interleaved, so drift in machine load hits every case alike
                if name == "moviepy" and run > 0:
                    continue  # one moviepy run is plenty to see the ratio
                figures = run_case(name, root / f"run{run}", args.duration, __file__)
                results[name].append(figures["wall_s"])
                if "floor_s" in figures:
                    results["generate_floor"].append(figures["floor_s"])
                print(f"  run {run + 1}/{args.runs} {name}: {results[name][-1]:.2f} s", file=sys.stderr)
    median = {name: statistics.median(times) for name, times in results.items()}
    figures = {**{f"{name}_s": value for name, value in median.items()},
               "compose_over_floor": median["compose"] / median["floor"],
               "moviepy_over_compose": median["moviepy"] / median["compose"],
               "moviepy_overhead_over_ours": (median["moviepy"] - median["floor"])
               / max(median["compose"] - median["floor"], 0.01),
               "generate_over_floor": median["generate"] / median["generate_floor"]}
    print(f"compose bench, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, medians of {args.runs} runs "
          f"(moviepy: 1), {args.duration:g} s Reel of 5 footage scenes, 1080x1920 30 fps, x264 veryfast crf 21, "
          f"voiceover {'on' if shutil.which('espeak-ng') else 'off (no espeak-ng)'}")
    rows = [("(a) composer: footage + captions + voice + music", "compose_s", None),
            ("(b) floor: the same clips concatenated, no overlays", "floor_s", None),
            ("(c) moviepy, the same timeline", "moviepy_s", None),
            ("(d) generate --wait, end to end", "generate_s", None),
            ("(e) floor of (d): its clips cut to its timeline", "generate_floor_s", None),
            ("(a)/(b)", "compose_over_floor", "<="), ("(c)/(a)", "moviepy_over_compose", ">="),
            ("((c)-(b))/((a)-(b)): moviepy's cost above the floor over ours", "moviepy_overhead_over_ours", None),
            ("(d)/(e)", "generate_over_floor", "<=")]
    for label, key, sense in rows:
        value = figures[key]
        shown = f"{value:.2f} s" if key.endswith("_s") else f"{value:.1f}x"
        verdict = ""
        if sense:
            target = TARGETS[key]
            ok = value <= target if sense == "<=" else value >= target
            verdict = f"target {sense} {target:g}: {'met' if ok else 'MISSED'}"
        print(f"  {label:<62} {shown:>10}   {verdict}")


if __name__ == "__main__":
    main()
