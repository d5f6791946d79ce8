"""Moving scene backdrops that cost little to render, joined by the scene transition.

A scene is a clip (stock footage, a persona's own video: trimmed to the scene, looped if short, scaled to cover the
frame) or a still (a photo of the persona's, or a generated one: the palette's gradient under soft discs of light,
different for every scene). A still is decoded, scaled and converted to yuv420p once, then repeated by ffmpeg's
`loop` filter and panned with `crop`, which only moves data pointers; x264 predicts a pan well. Scenes are joined by
a cut or by an `xfade` transition starting at the scene's first frame.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from content.media.colour import TAG_FRAMES, TO_BT709, scale_options, tone_map
from content.media.frame import Frame
from content.media.media import VideoStream
from core.settings import VIDEO_SUFFIXES

PAN_PX = 360  # how far a scene's still pans over its scene, along the frame's long side (a third of it across)
STILL_SCALE = 4  # generated stills are drawn at quarter size and upscaled once by ffmpeg (no fine detail)
TRANSITION_S = 0.4
TRANSITIONS = {"fade": "fade", "slide": "slideleft", "zoom": "zoomin"}  # ours → ffmpeg xfade's; "cut" needs none
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass(frozen=True)
class Input:
    """An ffmpeg input: its arguments and the filter chain that turns it into a looped yuv420p still."""

    args: list[str]
    prepare: str
    moving: bool = False  # a clip, already moving: trimmed, not looped and panned


@dataclass(frozen=True)
class Backdrop:
    inputs: list[Input]
    graph: str  # consumes [bg0], [bg1]... and yields [bg]


def pan(frame: Frame) -> tuple[int, int]:
    """How far a still pans across and down its scene: most along the frame's long side."""
    if frame.height > frame.width:
        return PAN_PX // 3, PAN_PX
    if frame.width > frame.height:
        return PAN_PX, PAN_PX // 3
    return PAN_PX // 2, PAN_PX // 2


def scene_size(frame: Frame) -> tuple[int, int]:
    """A still's size: the frame and room to pan."""
    across, down = pan(frame)
    return frame.width + across, frame.height + down


OWN_COLOURS_LIGHT = 0.35  # how strong a lookalike scene's discs and glows of light are, of a generated scene's


def scene_still(path: Path, colours: list[str], seed: int, index: int, frame: Frame,
                own_colours: bool = False) -> Input:
    """A generated scene: the palette turned by `index` (each scene leads with another colour), its gradient shape
    alternating, under soft discs of light that make the pan plainly visible. With `own_colours` (the colours of
    the reference shot a lookalike's scene stands for), the colours are taken as they are and the light is fainter,
    so the scene keeps them."""
    shape = "radial" if index % 2 == 0 else "linear"
    size = scene_size(frame)
    light = OWN_COLOURS_LIGHT if own_colours else 1.0
    image = _gradient(colours if own_colours else rotated(colours, index), seed + index, shape, size,
                      light).astype(np.float32)
    rng = random.Random(seed * 31 + index)
    h, w = image.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(rng.randint(9, 14)):
        cx, cy, radius = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.04, 0.16) * w
        disc = np.clip((radius - np.hypot(x - cx, y - cy)) / (radius * 0.35), 0, 1)  # a soft edge
        image += disc[..., None] * (255 - image) * rng.uniform(0.12, 0.3) * light
    return _raw_still(path, np.clip(image, 0, 255).astype(np.uint8), size)


def _gradient(colours: list[str], seed: int, shape: str, size: tuple[int, int], light: float = 1.0) -> np.ndarray:
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
        image += glow[..., None] * rng.uniform(18, 38) * light
    return np.clip(image, 0, 255).astype(np.uint8)


def _raw_still(path: Path, image: np.ndarray, size: tuple[int, int]) -> Input:
    """`image` written raw to `path`, scaled up to `size` once by ffmpeg (gradients have no fine detail)."""
    image.tofile(path)
    h, w = image.shape[:2]
    return Input(
        ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", path.name],
        f"scale={size[0]}:{size[1]}:flags=bicubic{TO_BT709}",
    )


def image_still(path: Path, width: int, height: int) -> Input:
    """A photo scaled to cover `width` x `height` (cropped to fill, never stretched), JPEG full range to TV range."""
    return Input(
        ["-i", path.name],
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=lanczos{TO_BT709},crop={width}:{height}",
    )


def clip(path: Path, start_s: float, length_s: float, clip_s: float, fps: int, frame: Frame,
         video: VideoStream | None) -> Input:
    """`length_s` of a video from `start_s` (looped when the clip is shorter), at `fps`, scaled to cover the frame.
    Its sound is left out: the soundtrack is mixed on its own. A full-range clip (phone or MJPEG footage) is brought to
    TV range, a BT.601 (SD) one to BT.709 and an HDR one tone-mapped to SDR, as every Reel is delivered: `video` is
    its stream as the caller probed it (None: converted from the matrix ffmpeg reads in its tags)."""
    seek = ["-ss", f"{start_s:.3f}"] if start_s > 0 else []
    loop = ["-stream_loop", "-1"] if clip_s < length_s + 0.1 else []
    return Input(
        [*seek, *loop, "-t", f"{length_s + 0.5:.3f}", "-an", "-i", path.name],
        f"fps={fps},{tone_map(video)}scale={frame.width}:{frame.height}:force_original_aspect_ratio=increase"
        f":flags=bicubic{scale_options(video)},crop={frame.width}:{frame.height}",
        moving=True,
    )


def scenes(stills: list[Input], lengths: list[float], fps: int, transition: str, frame: Frame) -> Backdrop:
    """Each still panned in its own direction for its scene, each clip trimmed to it; the scenes joined by
    `transition` ("cut", or one of TRANSITIONS, which overlaps the next scene's first TRANSITION_S with the end of
    this one)."""
    directions = [("0", "t/{d}*{py}"), ("t/{d}*{px}", "0"), ("{px}-t/{d}*{px}", "{py}-t/{d}*{py}"),
                  ("{px}-t/{d}*{px}", "0")]
    overlap = 0.0 if transition == "cut" else TRANSITION_S
    across, down = pan(frame)
    parts = []
    for index, length in enumerate(lengths):
        shown = length + (overlap if index < len(lengths) - 1 else 0)
        if stills[index].moving:  # held on its last frame should it end early, then cut to the scene's frames
            parts.append(f"[bg{index}]tpad=stop_mode=clone:stop_duration=1,{_frames(shown, fps)}[s{index}]")
            continue
        x, y = (expr.format(d=f"{shown:.3f}", px=across, py=down) for expr in directions[index % 4])
        parts.append(f"[bg{index}]{_loop(shown, fps)},crop={frame.width}:{frame.height}:'{x}':'{y}'[s{index}]")
    if transition == "cut":
        joined = "".join(f"[s{index}]" for index in range(len(lengths))) + f"concat=n={len(lengths)}:v=1:a=0[bg]"
        return Backdrop(stills, ";".join([*parts, joined]))
    chain, previous, offset = [], "s0", 0.0
    for index in range(1, len(lengths)):
        offset += lengths[index - 1]
        chain.append(f"[{previous}][s{index}]xfade=transition={TRANSITIONS[transition]}:duration={overlap}"
                     f":offset={offset:.3f}[x{index}]")
        previous = f"x{index}"
    return Backdrop(stills, ";".join([*parts, *chain]) + f";[{previous}]null[bg]")


def find_media(folder: Path) -> list[Path]:
    """The photos and clips in `folder`, leaving out hidden files (a Mac's `._photo.jpg`) and folders."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES | set(VIDEO_SUFFIXES)
                  and p.is_file() and not p.name.startswith("."))


def rotated(colours: list[str], by: int) -> list[str]:
    by %= len(colours)
    return colours[by:] + colours[:by]


def _loop(duration_s: float, fps: int) -> str:
    """Repeat the one prepared frame; format conversion already happened once, before the loop. The time base is set
    to 1/fps first (in the input's own, 1/25 for raw frames, frame N at N/30 s would round) and the stream declared
    `fps` frames a second, so a scene lasts exactly its frames and the next one starts on its planned frame."""
    frames = max(round(duration_s * fps), 1)
    return f"loop=loop={frames - 1}:size=1:start=0,settb=1/{fps},setpts=N,fps={fps}"


def _frames(duration_s: float, fps: int) -> str:
    """Exactly the scene's frames of a clip already at `fps`, timed from zero on the same time base as a still's."""
    return f"trim=end_frame={max(round(duration_s * fps), 1)},settb=1/{fps},setpts=N,fps={fps}"


def _rgb(colour: str) -> tuple[float, float, float]:
    return float(int(colour[1:3], 16)), float(int(colour[3:5], 16)), float(int(colour[5:7], 16))


def prepare_chain(index: int, still: Input, grade: str | None = None) -> str:
    """Input `index` made ready for `scenes`: graded (a LUT file in the scratch folder) at its own size, before it is
    scaled — once for a still, which is looped after."""
    graded = f"lut3d=file={grade}," if grade else ""
    return f"[{index}:v]{graded}{still.prepare},format=yuv420p,{TAG_FRAMES},setsar=1[bg{index}]"

