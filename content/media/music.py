"""A music bed synthesized offline — pads, bass, drums, a melody, in sections — its key, tempo, chords and melody
drawn from a seed, so every Reel differs."""
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
    bpm: float
    progression: list[tuple[int, str]]
    bass_level: float
    shaker_level: float
    melody: tuple[int, ...]  # per eighth note of a bar: the chord tone (0-3) the melody plays, or -1 for a rest

    @classmethod
    def from_seed(cls, seed: int, mood: str = "upbeat", bpm: float | None = None) -> "Groove":
        """The seed's key, chords and melody for the mood, at the mood's tempo or at `bpm` (a reference's)."""
        rng = random.Random(seed)
        (low, high), progressions, bass, shaker = MOODS[mood]
        semitone = rng.randrange(0, 12)
        return cls(
            root_hz=220.0 * 2 ** (semitone / 12),  # keys from A3 upwards
            bpm=rng.randrange(low, high, 2) if bpm is None else bpm,
            progression=rng.choice(progressions),
            bass_level=bass,
            shaker_level=shaker,
            melody=tuple(rng.choice([-1, 0, 1, 2, 3, 3]) for _ in range(8)),
        )


CHUNK_S = 2.0  # synthesized a chunk at a time: memory stays flat however long the Reel


def synthesize(duration_s: float, seed: int, mood: str = "upbeat", bpm: float | None = None) -> Iterator[np.ndarray]:
    """Stereo float32 chunks in [-1, 1]: pad chords, a bass on every beat, kick, snare (with fills) and hats, a
    seeded melody over the chords, in sections that change (content/media/music.py `_section`)."""
    groove = Groove.from_seed(seed, mood, bpm)
    noise = np.random.default_rng(seed)
    total = int(duration_s * SAMPLE_RATE)
    step = int(CHUNK_S * SAMPLE_RATE)
    for first in range(0, total, step):
        t = (np.arange(first, min(first + step, total), dtype=np.float64) / SAMPLE_RATE)
        yield _chunk(groove, t, noise, duration_s)


def _chunk(groove: Groove, t: np.ndarray, noise: np.random.Generator, duration_s: float) -> np.ndarray:
    """Phases in float64 (they grow large), everything else in float32: half the memory traffic. Every part is a
    function of the sample's time alone (its bar, its beat, its phase in the beat), so chunks join seamlessly."""
    beat_s = 60.0 / groove.bpm
    bar_number = (t // (4 * beat_s)).astype(int)
    bar = bar_number % len(groove.progression)
    beat_in_bar = ((t // beat_s) % 4).astype(int)
    beat_phase = ((t % beat_s) / beat_s).astype(np.float32)
    since_beat = (beat_phase * beat_s).astype(np.float32)
    pad = np.zeros(len(t), np.float32)
    bass = np.zeros(len(t), np.float32)
    lead = np.zeros(len(t), np.float32)
    eighth = ((t // (beat_s / 2)) % 8).astype(int)  # which eighth note of the bar
    since_eighth = ((t % (beat_s / 2))).astype(np.float32)
    for index, (degree, quality) in enumerate(groove.progression):
        active = np.flatnonzero(bar == index)  # each sample sounds one chord: synthesize only where it plays
        if active.size == 0:
            continue
        root = groove.root_hz * 2 ** (degree / 12)
        phase = 2 * np.pi * root * t[active]
        pad[active] = sum(np.sin(phase * 2 ** (interval / 12)) for interval in CHORD_SHAPES[quality])
        bass[active] = np.sin(phase / 2) + 0.3 * np.sin(phase)
        # The melody: a note an eighth, from the chord's tones an octave up, in a seeded rhythm (rests included).
        notes = np.array(groove.melody)[eighth[active]]
        sounding = notes >= 0
        interval = np.array(CHORD_SHAPES[quality])[np.clip(notes, 0, 3)]
        tone = 2 * np.pi * 2 * root * 2 ** (interval / 12) * t[active]
        envelope = np.exp(since_eighth[active] * -6).astype(np.float32)
        lead[active] = np.where(sounding, (np.sin(tone) + 0.25 * np.sin(2 * tone)) * envelope, 0)
    section = _section(bar_number, t, duration_s)
    pad *= 0.5 + 0.5 * np.sin(2 * np.pi * t / (8 * beat_s)).astype(np.float32) ** 2  # slow swell
    bass *= np.exp(beat_phase * -4) * (section >= 1)
    lead *= section >= 2
    kick = np.sin(2 * np.pi * (50 + 90 * np.exp(since_beat * -30)) * since_beat) * np.exp(since_beat * -9)
    kick *= (section >= 1) & ((beat_in_bar % 2 == 0) | (groove.bpm >= 110))  # four on the floor when it is fast
    backbeat = (beat_in_bar % 2 == 1) & (section >= 1)
    fill = (bar_number % 8 == 7) & (beat_in_bar == 3)  # a roll on the last beat of every eighth bar
    snare_phase = np.where(fill, (t % (beat_s / 4)), since_beat).astype(np.float32)
    snare = noise.standard_normal(len(t), np.float32) * np.exp(snare_phase * -22) * (backbeat | fill)
    snare += 0.4 * np.sin(2 * np.pi * 190 * snare_phase) * np.exp(snare_phase * -25) * (backbeat | fill)
    hats = np.diff(noise.standard_normal(len(t) + 1, np.float32)) * np.exp(since_eighth * -60)
    hats *= np.where(eighth % 2 == 1, 1.0, 0.55)  # off-beats accented
    mono = (0.07 * pad + groove.bass_level * bass + 0.06 * lead + 0.35 * kick + 0.1 * snare
            + groove.shaker_level * hats)
    stereo = np.stack([mono + 0.03 * np.roll(hats, 240), mono + 0.03 * np.roll(hats, -240)], axis=1)
    fade = np.minimum(1.0, np.minimum(t / 0.5, (duration_s - t) / 1.5)).clip(0, 1).astype(np.float32)[:, None]
    # Saturation keeps the drums' peaks near the body of the mix: normalized to -14 LUFS afterwards, a peakier bed
    # would pass the -1 dBTP ceiling once AAC-encoded.
    return (np.tanh(2.5 * stereo) * fade * 0.8).astype(np.float32)


def _section(bar_number: np.ndarray, t: np.ndarray, duration_s: float) -> np.ndarray:
    """The arrangement, per sample, in phrases of two bars: 0 (pads and hats) for the first bar and as a breakdown
    every fourth phrase, 1 groove (drums and bass) the phrase before the melody returns, 2 full (the melody joins);
    the last bars stay full."""
    phrase = (bar_number // 2) % 4
    section = np.where((bar_number < 1) | (phrase == 3), 0, np.where(phrase == 0, 1, 2))
    return np.where(t > duration_s - 3.0, 2, section)


def beat_times(duration_s: float, seed: int, mood: str = "upbeat", bpm: float | None = None) -> np.ndarray:
    """When each beat of the bed `synthesize(duration_s, seed, mood, bpm)` falls (the first on 0 s): for cuts on
    beats."""
    return np.arange(0.0, duration_s, 60.0 / Groove.from_seed(seed, mood, bpm).bpm)


def write_music_bed(path: Path, duration_s: float, seed: int, mood: str = "upbeat", bpm: float | None = None) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for samples in synthesize(duration_s, seed, mood, bpm):
            out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path
