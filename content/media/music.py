"""A music bed synthesized offline: key, tempo and chord progression drawn from a seed, so every Reel differs."""
from __future__ import annotations

import random
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 48_000
# Pop progressions as scale degrees (semitones above the key's root for each chord's root, and chord quality).
MAJOR = [
    [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],  # I-V-vi-IV
    [(9, "min"), (5, "maj"), (0, "maj"), (7, "maj")],  # vi-IV-I-V
    [(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")],  # I-vi-IV-V
    [(0, "maj"), (5, "maj"), (9, "min"), (7, "maj")],  # I-IV-vi-V
]
MINOR = [
    [(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")],  # i-VI-III-VII
    [(0, "min"), (5, "min"), (8, "maj"), (7, "maj")],  # i-iv-VI-V
    [(0, "min"), (10, "maj"), (8, "maj"), (7, "maj")],  # i-VII-VI-V (Andalusian)
]
CHORD_SHAPES = {"maj": (0, 4, 7, 12), "min": (0, 3, 7, 12)}
# Per mood: tempo range (bpm), progressions, how hard the bass and shaker hit.
MOODS = {
    "upbeat": ((108, 128), MAJOR, 0.35, 0.06),
    "calm": ((76, 96), MAJOR, 0.2, 0.02),
    "dramatic": ((88, 108), MINOR, 0.4, 0.04),
}


@dataclass(frozen=True)
class Groove:
    root_hz: float
    bpm: int
    progression: list[tuple[int, str]]
    bass_level: float
    shaker_level: float

    @classmethod
    def from_seed(cls, seed: int, mood: str = "upbeat") -> "Groove":
        rng = random.Random(seed)
        (low, high), progressions, bass, shaker = MOODS[mood]
        semitone = rng.randrange(0, 12)
        return cls(
            root_hz=220.0 * 2 ** (semitone / 12),  # keys from A3 upwards
            bpm=rng.randrange(low, high, 2),
            progression=rng.choice(progressions),
            bass_level=bass,
            shaker_level=shaker,
        )


CHUNK_S = 2.0  # synthesized a chunk at a time: memory stays flat however long the Reel


def synthesize(duration_s: float, seed: int, mood: str = "upbeat") -> Iterator[np.ndarray]:
    """Stereo float32 chunks in [-1, 1]: soft pad chords, a bass on every beat, a shaker on off-beats."""
    groove = Groove.from_seed(seed, mood)
    noise = np.random.default_rng(seed)
    total = int(duration_s * SAMPLE_RATE)
    step = int(CHUNK_S * SAMPLE_RATE)
    for first in range(0, total, step):
        t = (np.arange(first, min(first + step, total), dtype=np.float64) / SAMPLE_RATE)
        yield _chunk(groove, t, noise, duration_s)


def _chunk(groove: Groove, t: np.ndarray, noise: np.random.Generator, duration_s: float) -> np.ndarray:
    """Phases in float64 (they grow large), everything else in float32: half the memory traffic."""
    beat_s = 60.0 / groove.bpm
    bar = (t // (4 * beat_s)).astype(int) % len(groove.progression)
    beat_phase = ((t % beat_s) / beat_s).astype(np.float32)
    pad = np.zeros(len(t), np.float32)
    bass = np.zeros(len(t), np.float32)
    for index, (degree, quality) in enumerate(groove.progression):
        active = np.flatnonzero(bar == index)  # each sample sounds one chord: synthesize only where it plays
        if active.size == 0:
            continue
        phase = 2 * np.pi * groove.root_hz * 2 ** (degree / 12) * t[active]
        pad[active] = sum(np.sin(phase * 2 ** (interval / 12)) for interval in CHORD_SHAPES[quality])
        bass[active] = np.sin(phase / 2)
    pad *= 0.5 + 0.5 * np.sin(2 * np.pi * t / (8 * beat_s)).astype(np.float32) ** 2  # slow swell
    bass *= np.exp(beat_phase * -5)
    shaker = noise.standard_normal(len(t), np.float32) * np.exp(((beat_phase - 0.5) % 1.0) * -40)
    mono = 0.09 * pad + groove.bass_level * bass + groove.shaker_level * shaker
    stereo = np.stack([mono + 0.02 * np.roll(shaker, 240), mono + 0.02 * np.roll(shaker, -240)], axis=1)
    fade = np.minimum(1.0, np.minimum(t / 0.5, (duration_s - t) / 1.5)).clip(0, 1).astype(np.float32)[:, None]
    # Soft saturation keeps peaks low (the soundtrack is normalized to -14 LUFS afterwards, so level is free).
    return np.tanh(1.5 * stereo) * fade * 0.8


def write_music_bed(path: Path, duration_s: float, seed: int, mood: str = "upbeat") -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for samples in synthesize(duration_s, seed, mood):
            out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path
