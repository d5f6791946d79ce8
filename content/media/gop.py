"""Closed GOPs: every keyframe must be an IDR picture, so a player (or Instagram's re-encoder) can cut or start at
any keyframe without the frames after it referring back across it. Read from the packets, no decoding."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

# NAL unit types that start a closed GOP: H.264 IDR (5); HEVC IDR_W_RADL (19) and IDR_N_LP (20).
IDR_TYPES = {"h264": {5}, "hevc": {19, 20}}


@dataclass(frozen=True)
class GopReport:
    keyframes: int
    open_keyframes: int  # keyframes that are not IDR (open-GOP recovery points)
    max_interval_s: float

    @property
    def closed(self) -> bool:
        return self.keyframes > 0 and self.open_keyframes == 0


def inspect_gops(path: Path) -> GopReport | None:
    """None when the codec is neither H.264 nor HEVC (nothing to judge by)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in IDR_TYPES:
            return None
        length_size = _nal_length_size(bytes(stream.codec_context.extradata or b""), codec)
        keyframes = open_keyframes = 0
        times: list[float] = []
        for packet in container.demux(stream):
            if packet.size == 0 or not packet.is_keyframe:
                continue
            keyframes += 1
            if packet.pts is not None and packet.time_base is not None:
                times.append(float(packet.pts * packet.time_base))
            if not _nal_types(bytes(packet), length_size, codec) & IDR_TYPES[codec]:
                open_keyframes += 1
        intervals = [b - a for a, b in zip(times, times[1:])]
        return GopReport(keyframes, open_keyframes, max(intervals, default=0.0))


def _nal_length_size(extradata: bytes, codec: str) -> int:
    """Bytes in each NAL length prefix (from avcC/hvcC); 0 means Annex B start codes."""
    if codec == "h264" and len(extradata) > 4 and extradata[0] == 1:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) > 21 and extradata[0] == 1:
        return (extradata[21] & 3) + 1
    return 0


def _nal_types(data: bytes, length_size: int, codec: str) -> set[int]:
    headers: list[int] = []
    if length_size:
        offset = 0
        while offset + length_size < len(data):
            size = int.from_bytes(data[offset:offset + length_size], "big")
            offset += length_size
            if offset < len(data):
                headers.append(data[offset])
            offset += size
    else:
        parts = data.split(b"\x00\x00\x01")
        headers = [part[0] for part in parts[1:] if part]
    if codec == "h264":
        return {h & 0x1F for h in headers}
    return {(h >> 1) & 0x3F for h in headers}
