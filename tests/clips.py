"""Clips with known answers, made with ffmpeg's own sources: the cut-detection tests and bench/cut_bench.py read
them. KNOWN_CUTS is a 20.8 s vertical clip of ten shots (nine cuts) meant to be hard for a detector: a zoom, a fast
pan whose every frame differs, a cut between two shots of one palette, gradients that drift, solid colours (their
palettes are known), over a click track at a known tempo."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from content.media.ffmpeg import ffmpeg_exe

FPS = 30
TEMPO_BPM = 120


@dataclass(frozen=True)
class Source:
    lavfi: str  # an ffmpeg source at the clip's size ({w}, {h}), moving or not
    seconds: float
    colour: str | None = None  # the shot's one colour, for a solid shot


KNOWN_CUTS = (
    Source("testsrc2=s={w}x{h}:r=30", 2.4),
    Source("gradients=s={w}x{h}:r=30:c0=0x264653:c1=0x2a9d8f:speed=0.03:seed=3", 1.6),
    Source("mandelbrot=s={w}x{h}:r=30:start_scale=2:end_scale=0.3", 3.0),
    Source("testsrc2=s={w2}x{h}:r=30,crop={w}:{h}:x='min(t*{w}/2,{w})':y=0", 2.8),  # a fast pan
    Source("testsrc2=s={w}x{h}:r=30,hue=h=25,vflip", 1.2),  # the same palette as the pan, another picture
    Source("color=c=0xe76f51:s={w}x{h}:r=30", 2.2, "#e76f51"),
    Source("gradients=s={w}x{h}:r=30:c0=0xf4a261:c1=0xe9c46a:speed=0.05:seed=9", 1.8),
    Source("color=c=0x2a9d8f:s={w}x{h}:r=30", 2.0, "#2a9d8f"),
    Source("mandelbrot=s={w}x{h}:r=30:start_x=-0.75:start_y=0.1:start_scale=0.5:end_scale=0.1", 1.4),
    Source("smptehdbars=s={w}x{h}:r=30", 2.4),
)


# The same ten shots, each a little longer and its colours turned a little: a lookalike of KNOWN_CUTS.
LOOKALIKE = tuple(Source(f"{s.lavfi},hue=h=12", round(s.seconds * 1.1, 1)) for s in KNOWN_CUTS)
# Nothing like it: two long, slow shots in other colours, a slower and quieter beat.
UNRELATED = (Source("color=c=0x1d3557:s={w}x{h}:r=30", 8.0),
             Source("gradients=s={w}x{h}:r=30:c0=0x6d597a:c1=0x355070:speed=0.01:seed=1", 7.0))


def cut_times(sources: tuple[Source, ...] = KNOWN_CUTS) -> list[float]:
    times, at = [], 0.0
    for source in sources[:-1]:
        at += source.seconds
        times.append(round(at, 3))
    return times


def make_known_cuts(path: Path, width: int = 1080, height: int = 1920, sources: tuple[Source, ...] = KNOWN_CUTS,
                    tempo_bpm: float = TEMPO_BPM, level: float = 0.6) -> Path:
    """The clip, H.264 with AAC clicks at `tempo_bpm`."""
    total = sum(source.seconds for source in sources)
    args = [ffmpeg_exe(), "-v", "error", "-y"]
    for source in sources:
        args += ["-f", "lavfi", "-t", f"{source.seconds}", "-i",
                 source.lavfi.format(w=width, h=height, w2=2 * width)]
    beat = 60 / tempo_bpm
    args += ["-f", "lavfi", "-t", f"{total}", "-i",
             f"aevalsrc='{level}*sin(2*PI*880*t)*exp(-40*mod(t,{beat}))':s=44100"]
    chains = "".join(f"[{i}:v]scale={width}:{height},setsar=1,fps={FPS},format=yuv420p[v{i}];"
                     for i in range(len(sources)))
    joined = "".join(f"[v{i}]" for i in range(len(sources)))
    args += ["-filter_complex", f"{chains}{joined}concat=n={len(sources)}:v=1:a=0[v]", "-map", "[v]",
             "-map", f"{len(sources)}:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "60",
             "-c:a", "aac", "-shortest", str(path)]
    subprocess.run(args, check=True)
    return path


def with_sound(video: Path, sound: Path, path: Path, sound_db: float = 0.0, under: Path | None = None,
               under_db: float = 0.0) -> Path:
    """`video`'s picture with `sound` (at `sound_db`) for its soundtrack, over `under` (at `under_db`) when given,
    padded with silence or cut to the picture's length."""
    args = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(video), "-i", str(sound)]
    mix = f"[1:a]volume={sound_db}dB,apad[a]"
    if under is not None:
        args += ["-i", str(under)]
        mix = (f"[1:a]volume={sound_db}dB,apad[s];[2:a]volume={under_db}dB,apad[u];"
               "[s][u]amix=inputs=2:duration=first:normalize=0[a]")
    args += ["-filter_complex", mix, "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", "-shortest",
             str(path)]
    subprocess.run(args, check=True)
    return path
