"""A video's frame: its size and the safe area inside it that each platform's own buttons and captions leave clear.

Captions are laid out inside the safe area, backdrops fill the whole frame. Each platform's spec
(content/media/platforms.py) gives its size and, as fractions of it, how much its interface covers on each side.
"""
from __future__ import annotations

from dataclasses import dataclass

from content.media.platforms import PlatformSpec, aspect_of, platform_spec

FPS = 30  # every Reel's frame rate


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    top: int  # the safe area, in pixels from the frame's top-left corner
    bottom: int
    left: int
    right: int

    @classmethod
    def of(cls, spec: PlatformSpec) -> "Frame":
        margins = spec.covered
        return cls(spec.width, spec.height, round(spec.height * margins.top), round(spec.height * (1 - margins.bottom)),
                   round(spec.width * margins.left), spec.width - round(spec.width * margins.right))

    @property
    def safe_width(self) -> int:
        return self.right - self.left

    @property
    def safe_height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> tuple[int, int]:
        """The middle of the safe area, where centred captions go."""
        return (self.left + self.right) // 2, (self.top + self.bottom) // 2

    @property
    def aspect(self) -> str:
        return aspect_of(self.width, self.height)


REELS = Frame.of(platform_spec("instagram_reels"))
