"""Delivery specs per platform, with where each number comes from (../shared/reference/trends_instagram.md §3)."""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path


@dataclass(frozen=True)
class Covered:
    """How much of the frame the platform's interface covers on each side, as fractions of its height (top,
    bottom) and width (left, right): captions stay clear of it."""

    top: float
    bottom: float
    left: float
    right: float
    source: str


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    width: int
    height: int
    target_fps: int
    min_fps: float
    max_fps: float
    min_duration_s: float
    max_duration_s: float
    max_size_mb: float
    max_video_kbps: int | None
    video_codecs: tuple[str, ...]
    audio_codecs: tuple[str, ...]
    max_audio_rate: int
    max_audio_channels: int
    no_edit_lists: bool
    source: str
    covered: Covered

    @property
    def max_size_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)


_META_REELS = "Meta IG User Media reference, Reel specifications (2026 copy: 300 MB)"
_YOUTUBE = "YouTube Help 6375112 (recommended upload encoding settings): 16:9 1920x1080, 21:9 2560x1080; 12 h max"
# Where each interface sits. Instagram's Reels UI covers the top ~14% (account header, camera and close buttons), the
# bottom ~35% (caption, audio label, comment bar) and a button column on the right ~12% wide: Meta's Reels safe-zone
# guidance as restated in issue 3 and ../shared/reference/trends_instagram.md §3.1 (text between y 240 and 1680 for the
# grid's 3:4 crop). The others are the figures creators' safe-zone templates agree on (2026), kept conservative.
REELS_UI = Covered(0.14, 0.35, 0.06, 0.12, "Meta Reels safe zone (issue 3, trends_instagram.md §3.1)")
STORY_UI = Covered(0.14, 0.20, 0.06, 0.06, "Stories: header and reply bar; no button column")
FEED_UI = Covered(0.06, 0.10, 0.04, 0.04, "feed 4:5: the grid shows the middle 3:4 (34 px a side at 1080x1350)")
SQUARE_UI = Covered(0.06, 0.10, 0.06, 0.06, "feed 1:1: no overlay; a margin for the grid crop and rounded corners")
TIKTOK_UI = Covered(0.10, 0.28, 0.06, 0.15, "TikTok: top tabs, caption and sound bar, a wider button column")
SHORTS_UI = Covered(0.10, 0.28, 0.06, 0.14, "Shorts: top bar, title and channel row, button column")
LANDSCAPE_UI = Covered(0.08, 0.16, 0.05, 0.05, "YouTube player: title bar on top, progress bar and controls below")

PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec(
            "instagram_reels", 1080, 1920, 30, 23, 60, 3, 15 * 60, 300, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True, _META_REELS, REELS_UI,
        ),
        PlatformSpec(
            "instagram_story", 1080, 1920, 30, 23, 60, 3, 60, 100, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True,
            "Meta IG User Media reference, Story video: 3-60 s, 100 MB (as quoted by third parties)", STORY_UI,
        ),
        PlatformSpec(
            "instagram_feed", 1080, 1350, 30, 23, 60, 3, 15 * 60, 300, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True,
            f"{_META_REELS}; feed videos publish as Reels, 4:5 is the feed crop", FEED_UI,
        ),
        PlatformSpec(
            "instagram_square", 1080, 1080, 30, 23, 60, 3, 15 * 60, 300, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True,
            f"{_META_REELS}; 1:1, the square feed post", SQUARE_UI,
        ),
        PlatformSpec(
            "tiktok", 1080, 1920, 30, 23, 60, 3, 10 * 60, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False,
            "TikTok Content Posting API media transfer guide: 23-60 fps, <=4 GB, up to 10 min via API", TIKTOK_UI,
        ),
        PlatformSpec(
            "youtube_shorts", 1080, 1920, 30, 23, 60, 3, 180, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False,
            "YouTube Help 15424877: square or vertical up to 3 minutes is a Short; player caps at 1080p", SHORTS_UI,
        ),
        PlatformSpec(
            "youtube", 1920, 1080, 30, 23, 60, 3, 12 * 3600, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False, _YOUTUBE, LANDSCAPE_UI,
        ),
        PlatformSpec(
            "youtube_wide", 2560, 1080, 30, 23, 60, 3, 12 * 3600, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False, f"{_YOUTUBE}; 21:9 plays letterboxed", LANDSCAPE_UI,
        ),
    )
}


def for_aspect(aspect: str) -> PlatformSpec:
    """The platform a video of this aspect ratio is made for when nothing else says: the first listed."""
    return next(spec for spec in PLATFORMS.values() if aspect_of(spec.width, spec.height) == aspect)


def aspect_of(width: int, height: int) -> str:
    """"9:16", "16:9"...; 2560x1080 is "21:9" by its name, not its arithmetic (64:27)."""
    divisor = gcd(width, height)
    ratio = f"{width // divisor}:{height // divisor}"
    return "21:9" if ratio == "64:27" else ratio


def variant_path(video: Path, platform: str) -> Path:
    """Where the variant of `video` for another platform goes: beside it, named by the platform."""
    return video.with_suffix(f".{platform}.mp4")


def platform_spec(name: str) -> PlatformSpec:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})") from None
