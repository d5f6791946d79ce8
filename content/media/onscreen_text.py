"""How much of a video's picture is text: captions, titles, stickers — found by their shape, with no OCR model to
download.

Overlaid text is strokes of one colour against an outline or a plate of another: in a frame's morphological gradient
it is dense, sharp edges packed into short, wide runs (words) of a height a phone can read. Each sampled frame's
strong edges are joined along the line into word boxes; boxes of a text's height, width and edge fill count. Two
measures follow: how much of the picture the boxes cover on average, and how often the text changes (the boxes of
one sample and the next mostly not the same place) — a caption shown whole changes once a sentence, one shown word
by word once a word.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from content.media.ffmpeg import ffmpeg_exe
from core.errors import MediaError

SAMPLES_PER_S = 6  # fast enough to tell words shown one by one (about three a second) from groups of three
WIDTH = 360  # enough for 30 px captions on a 1080 px frame to keep their strokes
EDGE = 90  # gradient (0..255) of a text stroke's edge: text is drawn sharp and contrasted
TEXT_HEIGHT = (0.008, 0.1)  # a word's box, as a share of the frame's height
FILL = (0.2, 0.85)  # the share of a word's box its edges cover: letters, not a solid shape or a lone line
CHANGED = 0.5  # the share of two samples' text boxes that is not in both, from which the text has changed
LEAST_TEXT = 0.005  # of the picture: less text than this in both of two samples is no change (noise, a sign)


@dataclass(frozen=True)
class OnScreenText:
    coverage: float  # the mean share of the picture text covers, 0..1
    changes_per_s: float  # how often the text on screen changes


async def onscreen_text(video: Path, width: int, height: int) -> OnScreenText:
    """The text on the picture of `video` (`width` x `height`), from frames sampled SAMPLES_PER_S a second."""
    height = max(2, round(height * WIDTH / width / 2) * 2)  # as ffmpeg scales it: even, the aspect kept
    process = await asyncio.create_subprocess_exec(
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-skip_loop_filter", "all", "-i", str(video), "-an",
        "-vf", f"fps={SAMPLES_PER_S},scale={WIDTH}:{height},format=gray", "-f", "rawvideo", "pipe:1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    raw, errors = await process.communicate()
    if process.returncode != 0:
        raise MediaError(f"{video.name}: cannot be decoded ({errors.decode(errors='replace').strip()[-200:]})")
    size = WIDTH * height
    frames = np.frombuffer(raw[:len(raw) // size * size], dtype=np.uint8).reshape(-1, height, WIDTH)
    return await asyncio.to_thread(_measured, frames)


def _measured(frames: np.ndarray) -> OnScreenText:
    if not len(frames):
        return OnScreenText(0.0, 0.0)
    masks = [text_boxes(frame) for frame in frames]
    changes = 0
    for before, after in zip(masks, masks[1:]):
        both, either = (before & after).sum(), (before | after).sum()
        if either >= LEAST_TEXT * before.size and 1 - both / either >= CHANGED:
            changes += 1
    return OnScreenText(round(float(np.mean([mask.mean() for mask in masks])), 4),
                        round(changes / (len(frames) / SAMPLES_PER_S), 3))


def text_boxes(frame: np.ndarray) -> np.ndarray:
    """Where one grey frame has word-shaped boxes of sharp edges (a boolean mask)."""
    height = frame.shape[0]
    edges = cv2.morphologyEx(frame, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > EDGE
    joined = cv2.morphologyEx(edges.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 9), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    boxes = np.zeros(frame.shape, dtype=bool)
    for x, y, w, h, _ in stats[1:count]:
        if not TEXT_HEIGHT[0] * height <= h <= TEXT_HEIGHT[1] * height or w < h:
            continue
        if FILL[0] <= edges[y:y + h, x:x + w].mean() <= FILL[1]:
            boxes[y:y + h, x:x + w] = True
    return boxes
