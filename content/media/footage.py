"""Moving pictures for a scene from outside the renderer: stock footage (Pexels, Pixabay), a persona's own clips.

The renderer asks a `FindFootage` for each scene in turn (the caller decides which libraries, in which order); what
it gets back is a local video file it trims, scales to cover the frame and loops if short. Stock footage carries its
credit, which the sidecar keeps (the licences ask for none, the creators and the platforms like it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from content.media.media import VideoStream
from content.media.timeline import Scene

Orientation = Literal["portrait", "landscape", "square"]


@dataclass(frozen=True)
class Credit:
    source: str  # "pexels" | "pixabay"
    id: str
    page_url: str  # the video's own page at the library
    author: str
    author_url: str
    licence: str  # "Pexels License" | "Pixabay Content License"


@dataclass(frozen=True)
class Footage:
    path: Path
    duration_s: float
    width: int
    height: int
    credit: Credit | None = None  # None: the persona's own clip
    video: VideoStream | None = None  # its stream as probed: the colour it is converted from


@dataclass(frozen=True)
class Wanted:
    """What a scene needs: at least this long, this orientation, at least this size (smaller is upscaled, softer)."""

    duration_s: float
    orientation: Orientation
    width: int
    height: int


class FindFootage(Protocol):
    async def __call__(self, scene: Scene, wanted: Wanted, used: set[str]) -> Footage | None:
        """A clip for `scene`, not one of `used` (the ids of clips earlier scenes got), or None for the next source.
        Never raises for a library that failed: it logs one line and answers None."""
        ...


def orientation_of(width: int, height: int) -> Orientation:
    if abs(width - height) <= min(width, height) * 0.05:
        return "square"
    return "portrait" if height > width else "landscape"
