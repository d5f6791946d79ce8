"""Render speed and memory, measured side by side in one run (medians over --runs), with the issue's targets.

  (a) our local renderer: a 15 s Reel of the default (kinetic) template
  (b) the floor: the same scenes (the same stills, panned, cut together) encoded once with the same encoder and
      audio, no captions
  (c) the same template composed with moviepy 2 (the panned scenes, caption and highlighted-word clips, audio)
  (d) optimizer: remuxing a compliant file vs transcoding the same file, and VMAF of the transcode
  (e) (a) with the `pop` caption preset (groups popping in, so libass draws every frame of an entrance) in Anton
      capitals, with colour emoji laid over the captions
  peak RSS of (a) for a 60 s Reel (the Python process plus its largest ffmpeg child)

Each case runs in a fresh Python process so its peak RSS is its own. Usage: python bench/render_bench.py [--runs 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.briefs.brief import Brief  # noqa: E402
from content.media import backgrounds, captions  # noqa: E402
from content.media.ffmpeg import run_ffmpeg  # noqa: E402
from content.media.fonts import font_chain  # noqa: E402
from content.media.frame import REELS  # noqa: E402
from content.media.look import Look  # noqa: E402
from content.media.platforms import platform_spec  # noqa: E402
from content.media.renderer import FPS, RenderOptions, render_reel  # noqa: E402
from content.media.video_utils import encoder_args, optimize  # noqa: E402
from core.home import Home  # noqa: E402
from core.settings import Account, ContentSettings, Style  # noqa: E402

TARGETS = {"render_s": 5.0, "render_over_floor": 1.5, "moviepy_over_render": 5.0, "rss_60s_mb": 500,
           "transcode_over_remux": 20.0, "vmaf": 95.0}


def bench_brief(duration_s: float) -> Brief:
    return Brief(
        account="bench", template="default", topic="Five morning habits that actually stick",
        hook="Five morning habits that actually stick",
        beats=["Drink a full glass of water before coffee", "Step outside for five minutes of daylight",
               "Write the one task that matters today", "Move your body while the kettle boils"],
        hashtags=["habits", "morningroutine", "productivity"], cta="Follow for one small habit a day",
        visual_prompt="sunrise kitchen", duration_s=duration_s,
    )


def bench_look(home: Home, style: Style = Style()) -> Look:
    return Look.of(Account(name="bench", handle="bench", style=style), ContentSettings(), home)


# ---- cases, each run in its own process ---------------------------------------------------------------------------


async def case_render(workdir: Path, duration_s: float) -> dict[str, float]:
    started = time.perf_counter()
    await render_reel(bench_brief(duration_s), bench_look(Home.at(workdir)), workdir / "work",
                      workdir / "render.mp4", RenderOptions())
    return {"wall_s": time.perf_counter() - started}


async def case_pop(workdir: Path, duration_s: float) -> dict[str, float]:
    brief = bench_brief(duration_s)
    brief = brief.model_copy(update={"hook": f"{brief.hook} 🔥", "cta": f"{brief.cta} 👩‍💻"})
    look = bench_look(Home.at(workdir), Style(font="Anton", uppercase=True, captions="pop"))
    started = time.perf_counter()
    await render_reel(brief, look, workdir / "work-pop", workdir / "pop.mp4", RenderOptions())
    return {"wall_s": time.perf_counter() - started}


def bench_scenes(workdir: Path, look: Look, duration_s: float) -> tuple[backgrounds.Backdrop, list[float]]:
    """The kinetic template's scenes for the bench brief: one generated still a caption, cut together."""
    lengths = [s.end_s - s.start_s for s in captions.reading_timeline(bench_brief(duration_s), duration_s)]
    stills = [backgrounds.scene_still(workdir / f"scene-{index}.rgb", look.style.palette.background, 1, index,
                                         REELS)
              for index in range(len(lengths))]
    return backgrounds.scenes(stills, lengths, FPS, "cut", REELS), lengths


async def case_floor(workdir: Path, duration_s: float) -> dict[str, float]:
    """The same scenes, no captions; the same soundtrack file; the same encoder."""
    look = bench_look(Home.at(workdir))
    audio = workdir / "work" / "soundtrack.wav"
    if not audio.exists():
        await render_reel(bench_brief(duration_s), look, workdir / "work", workdir / "render.mp4")
    backdrop, _ = bench_scenes(workdir, look, duration_s)
    graph = ";".join([*(backgrounds.prepare_chain(i, still) for i, still in enumerate(backdrop.inputs)),
                      backdrop.graph])
    started = time.perf_counter()
    await run_ffmpeg(["-y", *[arg for still in backdrop.inputs for arg in still.args], "-i", str(audio),
                      "-filter_complex", graph, "-map", "[bg]", "-map", f"{len(backdrop.inputs)}:a",
                      "-t", f"{duration_s}", "-r", str(FPS),
                      *encoder_args(platform_spec("instagram_reels"), fps=FPS, preset="veryfast", crf=21),
                      str(workdir / "floor.mp4")], what="floor", cwd=workdir)
    return {"wall_s": time.perf_counter() - started}


def case_moviepy(workdir: Path, duration_s: float) -> dict[str, float]:
    """The kinetic template in moviepy: the panned scenes, each caption as a clip, each lit word as its own clip."""
    import numpy as np
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, TextClip

    look = bench_look(Home.at(workdir))
    brief = bench_brief(duration_s)
    audio = workdir / "work" / "soundtrack.wav"
    if not audio.exists():
        asyncio.run(render_reel(brief, look, workdir / "work", workdir / "render.mp4"))
    started = time.perf_counter()
    _, lengths = bench_scenes(workdir, look, duration_s)
    width, height = backgrounds.scene_size(REELS)
    across, down = backgrounds.pan(REELS)
    clips, start = [], 0.0
    for index, length in enumerate(lengths):
        small = np.fromfile(workdir / f"scene-{index}.rgb", np.uint8).reshape(height // 4, width // 4, 3)
        still = small.repeat(4, axis=0).repeat(4, axis=1)
        clips.append(ImageClip(still).with_start(start).with_duration(length).with_position(
            lambda t, d=length: (-t / d * across, -t / d * down)))
        start += length
    clips += moviepy_captions(TextClip, look, brief, duration_s)
    video = CompositeVideoClip(clips, size=(REELS.width, REELS.height)).with_duration(duration_s)
    video = video.with_audio(AudioFileClip(str(audio)))
    video.write_videofile(str(workdir / "moviepy.mp4"), fps=FPS, codec="libx264", preset="veryfast",
                          audio_codec="aac", audio_bitrate="128k", logger=None,
                          ffmpeg_params=["-crf", "21", "-profile:v", "high", "-pix_fmt", "yuv420p",
                                         "-movflags", "+faststart"])
    return {"wall_s": time.perf_counter() - started}


def moviepy_captions(text_clip, look, brief, duration_s):  # type: ignore[no-untyped-def]
    """The kinetic template's captions as moviepy clips: one a caption line, and one over it for each lit word."""
    chain = font_chain(look.font)
    palette = look.style.palette
    clips = []
    for segment in captions.reading_timeline(brief, duration_s)[:-1]:
        block = captions.fit_block(segment.words, chain, 84, REELS.safe_height,
                                   REELS.safe_width - 2 * captions.TEXT_MARGIN)
        top = REELS.centre[1] - block.height / 2
        line_h = block.height / len(block.lines)
        for number, line in enumerate(block.lines):
            text = captions.join_words(line)
            left = REELS.centre[0] - chain.width(text, block.size) / 2
            y = top + number * line_h
            clips.append(_text(text_clip, look, text, block.size, palette.text, segment.start_s, segment.end_s,
                               (left, y)))
            for index, word in enumerate(line):
                prefix = captions.join_words(line[:index]) + (" " if index else "")
                clips.append(_text(text_clip, look, word.text, block.size, palette.accent, word.start_s,
                                   word.end_s, (left + chain.width(prefix, block.size), y)))
    return clips


def _text(text_clip, look, text, size, colour, start, end, position):  # type: ignore[no-untyped-def]
    """PIL's font size is an em, libass's a line: the same size as libass draws it (content/media/fonts.py)."""
    em = round(size / font_chain(look.font).primary.line_em)
    return (text_clip(font=str(look.font), text=text, font_size=em, color=colour, stroke_color="#101010",
                      stroke_width=5).with_start(start).with_end(end).with_position(position))


async def case_optimizer(workdir: Path, duration_s: float) -> dict[str, float]:
    """Remux a compliant Reel (ours) vs transcode the same file; VMAF of the transcode against it."""
    source = workdir / "render.mp4"
    if not source.exists():
        await case_render(workdir, duration_s)
    spec = platform_spec("instagram_reels")
    started = time.perf_counter()
    await optimize(source, spec, workdir / "remuxed.mp4")
    remux = time.perf_counter() - started
    started = time.perf_counter()
    await optimize(source, spec, workdir / "transcoded.mp4", force_transcode=True)
    transcode = time.perf_counter() - started
    from content.media.quality import vmaf
    score = await vmaf(workdir / "transcoded.mp4", source)
    return {"remux_s": remux, "transcode_s": transcode, "vmaf": score}


CASES = {"render": case_render, "floor": case_floor, "moviepy": case_moviepy, "optimizer": case_optimizer,
         "pop": case_pop}


def run_case(name: str, workdir: Path, duration_s: float, script: str = __file__) -> dict[str, float]:
    """Run one case of `script` in a fresh interpreter and return its figures plus its peak RSS (self + largest
    child)."""
    output = subprocess.run(
        [sys.executable, script, "--case", name, "--workdir", str(workdir), "--duration", str(duration_s)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def child_main(name: str, workdir: Path, duration_s: float, cases: dict[str, Any] = CASES) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    case = cases[name]
    figures = asyncio.run(case(workdir, duration_s)) if asyncio.iscoroutinefunction(case) else case(
        workdir, duration_s)
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({**figures, "rss_mb": self_mb + child_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.case:
        child_main(args.case, args.workdir, args.duration)
        return
    with tempfile.TemporaryDirectory(prefix="render-bench-") as scratch:
        root = Path(scratch)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in ("render", "floor", "moviepy", "pop")}
        for run in range(args.runs):
            for name in results:  # interleaved, so drift in machine load hits every case alike
                results[name].append(run_case(name, root / f"run{run}", args.duration))
                print(f"  run {run + 1}/{args.runs} {name}: {results[name][-1]['wall_s']:.2f} s", file=sys.stderr)
        optimizer = [run_case("optimizer", root / f"run{run}", args.duration) for run in range(args.runs)]
        long_render = run_case("render", root / "long", 60.0)
    median = {name: statistics.median(r["wall_s"] for r in runs) for name, runs in results.items()}
    figures = {
        "render_s": median["render"],
        "floor_s": median["floor"],
        "moviepy_s": median["moviepy"],
        "render_over_floor": median["render"] / median["floor"],
        "pop_s": median["pop"],
        "pop_over_render": median["pop"] / median["render"],
        "moviepy_over_render": median["moviepy"] / median["render"],
        "rss_15s_mb": statistics.median(r["rss_mb"] for r in results["render"]),
        "rss_60s_mb": long_render["rss_mb"],
        "render_60s_s": long_render["wall_s"],
        "remux_s": statistics.median(r["remux_s"] for r in optimizer),
        "transcode_s": statistics.median(r["transcode_s"] for r in optimizer),
        "vmaf": statistics.median(r["vmaf"] for r in optimizer),
    }
    figures["transcode_over_remux"] = figures["transcode_s"] / figures["remux_s"]
    print_table(figures, args.runs, args.duration)


def print_table(figures: dict[str, float], runs: int, duration_s: float) -> None:
    print(f"render bench, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, medians of {runs} runs, "
          f"{duration_s:g} s Reel, 1080x1920 30 fps, x264 veryfast crf 21")
    rows = [
        ("(a) local renderer", f"{figures['render_s']:.2f} s", "render_s", "<="),
        ("(b) floor: the same scenes, no captions", f"{figures['floor_s']:.2f} s", None, ""),
        ("(c) moviepy, same template", f"{figures['moviepy_s']:.2f} s", None, ""),
        ("(a)/(b)", f"{figures['render_over_floor']:.2f}x", "render_over_floor", "<="),
        ("(c)/(a)", f"{figures['moviepy_over_render']:.1f}x", "moviepy_over_render", ">="),
        ("peak RSS, 15 s Reel", f"{figures['rss_15s_mb']:.0f} MB", None, ""),
        ("peak RSS, 60 s Reel", f"{figures['rss_60s_mb']:.0f} MB ({figures['render_60s_s']:.1f} s)", "rss_60s_mb",
         "<="),
        ("(e) pop preset, Anton, colour emoji", f"{figures['pop_s']:.2f} s", None, ""),
        ("(e)/(a): what the animation costs", f"{figures['pop_over_render']:.2f}x", None, ""),
        ("optimizer remux", f"{figures['remux_s']:.2f} s", None, ""),
        ("optimizer transcode", f"{figures['transcode_s']:.2f} s", None, ""),
        ("transcode/remux", f"{figures['transcode_over_remux']:.1f}x", "transcode_over_remux", ">="),
        ("VMAF transcode vs source", f"{figures['vmaf']:.2f}", "vmaf", ">="),
    ]
    for label, value, target_key, sense in rows:
        verdict = ""
        if target_key:
            target = TARGETS[target_key]
            ok = figures[target_key] <= target if sense == "<=" else figures[target_key] >= target
            verdict = f"target {sense} {target:g}: {'met' if ok else 'MISSED'}"
        print(f"  {label:<40} {value:>22}   {verdict}")


if __name__ == "__main__":
    main()
