"""The Reel's audio: a music bed (the user's track for the mood, or synthesized), narration ducking it, and
EBU R128 loudness normalization (measured, one linear gain, a true-peak limit, measured again once encoded) to -14
LUFS integrated, true peak at most -1 dBTP.

-14 LUFS is what Instagram, TikTok and YouTube normalize playback to (../shared/reference/trends_instagram.md §3);
delivering at that level means the platform neither turns us down nor up.
"""
from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from content.media.beats import track_beats
from content.media.ffmpeg import run_ffmpeg
from content.media.music import SAMPLE_RATE, beat_times, write_music_bed
from content.media.voices.contract import Speech
from core.errors import FFmpegError, MediaError

TARGET_LUFS = -14.0
CEILING_DBTP = -1.2  # the encoded file's true peak at most (preflight's limit is -1 dBTP)
LIMIT_DBFS = -3.0  # the first limit of the guard below; lowered when the encoded file still passes the ceiling
ENCODE_TRIES = 5
LOUDNESS_AIM_LU = 0.5  # the encoded file within this of -14 LUFS (preflight allows 1)
# The AAC encoder starts every file with 1024 samples of its own (priming) that players without an edit list (we
# write none: preflight) play before the sound: so the sound's first 1024 samples are left out, and as many of
# silence added at the end, and the sound is heard when it was mixed, with the picture (a click at 1.000 s was heard
# at 1.024 s).
AAC_ALIGNED = "atrim=start_sample=1024,asetpts=PTS-STARTPTS,apad=pad_len=1024"
MUSIC_SUFFIXES = {".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac"}
SILENCE_LUFS = -69.0  # ebur128 reports -70 LUFS for digital silence


@dataclass(frozen=True)
class Soundtrack:
    """A mixed WAV and its loudness, from which `encode` brings it to target."""

    path: Path
    measured: Loudness


@dataclass(frozen=True)
class Bed:
    """What plays under the voice: a recording (a track of the persona's, from its first beat, looped; or a
    provider video's own sound), or, without one, music synthesized from the Reel's seed (at `bpm`, a reference's
    tempo, when set)."""

    recording: Path | None = None
    start_s: float = 0.0
    bpm: float | None = None


def find_tracks(music_folder: Path, mood: str) -> list[Path]:
    folder = music_folder / mood
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in MUSIC_SUFFIXES) if folder.is_dir() else []


async def choose_bed(music_folder: Path, mood: str, seed: int, beats_cache: Path, length_s: float,
                     tempo_bpm: float | None = None) -> tuple[Bed, list[float]]:
    """The Reel's bed and its beats over `length_s`: one of the persona's tracks for the mood, picked by the seed
    (or, given `tempo_bpm`, the one nearest that tempo) and played from its first beat (its beats found by
    content/media/beats.py), else the synthesized bed's, at `tempo_bpm` when given. A track that cannot be read is
    one line, and the bed is synthesized."""
    tracks = find_tracks(music_folder, mood)
    if tracks:
        try:
            if tempo_bpm is None:
                track = random.Random(seed).choice(tracks)
                found = await track_beats(track, beats_cache)
            else:
                wanted = tempo_bpm
                found, track = min([(await track_beats(t, beats_cache), t) for t in tracks],
                                   key=lambda pair: tempo_gap(pair[0].tempo_bpm, wanted))
        except (MediaError, FFmpegError) as error:
            logger.warning(f"{music_folder / mood}: a track cannot be read for its beats "
                           f"({str(error).splitlines()[0]}); the music is synthesized instead")
        else:
            return Bed(track, found.beats_s[0] if found.beats_s else 0.0), found.in_reel(length_s)
    return Bed(bpm=tempo_bpm), [float(beat) for beat in beat_times(length_s, seed, mood, tempo_bpm)]


def tempo_gap(a: float, b: float) -> float:
    """How far apart two tempos are in bpm, half or double a tempo counting as the same pulse."""
    if a <= 0 or b <= 0:
        return float("inf")
    octave = 2.0 ** round(math.log2(a / b))
    return abs(a - b * octave)


async def build_soundtrack(
    workdir: Path, duration_s: float, seed: int, mood: str, bed: Bed = Bed(),
    voice: Sequence[tuple[float, Speech]] = (),
) -> Soundtrack:
    """Mix the bed (and `voice` clips at their start times) to `duration_s` and measure its loudness in one
    pass."""
    if bed.recording is not None:
        inputs = ["-stream_loop", "-1", "-i", str(bed.recording.resolve())]
    else:
        music = await asyncio.to_thread(write_music_bed, workdir / "music.wav", duration_s, seed, mood,
                                        bed.bpm)  # loop free
        inputs = ["-i", music.name]
    fade_start = max(duration_s - 1.5, 0)
    graph = [f"[0:a]atrim=start={bed.start_s:.3f},asetpts=PTS-STARTPTS,"
             f"aformat=sample_rates={SAMPLE_RATE}:channel_layouts=stereo,atrim=0:{duration_s:.3f},"
             f"afade=t=out:st={fade_start:.3f}:d=1.5[music]"]
    if voice:
        for index, (start_s, clip) in enumerate(voice, start=1):
            inputs += ["-i", str(clip.path.resolve())]
            delay = round(start_s * 1000)
            graph.append(f"[{index}:a]aformat=sample_rates={SAMPLE_RATE}:channel_layouts=stereo,"
                         f"adelay={delay}|{delay}[v{index}]")
        labels = "".join(f"[v{i}]" for i in range(1, len(voice) + 1))
        graph += [
            f"{labels}amix=inputs={len(voice)}:normalize=0:duration=longest,apad,atrim=0:{duration_s:.3f},"
            f"asplit=2[voice][key]",
            "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[ducked]",
            "[ducked][voice]amix=inputs=2:normalize=0:weights=0.6 1[mix]",
        ]
    else:
        graph.append("[music]anull[mix]")
    graph.append(f"[mix]asplit=2[out][measure];[measure]{loudness_meter()}[measured]")
    output = workdir / "soundtrack.wav"
    stderr = await run_ffmpeg(
        ["-y", *inputs, "-filter_complex", ";".join(graph),
         "-map", "[out]", "-t", f"{duration_s:.3f}", "-c:a", "pcm_s16le", output.name,
         "-map", "[measured]", "-f", "null", "-"],
        what="mixing the soundtrack", cwd=workdir,
    )
    return Soundtrack(output, parse_loudness(stderr))


async def encode(soundtrack: Soundtrack, output: Path, codec_args: Sequence[str]) -> Path:
    """The soundtrack at -14 LUFS in `codec_args`' codec (AAC), measured again on the encoded file itself: AAC
    overshoots a transient by up to 3 dB, and erratically (a mix at -2.8 dBTP came out at +0.1 dBTP at 128 kb/s and
    -2.2 at 160), so while the file passes the true-peak ceiling its limit is lowered by the excess, and while the
    limiting has cost it loudness its gain is raised by the loss, and it is encoded again."""
    limit_dbfs, target_lufs = LIMIT_DBFS, TARGET_LUFS
    for _ in range(ENCODE_TRIES):
        await run_ffmpeg(["-y", "-i", soundtrack.path.name, "-af",
                          normalizer(soundtrack.measured, limit_dbfs, target_lufs), *codec_args, output.name],
                         what="encoding the soundtrack", cwd=output.parent)
        stderr = await run_ffmpeg(["-i", output.name, "-af", loudness_meter(), "-f", "null", "-"],
                                  what="measuring the encoded soundtrack", cwd=output.parent)
        encoded = parse_loudness(stderr)
        if encoded.integrated_lufs is None or encoded.true_peak_dbtp is None:
            return output  # silence
        over = encoded.true_peak_dbtp - CEILING_DBTP
        short = TARGET_LUFS - encoded.integrated_lufs
        if over <= 0 and abs(short) <= LOUDNESS_AIM_LU:
            return output
        limit_dbfs -= over + 0.3 if over > 0 else 0.0
        target_lufs += short
    raise MediaError(f"the soundtrack came out at {encoded.integrated_lufs:.1f} LUFS, {encoded.true_peak_dbtp:.1f} "
                     f"dBTP after {ENCODE_TRIES} encodings (needs {TARGET_LUFS:g} LUFS, at most {CEILING_DBTP:g} "
                     "dBTP)")


@dataclass(frozen=True)
class Loudness:
    """EBU R128 measurement; `integrated_lufs` is None for silence (ebur128 reports its -70 LUFS floor)."""

    integrated_lufs: float | None
    true_peak_dbtp: float | None
    range_lu: float
    gate_lufs: float


def loudness_meter() -> str:
    """The measuring filter: ebur128 with true peak (4x oversampled); per-frame lines only at verbose level."""
    return "ebur128=peak=true:framelog=verbose"


def parse_loudness(stderr: str) -> Loudness:
    summary = stderr[stderr.rfind("Summary:"):] if "Summary:" in stderr else ""
    values = {key: _number(summary, key) for key in ("I:", "LRA:", "Peak:", "Threshold:")}
    if values["I:"] is None:
        raise MediaError("loudness measurement printed no result")
    integrated = values["I:"] if values["I:"] > SILENCE_LUFS else None
    peak = values["Peak:"]
    return Loudness(integrated, peak if integrated is not None else None, values["LRA:"] or 0.0,
                    values["Threshold:"] or 0.0)


def normalizer(measured: Loudness, limit_dbfs: float = LIMIT_DBFS, target_lufs: float = TARGET_LUFS) -> str:
    """One linear gain from the measured loudness to `target_lufs` (so the level is not ridden), then a limit at
    `limit_dbfs` on the signal oversampled 4x, so it holds the peaks between samples too (true peak)."""
    if measured.integrated_lufs is None:
        return "anull"  # silence: nothing to normalize (preflight reports it)
    return (
        f"volume={target_lufs - measured.integrated_lufs:.2f}dB,aresample={4 * SAMPLE_RATE},"
        f"alimiter=limit={10 ** (limit_dbfs / 20):.4f}:attack=2:release=60:level=false:latency=1,"
        f"aresample={SAMPLE_RATE},{AAC_ALIGNED}"
    )


def _number(summary: str, key: str) -> float | None:
    match = re.search(re.escape(key) + r"\s*(-?[\d.]+|-inf)", summary)
    if match is None:
        return None
    return float("-inf") if match.group(1) == "-inf" else float(match.group(1))
