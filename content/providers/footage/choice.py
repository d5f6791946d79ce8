"""Which of a search's videos a scene gets, and which of its renditions is downloaded.

A library lists each video in several sizes. The scene wants its orientation, at least its length (a shorter clip is
looped by the renderer, which shows) and at least its frame's size (a smaller one is upscaled, softer); of the
renditions that are big enough, the smallest is fetched — a 4K file costs four times the 1080p one and looks the same
in a 1080 × 1920 Reel.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from content.media.footage import Wanted, orientation_of


@dataclass(frozen=True)
class Rendition:
    url: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def covers(self, wanted: Wanted) -> bool:
        return self.width >= wanted.width and self.height >= wanted.height


@dataclass(frozen=True)
class Video:
    id: str  # "<source>:<the library's id>", unique across libraries
    page_url: str
    author: str
    author_url: str
    duration_s: float
    renditions: tuple[Rendition, ...]


@dataclass(frozen=True)
class Choice:
    video: Video
    rendition: Rendition
    covers: bool  # the rendition is at least the frame's size
    long_enough: bool

    @property
    def fits(self) -> bool:
        """Nothing better can be found: a search may stop here."""
        return self.covers and self.long_enough


def pick(videos: Iterable[Video], wanted: Wanted, used: set[str]) -> Choice | None:
    """The best unused video of `wanted`'s orientation, in this order: big enough and long enough (the library's
    first, its most relevant), big enough (the longest), else the largest. None when no video is of the orientation."""
    choices = [choice for video in videos if video.id not in used and (choice := _choice(video, wanted))]
    if not choices:
        return None
    return max(choices, key=lambda c: (c.covers, c.long_enough, 0.0 if c.long_enough else c.video.duration_s,
                                       0 if c.covers else c.rendition.pixels))


def _choice(video: Video, wanted: Wanted) -> Choice | None:
    if not video.renditions:
        return None
    largest = max(video.renditions, key=lambda r: r.pixels)
    if orientation_of(largest.width, largest.height) != wanted.orientation:
        return None
    covering = [r for r in video.renditions if r.covers(wanted)]
    rendition = min(covering, key=lambda r: r.pixels) if covering else largest
    return Choice(video, rendition, bool(covering), video.duration_s >= wanted.duration_s)
