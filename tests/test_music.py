"""The synthesized music bed sounds like music: drums on the beat grid it reports, energy in the highs, an
arrangement that changes (issue 20; the four-sine bed before it measured a spectral flatness of ~0.001)."""
from __future__ import annotations

import numpy as np
import pytest

from content.media.music import SAMPLE_RATE, beat_times, synthesize


def bed(seconds: float, seed: int, mood: str) -> np.ndarray:
    return np.concatenate(list(synthesize(seconds, seed, mood))).mean(axis=1)


def spectrum_frames(mono: np.ndarray, size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    frames = np.lib.stride_tricks.sliding_window_view(mono, size)[::size // 2] * np.hanning(size)
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12, np.fft.rfftfreq(size, 1 / SAMPLE_RATE)


@pytest.mark.parametrize("mood", ["upbeat", "calm", "dramatic"])
def test_the_bed_has_drums_and_highs_not_just_sine_chords(mood: str) -> None:
    power, freqs = spectrum_frames(bed(20, 11, mood))
    flatness = (np.exp(np.log(power).mean(axis=1)) / power.mean(axis=1)).mean()
    highs = power[:, freqs > 2000].sum() / power.sum()
    assert flatness > 0.005, flatness  # the sine bed: 0.0003-0.003
    assert highs > 0.01, highs  # the sine bed: 0.0007-0.003


def test_hits_land_on_the_beats_it_reports() -> None:
    seconds, seed = 16, 5
    mono = bed(seconds, seed, "upbeat")
    hop = SAMPLE_RATE // 200  # 5 ms
    energy = np.array([np.sum(mono[i:i + hop] ** 2) for i in range(0, len(mono) - hop, hop)])
    onset = np.maximum(np.diff(energy), 0)
    beats = beat_times(seconds, seed, "upbeat")
    beat_s = beats[1] - beats[0]
    grooving = [b for b in beats if 4 * beat_s <= b < seconds - 2]  # after the one-bar intro
    hits = [np.argmax(onset[round(b * 200) - 4:round(b * 200) + 4]) - 4 for b in grooving]
    assert np.median(np.abs(hits)) <= 2, hits  # within 10 ms
    strongest = np.sort(onset)[-len(grooving):]
    on_beat = [onset[round(b * 200) - 4:round(b * 200) + 4].max() for b in grooving]
    assert np.median(on_beat) >= np.median(strongest) * 0.3, "the beat's hits are among the bed's strongest onsets"


def test_the_arrangement_changes_and_every_seed_is_its_own() -> None:
    mono = bed(30, 3, "upbeat")
    beat_s = beat_times(30, 3)[1]
    bar = round(4 * beat_s * SAMPLE_RATE)
    rms = [float(np.sqrt(np.mean(mono[i * bar:(i + 1) * bar] ** 2))) for i in range(6)]
    assert rms[0] < 0.6 * max(rms[1:]), rms  # the intro is sparser than the groove
    power, _ = spectrum_frames(mono)
    per_bar = power.shape[0] * bar // len(mono)
    sections = [power[i * per_bar:(i + 1) * per_bar].mean(axis=0) for i in range(6)]
    distances = [np.abs(np.log(sections[i]) - np.log(sections[i + 1])).mean() for i in range(5)]
    assert max(distances) > 2 * min(distances), distances  # some bars change more than others: sections
    assert np.array_equal(mono, bed(30, 3, "upbeat"))
    assert not np.allclose(mono[:SAMPLE_RATE * 5], bed(30, 4, "upbeat")[:SAMPLE_RATE * 5])
    assert np.abs(mono).max() <= 1.0
