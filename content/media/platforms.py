"""Delivery specs per platform, with where each number comes from (../shared/reference/trends_instagram.md §3)."""
from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def max_size_bytes(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)


_META_REELS = "Meta IG User Media reference, Reel specifications (2026 copy: 300 MB)"

PLATFORMS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec(
            "instagram_reels", 1080, 1920, 30, 23, 60, 3, 15 * 60, 300, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True, _META_REELS,
        ),
        PlatformSpec(
            "instagram_story", 1080, 1920, 30, 23, 60, 3, 60, 100, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True,
            "Meta IG User Media reference, Story video: 3-60 s, 100 MB (as quoted by third parties)",
        ),
        PlatformSpec(
            "instagram_feed", 1080, 1350, 30, 23, 60, 3, 15 * 60, 300, 25_000,
            ("h264", "hevc"), ("aac",), 48_000, 2, True,
            f"{_META_REELS}; feed videos publish as Reels, 4:5 is the feed crop",
        ),
        PlatformSpec(
            "tiktok", 1080, 1920, 30, 23, 60, 3, 10 * 60, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False,
            "TikTok Content Posting API media transfer guide: 23-60 fps, <=4 GB, up to 10 min via API",
        ),
        PlatformSpec(
            "youtube_shorts", 1080, 1920, 30, 23, 60, 3, 180, 4096, None,
            ("h264", "hevc"), ("aac",), 48_000, 2, False,
            "YouTube Help 15424877: square or vertical up to 3 minutes is a Short; player caps at 1080p",
        ),
    )
}


def platform_spec(name: str) -> PlatformSpec:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ValueError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})") from None
