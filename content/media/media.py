"""What is inside a video file: streams (via PyAV, which ships libav in its wheel) and the MP4 box layout."""
from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av

from core.errors import MediaError

# Boxes whose children we descend into to find an edit list (moov/trak/edts/elst).
CONTAINER_BOXES = {b"moov", b"trak", b"edts"}
# libav's colour codes (AVColorPrimaries, AVColorTransferCharacteristic, AVColorSpace, AVColorRange) by ffmpeg's
# names; "unspecified" (2; 0 for range) and any other code read as None.
PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020", 12: "smpte432"}
TRANSFERS = {1: "bt709", 4: "gamma22", 6: "smpte170m", 8: "linear", 13: "iec61966-2-1", 14: "bt2020-10",
             15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc",
            10: "bt2020c"}
RANGES = {1: "tv", 2: "pc"}


@dataclass(frozen=True)
class VideoStream:
    codec: str
    profile: str | None
    pix_fmt: str | None
    width: int
    height: int
    fps: float
    constant_frame_rate: bool
    bit_rate: int | None
    primaries: str | None = None
    transfer: str | None = None
    matrix: str | None = None
    colour_range: str | None = None
    bit_depth: int = 8


@dataclass(frozen=True)
class AudioStream:
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    container: str
    duration_s: float
    size_bytes: int
    bit_rate: int | None
    video: VideoStream | None
    audio: AudioStream | None
    moov_before_mdat: bool
    has_edit_list: bool


async def probe(path: Path) -> MediaInfo:
    """Read stream parameters and box layout without decoding frames."""
    return await asyncio.to_thread(probe_sync, path)


def probe_sync(path: Path) -> MediaInfo:
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    try:
        with av.open(str(path)) as container:
            video = next((_video(s) for s in container.streams.video), None)
            audio = next((_audio(s) for s in container.streams.audio), None)
            duration = container.duration / av.time_base if container.duration else 0.0
            info = (container.format.name, duration, container.bit_rate or None)
    except av.FFmpegError as exc:
        raise MediaError(f"{path}: not a readable video ({exc})") from None
    if video is None and audio is None:  # random bytes can pass for a stream-less format (lyrics, say)
        raise MediaError(f"{path}: not a readable video (no picture or sound in it, read as {info[0]})")
    boxes = mp4_boxes(path)
    return MediaInfo(
        path=path,
        container=info[0],
        duration_s=info[1],
        size_bytes=path.stat().st_size,
        bit_rate=info[2],
        video=video,
        audio=audio,
        moov_before_mdat=_before(boxes, "moov", "mdat"),
        has_edit_list="moov/trak/edts/elst" in boxes,
    )


def mp4_boxes(path: Path) -> list[str]:
    """Box paths in file order (`ftyp`, `moov`, `moov/trak/edts/elst`, `mdat`, ...); empty for non-MP4 files."""
    found: list[str] = []
    with path.open("rb") as handle:
        _walk(handle, 0, path.stat().st_size, "", found)
    return found


def _walk(handle: BinaryIO, start: int, end: int, parent: str, found: list[str]) -> None:
    position = start
    while position + 8 <= end:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or not kind.isalnum():
            return
        name = f"{parent}{kind.decode('latin-1')}"
        found.append(name)
        if kind in CONTAINER_BOXES:
            _walk(handle, position + header, position + size, f"{name}/", found)
        position += size


def _before(boxes: list[str], first: str, second: str) -> bool:
    return first in boxes and second in boxes and boxes.index(first) < boxes.index(second)


def _video(stream: av.video.stream.VideoStream) -> VideoStream:
    codec = stream.codec_context
    average = stream.average_rate or stream.guessed_rate or Fraction(0)
    nominal = stream.guessed_rate or average
    return VideoStream(
        codec=codec.name,
        profile=codec.profile,
        pix_fmt=codec.pix_fmt,
        width=codec.width,
        height=codec.height,
        fps=float(average),
        constant_frame_rate=bool(nominal) and abs(float(average) - float(nominal)) <= 0.01 * float(nominal),
        bit_rate=codec.bit_rate or None,
        primaries=PRIMARIES.get(codec.color_primaries),
        transfer=TRANSFERS.get(codec.color_trc),
        matrix=MATRICES.get(codec.colorspace),
        colour_range=RANGES.get(codec.color_range),
        bit_depth=max((c.bits for c in codec.format.components), default=8) if codec.format else 8,
    )


def _audio(stream: av.audio.stream.AudioStream) -> AudioStream:
    codec = stream.codec_context
    return AudioStream(
        codec=codec.name,
        sample_rate=codec.sample_rate,
        channels=codec.channels,
        bit_rate=codec.bit_rate or None,
    )
