"""Moving backdrops that cost almost nothing to render and little to encode.

Each backdrop is one still, decoded, scaled and converted to yuv420p once, then repeated by ffmpeg's `loop` filter and
panned with `crop` (which only moves data pointers). A smooth still panned by whole pixels is what x264 predicts best,
and the fewer frames move the cheaper it is (bench/render_bench.py measures the ratio to a static frame).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from content.media.analysis import FREEZE_NOISE_DB
from content.media.captions import FRAME_H, FRAME_W

# Gradient backdrops drift up and down, DRIFT_PX at most, in whole steps once a second. A step of the smooth gradient
# changes no pixel by more than a few levels, so it reads as a slow drift, while x264 pays for one moved frame a second
# instead of thirty. The steps also keep the picture from ever freezing for 2 s (preflight's rule) while a caption
# holds still, as captions of a long Reel do: so each step is the smallest, from DRIFT_STEP_PX up, that changes the
# picture by STEP_MARGIN times freezedetect's noise floor (captions cover part of the backdrop, the encoder smooths it).
DRIFT_PX = 120
DRIFT_STEP_PX = 8
MAX_DRIFT_STEP_PX = DRIFT_PX // 2
STEP_MARGIN = 3
DRIFT_STEPS_PER_S = 1
PAN_PX = 360  # how far a Ken Burns photo pans over its segment
STILL_SCALE = 4  # gradients are drawn at quarter size and upscaled once by ffmpeg (they have no fine detail)
CROSSFADE_S = 0.5
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass(frozen=True)
class Input:
    """An ffmpeg input: its arguments and the filter chain that turns it into a looped yuv420p still."""

    args: list[str]
    prepare: str


@dataclass(frozen=True)
class Backdrop:
    inputs: list[Input]
    graph: str  # consumes [bg0], [bg1]... and yields [bg]
    moves: tuple[int, ...] | None  # the frames where the picture steps (None: it changes on every frame)


def gradient_still(path: Path, colours: list[str], seed: int, shape: str, size: tuple[int, int]) -> Input:
    """A raw RGB still: the palette blended along a diagonal or around a centre, with a few large soft glows."""
    return _raw_still(path, _gradient(colours, seed, shape, size), size)


def drifting_gradient(path: Path, colours: list[str], seed: int, shape: str, duration_s: float, fps: int) -> Backdrop:
    """A gradient still drifting slowly up and down (kinetic and list templates), by steps it visibly moves by."""
    size = (FRAME_W, FRAME_H + DRIFT_PX)
    image = _gradient(colours, seed, shape, size)
    return drifting(_raw_still(path, image, size), duration_s, fps, drift_step(image))


def drift_step(image: np.ndarray) -> int:
    """The smallest step (whole still pixels) that changes the frame by STEP_MARGIN times freezedetect's floor.

    freezedetect averages absolute differences over every Y, U and V sample of the picture, 4 of 6 being luma in
    yuv420p; counting luma alone (TV range, BT.709) errs on the safe side."""
    rgb = image.astype(np.float32)
    luma = (rgb @ np.array([0.2126, 0.7152, 0.0722], np.float32)) * 219 / 255
    rows = FRAME_H // STILL_SCALE
    needed = STEP_MARGIN * 10 ** (FREEZE_NOISE_DB / 20) * 256 * 6 / 4  # mean luma difference, in levels
    for step in range(DRIFT_STEP_PX, MAX_DRIFT_STEP_PX, STILL_SCALE):
        shift = step // STILL_SCALE
        if np.abs(luma[shift:shift + rows] - luma[:rows]).mean() >= needed:
            return step
    return MAX_DRIFT_STEP_PX


def _gradient(colours: list[str], seed: int, shape: str, size: tuple[int, int]) -> np.ndarray:
    """The palette blended along a diagonal or around a centre, with a few large soft glows: RGB at 1/STILL_SCALE."""
    rng = random.Random(seed)
    width, height = size
    w, h = width // STILL_SCALE, height // STILL_SCALE
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    y, x = y / h, x / w
    if shape == "radial":
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)
        position = np.clip(np.hypot((x - cx) * 0.6, y - cy) * 1.6, 0, 1)
    else:
        angle = rng.uniform(0.15, 0.45)
        position = np.clip(y * (1 - angle) + x * angle, 0, 1)
    stops = np.array([_rgb(c) for c in colours], dtype=np.float32)
    scaled = position * (len(stops) - 1)
    low = np.floor(scaled).astype(int).clip(0, len(stops) - 2)
    mix = (scaled - low)[..., None]
    image = stops[low] * (1 - mix) + stops[low + 1] * mix
    for _ in range(4):
        gx, gy, radius = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.25, 0.5)
        glow = np.exp(-(((x - gx) * w / h) ** 2 + (y - gy) ** 2) / (2 * (radius * w / h) ** 2))
        image += glow[..., None] * rng.uniform(18, 38)
    return np.clip(image, 0, 255).astype(np.uint8)


def _raw_still(path: Path, image: np.ndarray, size: tuple[int, int]) -> Input:
    """`image` written raw to `path`, scaled up to `size` once by ffmpeg (gradients have no fine detail)."""
    image.tofile(path)
    h, w = image.shape[:2]
    return Input(
        ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", path.name],
        f"scale={size[0]}:{size[1]}:flags=bicubic",
    )


def image_still(path: Path, width: int, height: int) -> Input:
    """A photo scaled to cover `width` x `height` (cropped to fill, never stretched), JPEG full range to TV range."""
    return Input(
        ["-i", path.name],
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos:out_range=tv,crop={width}:{height}",
    )


def drifting(still: Input, duration_s: float, fps: int, step_px: int) -> Backdrop:
    """One still drifting up and down by `step_px` every `fps / DRIFT_STEPS_PER_S` frames (counted in frames, so the
    steps land exactly where `moves` says). It turns after a whole step, so no two seconds show the same picture."""
    every = fps // DRIFT_STEPS_PER_S
    span = DRIFT_PX // step_px * step_px
    travelled = f"{step_px}*floor(n/{every})"
    y = f"{span}-abs({span}-mod({travelled},{2 * span}))"  # there and back again
    moves = tuple(range(every, round(duration_s * fps), every))
    return Backdrop([still], f"[bg0]{_loop(duration_s, fps)},crop={FRAME_W}:{FRAME_H}:0:'{y}'[bg]", moves)


def ken_burns(stills: list[Input], lengths: list[float], fps: int) -> Backdrop:
    """Each still panned in its own direction for its segment, joined by short crossfades."""
    directions = [("0", "t/{d}*{py}"), ("t/{d}*{px}", "0"), ("{px}-t/{d}*{px}", "{py}-t/{d}*{py}"),
                  ("{px}-t/{d}*{px}", "0")]
    parts, offset = [], 0.0
    for index, length in enumerate(lengths):
        shown = length + (CROSSFADE_S if index < len(lengths) - 1 else 0)
        x, y = (expr.format(d=f"{shown:.3f}", px=PAN_PX // 3, py=PAN_PX) for expr in directions[index % 4])
        parts.append(f"[bg{index}]{_loop(shown, fps)},crop={FRAME_W}:{FRAME_H}:'{x}':'{y}'[k{index}]")
    chain, previous = [], "k0"
    for index in range(1, len(lengths)):
        offset += lengths[index - 1]
        chain.append(f"[{previous}][k{index}]xfade=transition=fade:duration={CROSSFADE_S}:offset={offset:.3f}[x{index}]")
        previous = f"x{index}"
    graph = ";".join(parts + chain) + f";[{previous}]null[bg]"
    return Backdrop(stills, graph, None)


def find_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def rotated(colours: list[str], by: int) -> list[str]:
    by %= len(colours)
    return colours[by:] + colours[:by]


def _loop(duration_s: float, fps: int) -> str:
    """Repeat the one prepared frame; format conversion already happened once, before the loop. The time base is set
    to 1/fps first: in the input's own (1/25 for raw frames) frame N at N/30 s would round, and frames would be
    dropped and doubled on the way out."""
    frames = max(round(duration_s * fps), 1)
    return f"loop=loop={frames - 1}:size=1:start=0,settb=1/{fps},setpts=N"


def _rgb(colour: str) -> tuple[float, float, float]:
    return float(int(colour[1:3], 16)), float(int(colour[3:5], 16)), float(int(colour[5:7], 16))


def prepare_chain(index: int, still: Input) -> str:
    return f"[{index}:v]{still.prepare},format=yuv420p,setsar=1[bg{index}]"

