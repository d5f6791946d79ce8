"""Beat tracking by dynamic programming (Ellis, "Beat Tracking by Dynamic Programming", 2007 — the method librosa's
`beat_track` implements): an onset-strength envelope, a tempo from its autocorrelation under a prior, then the beat
sequence that best balances strong onsets against an even pulse.

Written here in numpy rather than taken from librosa: librosa's tracker is a numba `guvectorize(cache=True)`
function, whose cache files can be written inconsistently (numba/numba#10128, librosa/librosa#1998) — it killed a
test process with a segmentation fault on a fresh install, and would kill the daemon the same way."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME = 1024  # samples per spectrum
HOP = 128  # samples between onset frames
CHUNK = 4096  # frames a spectrum is taken over at once (memory)
# The tempo prior, log-normal: around 100 bpm (Ellis's 120 took beds at 78 and 80 bpm at twice their tempo; at 100
# every bed of tests/test_beats.py's range, 76-128 bpm, is found at its own)
PRIOR_BPM, PRIOR_OCTAVES = 100.0, 1.0
LOWEST_BPM, HIGHEST_BPM = 50.0, 220.0
TIGHTNESS = 100.0  # how strongly beats keep an even pulse against the onsets (librosa's default)


@dataclass(frozen=True)
class Tracked:
    tempo_bpm: float
    beats_s: tuple[float, ...]


def track(mono: np.ndarray, rate: int) -> Tracked:
    """The tempo and beat times of `mono` (float samples at `rate`); no beats for a track with no onsets."""
    envelope = onset_strength(mono, rate)
    frame_s = HOP / rate
    if envelope.size < 4 or not envelope.any():
        return Tracked(0.0, ())
    period = _period(envelope, frame_s)
    beats = _beats(envelope, period)
    times = beats * frame_s
    if len(times) >= 2:  # the tempo from the beats themselves: finer than one frame of lag
        slope = np.polyfit(np.arange(len(times)), times, 1)[0]
        tempo = 60.0 / slope
    else:
        tempo = 60.0 / (period * frame_s)
    return Tracked(round(float(tempo), 2), tuple(round(float(t), 3) for t in times))


def onset_strength(mono: np.ndarray, rate: int) -> np.ndarray:
    """Spectral flux: how much the log spectrum rises from one frame to the next, summed over frequency, centred on
    each frame; the local mean removed and negatives clipped."""
    padded = np.pad(mono.astype(np.float32), (FRAME // 2, FRAME // 2))
    count = 1 + (padded.size - FRAME) // HOP
    window = np.hanning(FRAME).astype(np.float32)
    flux = np.zeros(count, dtype=np.float32)
    previous = None
    for start in range(0, count, CHUNK):
        frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME)[start * HOP:(start + CHUNK) * HOP:HOP]
        spectrum = np.log1p(1000 * np.abs(np.fft.rfft(frames * window, axis=1)))
        stacked = spectrum if previous is None else np.vstack([previous, spectrum])
        rises = np.maximum(np.diff(stacked, axis=0), 0).sum(axis=1)
        flux[start + (1 if previous is None else 0):start + len(spectrum)] = rises
        previous = spectrum[-1:]
    smooth = max(1, round(0.2 * rate / HOP))  # a 0.2 s moving mean
    local = np.convolve(flux, np.ones(smooth) / smooth, mode="same")
    envelope = np.maximum(flux - local, 0)
    spread = envelope.std()
    return envelope / spread if spread > 0 else envelope


def _period(envelope: np.ndarray, frame_s: float) -> float:
    """The beat period in frames: the lag of the envelope's strongest autocorrelation, weighted by the prior."""
    size = 1 << int(np.ceil(np.log2(2 * envelope.size)))
    spectrum = np.fft.rfft(envelope - envelope.mean(), size)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[:envelope.size]
    lags = np.arange(envelope.size)
    bpm = np.where(lags > 0, 60.0 / (np.maximum(lags, 1) * frame_s), np.inf)
    allowed = (bpm >= LOWEST_BPM) & (bpm <= HIGHEST_BPM)
    prior = np.exp(-0.5 * (np.log2(np.where(allowed, bpm, PRIOR_BPM) / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.where(allowed, autocorrelation * prior, -np.inf)
    best = int(np.argmax(weighted))
    if 0 < best < envelope.size - 1 and np.isfinite(weighted[best - 1]) and np.isfinite(weighted[best + 1]):
        left, middle, right = weighted[best - 1], weighted[best], weighted[best + 1]
        bend = left - 2 * middle + right
        return best + (0.5 * (left - right) / bend if bend < 0 else 0.0)
    return float(best)


def _beats(envelope: np.ndarray, period: float) -> np.ndarray:
    """The frames of the best beat sequence: each frame's score is its onset strength plus the best score of a
    previous beat between half and twice a period back, penalized by how far the gap is from one period."""
    width = max(1, round(period / 32))  # the envelope smoothed over a sliver of the period, as in Ellis's paper
    kernel = np.exp(-0.5 * (np.arange(-width * 4, width * 4 + 1) / width) ** 2)
    local = np.convolve(envelope, kernel / kernel.sum(), mode="same")
    gaps = np.arange(max(1, round(period / 2)), round(2 * period) + 1)
    penalty = -TIGHTNESS * np.log(gaps / period) ** 2
    score = local.copy()
    back = np.full(envelope.size, -1)
    for frame in range(gaps[0], envelope.size):
        reach = frame - gaps
        valid = reach >= 0
        candidates = score[reach[valid]] + penalty[valid]
        best = int(np.argmax(candidates))
        if candidates[best] > 0:
            score[frame] = local[frame] + candidates[best]
            back[frame] = reach[valid][best]
    # the last beat: the best-scoring frame among the final period's local peaks
    tail = np.arange(max(0, envelope.size - round(period)), envelope.size)
    frame = int(tail[np.argmax(score[tail])])
    beats = [frame]
    while back[frame] >= 0:
        frame = int(back[frame])
        beats.append(frame)
    beats.reverse()
    found = np.array(beats)
    strong = local[found] > 0.5 * np.sqrt(np.mean(local[found] ** 2))  # trim weak beats at either end
    if strong.any():
        first, last = np.argmax(strong), len(strong) - np.argmax(strong[::-1])
        found = found[first:last]
    return found
