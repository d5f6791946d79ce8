"""A video's shots: where its cuts are, and what each shot looks like (palette, brightness, contrast, motion and the
camera's movement), from one decoding pass at thumbnail size.

A cut is a frame that differs from the one before far more than its neighbours differ from theirs. Two measures are
taken between consecutive frames: how far their colour histograms are apart (a cut to another scene changes the
colours; a pan does not) and how far their pixels are apart (a cut between two shots of one palette still changes
the pixels, but so does fast motion). A frame is a cut when it is the peak of its neighbourhood and either its
histogram distance is large, or its pixel distance stands well above the motion around it — so a fast pan, whose
every frame differs, is not a run of cuts, and a cut between two similar shots is not missed.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from content.media.ffmpeg import ffmpeg_exe
from core.errors import MediaError

WIDTH, HEIGHT = 64, 112  # what detection sees: enough for colours and motion, little to decode into
BINS = 4  # per channel: a 64-colour histogram
HISTOGRAM_CUT = 0.35  # half the L1 distance of two histograms (0..1) that is a cut on its own
PIXEL_FLOOR = 10.0  # mean absolute difference (0..255) below which nothing is a cut
PIXEL_OVER_MOTION = 3.0  # how far above its neighbourhood's motion a frame's difference must stand
NEIGHBOURHOOD = 8  # frames each side a cut must be the peak of, and whose motion it is measured against
MIN_SHOT_S = 0.3  # two cuts closer than this are one (a flash, a double detection)
STATIC_PX = 0.25  # mean shift per frame (thumbnail pixels) under which the camera is still


@dataclass(frozen=True)
class Shot:
    start_s: float
    end_s: float
    palette: tuple[tuple[str, float], ...]  # its main colours (#rrggbb) and the share of the picture each covers
    brightness: float  # mean luma, 0..1
    contrast: float  # luma's standard deviation, 0..1
    motion: float  # mean pixel change between its frames, 0..1
    camera: str  # static | pan left | pan right | tilt up | tilt down | moving

    @property
    def length_s(self) -> float:
        return round(self.end_s - self.start_s, 3)


@dataclass(frozen=True)
class Shots:
    fps: float
    duration_s: float
    cuts_s: tuple[float, ...]
    shots: tuple[Shot, ...]


async def find_shots(video: Path, fps: float) -> Shots:
    """Every cut and shot of `video` (whose frame rate is `fps`)."""
    frames = await _frames(video)
    if len(frames) < 2:
        raise MediaError(f"{video.name}: fewer than two frames, no shots to find")
    return await asyncio.to_thread(_shots, frames, fps)


async def _frames(video: Path) -> np.ndarray:
    """Every frame at thumbnail size, RGB, decoded without the deblocking filter (it changes no cut)."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-skip_loop_filter", "all", "-threads", "0",
        "-i", str(video), "-an", "-vf", f"scale={WIDTH}:{HEIGHT}:flags=fast_bilinear,format=rgb24", "-f", "rawvideo",
        "pipe:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    raw, errors = await process.communicate()
    if process.returncode != 0:
        raise MediaError(f"{video.name}: cannot be decoded ({errors.decode(errors='replace').strip()[-200:]})")
    size = WIDTH * HEIGHT * 3
    return np.frombuffer(raw[:len(raw) // size * size], dtype=np.uint8).reshape(-1, HEIGHT, WIDTH, 3)


def _shots(frames: np.ndarray, fps: float) -> Shots:
    histograms = _histograms(frames)
    colour = 0.5 * np.abs(np.diff(histograms, axis=0)).sum(axis=1)  # [i]: between frame i and i + 1
    pixels = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    cuts = _cuts(colour, pixels, int(round(MIN_SHOT_S * fps)))
    bounds = [0, *cuts, len(frames)]
    shots = tuple(_shot(frames[a:b], histograms[a:b], pixels[a:b - 1], a / fps, b / fps)
                  for a, b in zip(bounds, bounds[1:]))
    return Shots(fps, round(len(frames) / fps, 3), tuple(round(c / fps, 3) for c in cuts), shots)


def _histograms(frames: np.ndarray) -> np.ndarray:
    levels = (frames // (256 // BINS)).astype(np.int32)
    index = (levels[..., 0] * BINS + levels[..., 1]) * BINS + levels[..., 2]
    counts = np.stack([np.bincount(f.ravel(), minlength=BINS ** 3) for f in index]).astype(np.float64)
    return counts / counts.sum(axis=1, keepdims=True)


def _cuts(colour: np.ndarray, pixels: np.ndarray, min_gap: int) -> list[int]:
    """The frames that begin a new shot (a difference at [i] is a cut at frame i + 1)."""
    found: list[int] = []
    for i in range(len(pixels)):
        lo, hi = max(0, i - NEIGHBOURHOOD), min(len(pixels), i + NEIGHBOURHOOD + 1)
        around = np.concatenate([pixels[lo:i], pixels[i + 1:hi]])
        if pixels[i] < PIXEL_FLOOR or pixels[i] < pixels[lo:hi].max():
            continue  # too small, or not its neighbourhood's peak
        motion = float(np.median(around)) if around.size else 0.0
        if colour[i] >= HISTOGRAM_CUT and pixels[i] >= 1.5 * motion or pixels[i] >= PIXEL_OVER_MOTION * max(
                motion, 1.0):
            if not found or i + 1 - found[-1] >= min_gap:
                found.append(i + 1)
    return found


def _shot(frames: np.ndarray, histograms: np.ndarray, pixels: np.ndarray, start_s: float, end_s: float) -> Shot:
    luma = (frames @ np.array([0.2126, 0.7152, 0.0722])) / 255.0
    return Shot(round(start_s, 3), round(end_s, 3), _palette(frames, histograms.mean(axis=0)),
                round(float(luma.mean()), 3), round(float(luma.std(axis=(1, 2)).mean()), 3),
                round(float(pixels.mean()) / 255.0 if pixels.size else 0.0, 4), _camera(luma))


def _palette(frames: np.ndarray, histogram: np.ndarray, colours: int = 3) -> tuple[tuple[str, float], ...]:
    """The shot's most covering histogram bins, each as the mean colour of its pixels."""
    levels = (frames // (256 // BINS)).astype(np.int32)
    index = ((levels[..., 0] * BINS + levels[..., 1]) * BINS + levels[..., 2]).ravel()
    pixels = frames.reshape(-1, 3)
    main = []
    for bin_ in np.argsort(histogram)[::-1][:colours]:
        if histogram[bin_] < 0.02:
            break
        mean = pixels[index == bin_].mean(axis=0)
        main.append(("#" + "".join(f"{int(round(c)):02x}" for c in mean), round(float(histogram[bin_]), 3)))
    return tuple(main)


def _camera(luma: np.ndarray) -> str:
    """How the picture moves as a whole: the mean frame-to-frame shift by phase correlation."""
    if len(luma) < 2:
        return "static"
    spectra = np.fft.fft2(luma - luma.mean(axis=(1, 2), keepdims=True))
    shifts = []
    for a, b in zip(spectra, spectra[1:]):
        cross = a * np.conj(b)
        peak = np.unravel_index(np.argmax(np.abs(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)))), luma.shape[1:])
        dy, dx = (p - s if p > s // 2 else p for p, s in zip(peak, luma.shape[1:]))
        shifts.append((float(dx), float(dy)))
    dx, dy = np.mean(shifts, axis=0)
    if max(abs(dx), abs(dy)) < STATIC_PX:
        moved = np.abs(np.diff(luma, axis=0)).mean()
        return "static" if moved < 0.01 else "moving"
    if abs(dx) >= abs(dy):
        return "pan right" if dx > 0 else "pan left"  # phase correlation gives the picture's shift negated
    return "tilt up" if dy > 0 else "tilt down"
