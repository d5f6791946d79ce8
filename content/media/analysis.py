"""What a file looks and sounds like, from one decoding pass: loudness (EBU R128, ebur128 filter),
black frames at the start (blackdetect) and frozen stretches (freezedetect)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from content.media.ffmpeg import run_ffmpeg
from content.media.soundtrack import loudness_meter, parse_loudness

# blackdetect: a frame is black when 98% of its pixels are darker than 10% luma; report runs of 0.1 s or more.
BLACK_FILTER = "blackdetect=d=0.1:pic_th=0.98:pix_th=0.10"
# freezedetect: -60 dB mean difference from the frame a still stretch began with, held for 2 s, counts as frozen.
FREEZE_NOISE_DB = -60
FREEZE_FILTER = f"freezedetect=n={FREEZE_NOISE_DB}dB:d=2"
ANALYSIS_WIDTH = 270  # detection needs no detail; a quarter-size copy halves the pass's time
# Nor does it need H.264's deblocking filter, the costliest step of decoding after the motion itself.
FAST_DECODE = ["-skip_loop_filter", "all"]
# Nor the B-frames, which only interpolate between the frames around them: a still stretch, a black opening and their
# times show in the I- and P-frames alone (a third of the decoding, for our encodes). The sound is all decoded.
SKIP_B_FRAMES = ["-skip_frame:v", "bidir"]
_BLACK = re.compile(r"black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)")
_FREEZE_START = re.compile(r"freeze_start:\s*([\d.]+)")
_FREEZE_DURATION = re.compile(r"freeze_duration:\s*([\d.]+)")


@dataclass(frozen=True)
class Signals:
    integrated_lufs: float | None  # None: no audio, or pure silence
    true_peak_dbtp: float | None
    black_at_start_s: float
    frozen_spans: tuple[tuple[float, float], ...]  # (start, duration) in seconds


async def analyse(path: Path, *, has_video: bool, has_audio: bool) -> Signals:
    if not (has_video or has_audio):
        return Signals(None, None, 0.0, ())
    args = [*FAST_DECODE, *SKIP_B_FRAMES, "-i", str(path)]
    if has_video:
        small = f"scale={ANALYSIS_WIDTH}:-2:flags=fast_bilinear"
        args += ["-map", "0:v:0", "-vf", f"{small},{BLACK_FILTER},{FREEZE_FILTER}"]
    if has_audio:
        args += ["-map", "0:a:0", "-af", loudness_meter()]
    stderr = await run_ffmpeg([*args, "-f", "null", "-"], what=f"analysing {path.name}")
    loudness = parse_loudness(stderr) if has_audio else None
    lufs, peak = (loudness.integrated_lufs, loudness.true_peak_dbtp) if loudness else (None, None)
    black = [(float(a), float(b)) for a, b in _BLACK.findall(stderr)]
    black_at_start = next((end - start for start, end in black if start < 0.05), 0.0)
    starts = [float(s) for s in _FREEZE_START.findall(stderr)]
    durations = [float(d) for d in _FREEZE_DURATION.findall(stderr)]
    frozen = tuple(zip(starts, durations + [float("inf")] * (len(starts) - len(durations))))
    return Signals(lufs, peak, black_at_start, frozen)
