"""When the beats of a persona's own track fall, so its Reel's scenes change on them: the track decoded by ffmpeg,
its beats tracked (content/media/beat_tracker.py), kept in the daemon's cache by the file's content, so each track
of a library is analysed once."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from content.media.beat_tracker import track
from content.media.ffmpeg import run_ffmpeg
from core.errors import MediaError
from core.files import write_atomically

ANALYSIS_RATE = 22_050


@dataclass(frozen=True)
class TrackBeats:
    tempo_bpm: float
    duration_s: float
    beats_s: tuple[float, ...]  # from the track's start

    def in_reel(self, length_s: float) -> list[float]:
        """Beat times in a Reel that plays the track from its first beat, looping it to `length_s`."""
        if not self.beats_s or self.duration_s <= self.beats_s[0]:
            return []
        first, loop_s = self.beats_s[0], self.duration_s - self.beats_s[0]
        times: list[float] = []
        offset = 0.0
        while offset < length_s:
            times += [offset + beat - first for beat in self.beats_s if offset + beat - first < length_s]
            offset += loop_s
        return times


async def track_beats(track: Path, cache_folder: Path) -> TrackBeats:
    """`track`'s tempo and beats, from the cache or analysed now."""
    digest = await asyncio.to_thread(_digest, track)
    kept = cache_folder / f"{digest}.json"
    if kept.is_file():
        with contextlib.suppress(ValueError, KeyError, TypeError):  # a damaged entry is found again
            return _read(kept)
    cache_folder.mkdir(parents=True, exist_ok=True)
    samples = cache_folder / f"{digest}.f32"
    try:
        await run_ffmpeg(["-y", "-i", str(track.resolve()), "-ac", "1", "-ar", str(ANALYSIS_RATE), "-f", "f32le",
                          samples.name], what=f"decoding {track.name} for its beats", cwd=cache_folder)
        mono = np.fromfile(samples, dtype="<f4")
    finally:
        samples.unlink(missing_ok=True)
    if mono.size < ANALYSIS_RATE:
        raise MediaError(f"{track}: under a second of sound, no beats to find")
    beats = await asyncio.to_thread(_analyse, mono)
    write_atomically(kept, json.dumps(asdict(beats)))
    return beats


def _analyse(mono: np.ndarray) -> TrackBeats:
    if not np.isfinite(mono).all():
        raise MediaError("its samples are not all numbers")
    tracked = track(mono, ANALYSIS_RATE)
    return TrackBeats(tracked.tempo_bpm, round(mono.size / ANALYSIS_RATE, 3), tracked.beats_s)


def _digest(track: Path) -> str:
    with track.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()[:32]


def _read(kept: Path) -> TrackBeats:
    fields = json.loads(kept.read_text(encoding="utf-8"))
    return TrackBeats(fields["tempo_bpm"], fields["duration_s"], tuple(fields["beats_s"]))
