"""A reference video, analysed: its shots and cut times, the rhythm of their lengths, each shot's palette, brightness,
contrast and camera motion, its loudness, and its music's tempo and beats — as JSON, and as an HTML page with a
keyframe of every shot (`python main.py analyze VIDEO`); and two of them side by side with their similarity
(`python main.py compare REFERENCE VIDEO`)."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from content.media.analysis import analyse
from content.media.beats import track_beats
from content.media.ffmpeg import run_ffmpeg
from content.media.media import probe
from content.media.onscreen_text import onscreen_text
from content.media.shots import Shots, find_shots
from content.media.similarity import Similarity, similarity
from content.media.sound_share import sound_share
from core.errors import MediaError
from core.files import write_atomically

TEMPLATES = Path(__file__).parent / "templates"
KEYFRAME_WIDTH = 240
DIGEST_CHARS = 16  # of the SHA-256 naming a kept reference's folder


@dataclass(frozen=True)
class Analysis:
    video: str
    duration_s: float
    width: int
    height: int
    fps: float
    cuts_s: tuple[float, ...]
    shots: tuple[dict[str, Any], ...]
    rhythm: dict[str, float]  # shot lengths: mean, median, shortest, longest, variation (stdev / mean)
    loudness_lufs: float | None
    tempo_bpm: float | None
    beats_s: tuple[float, ...]
    text: dict[str, float]  # on-screen text: coverage (share of the picture), changes_per_s (onscreen_text.py)
    sound: dict[str, float] = field(default_factory=dict)  # speech, music, speech_over_music: shares of the runtime
    transcript: dict[str, Any] | None = None  # what was said, when bought (content/media/paid_analysis.py)
    keyframes: dict[str, Any] | None = None  # each shot's keyframe described, when bought (paid_analysis.py)


# The paid parts of an analysis, added to it once its keyframes are written (core/engine/analysis_purchases.py)
Extras = Callable[[Analysis, Path, list[Path]], Awaitable[Analysis]]


async def analyze(video: Path, workdir: Path) -> Analysis:
    """Everything measured of `video`; `workdir` keeps the beat tracker's cache."""
    info = await probe(video)
    if info.video is None:
        raise MediaError(f"{video.name}: has no picture to analyse")
    shots, signals, text, sound = await asyncio.gather(
        find_shots(video, info.video.fps), analyse(video, has_video=False, has_audio=info.audio is not None),
        onscreen_text(video, info.video.width, info.video.height), _sound(video, info.audio is not None))
    tempo: float | None = None
    beats: tuple[float, ...] = ()
    if info.audio is not None and info.duration_s >= 2:
        with_beats = await track_beats(video, workdir / "beats")
        tempo, beats = round(with_beats.tempo_bpm, 1), tuple(round(b, 3) for b in with_beats.beats_s)
    return Analysis(video.name, shots.duration_s, info.video.width, info.video.height, info.video.fps, shots.cuts_s,
                    tuple({**asdict(shot), "length_s": shot.length_s} for shot in shots.shots), rhythm_of(shots),
                    signals.integrated_lufs, tempo, beats, asdict(text), sound)


async def _sound(video: Path, has_audio: bool) -> dict[str, float]:
    return asdict(await sound_share(video)) if has_audio else {}


def rhythm_of(shots: Shots) -> dict[str, float]:
    lengths = [shot.length_s for shot in shots.shots]
    mean = statistics.fmean(lengths)
    return {"shots": len(lengths), "mean_s": round(mean, 3), "median_s": round(statistics.median(lengths), 3),
            "shortest_s": min(lengths), "longest_s": max(lengths),
            "variation": round(statistics.pstdev(lengths) / mean, 3) if mean else 0.0}


def write_comparison(reference: Analysis, video: Analysis, result: Similarity, folder: Path,
                     reference_folder: Path) -> Path:
    """similarity.json and compare.html (the two side by side, each with the keyframes its report has) in the
    compared video's report `folder`; returns the page."""
    both = {"reference": asdict(reference), "video": asdict(video), "similarity": asdict(result)}
    write_atomically(folder / "similarity.json", json.dumps(both, indent=2) + "\n")
    page = folder / "compare.html"
    write_atomically(page, _templates().get_template("compare.html.j2").render(
        reference=reference, video=video, result=result,
        reference_folder=os.path.relpath(reference_folder / "keyframes", folder), video_folder="keyframes"))
    return page


async def kept(video: Path, references: Path, workdir: Path, extras: Extras | None = None
               ) -> tuple[Analysis, Path]:
    """A reference video kept under `references`/<digest of its bytes>/ — a copy, its analysis (with `extras`, the
    paid parts, added) and report — and analysed once however often it is used; each use marks it used (retention
    counts from its last use)."""
    digest = await asyncio.to_thread(file_digest, video)
    folder = references / digest
    stored = folder / "analysis.json"
    if stored.is_file():
        os.utime(stored)
        return load(stored), folder
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"reference{video.suffix.lower()}"
    await asyncio.to_thread(shutil.copyfile, video, copy)
    analysis = dataclasses.replace(await analyze(copy, workdir), video=video.name)
    analysis, _ = await write_report(analysis, copy, folder, extras)
    return analysis, folder


def file_digest(video: Path) -> str:
    """What names a video's kept copy (and its paid analysis): the start of its bytes' SHA-256."""
    with video.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:DIGEST_CHARS]


def load(path: Path) -> Analysis:
    """An analysis as `write_report` stored it."""
    fields: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for name in ("cuts_s", "shots", "beats_s"):
        fields[name] = tuple(fields[name])
    return Analysis(**fields)


async def report_likeness(reference_folder: Path, video: Path, folder: Path, workdir: Path) -> Similarity:
    """How alike a lookalike `video` came out to the reference kept in `reference_folder`: `video` analysed into its
    report `folder`, with the comparison beside it (write_comparison)."""
    reference = load(reference_folder / "analysis.json")
    analysis = await analyze(video, workdir)
    await write_report(analysis, video, folder)
    result = similarity(asdict(reference), asdict(analysis))
    write_comparison(reference, analysis, result, folder, reference_folder)
    return result


def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


async def write_report(analysis: Analysis, video: Path, folder: Path, extras: Extras | None = None
                       ) -> tuple[Analysis, Path]:
    """A keyframe from the middle of every shot, `extras` added (the paid parts, which may describe them), then
    analysis.json and index.html showing it all; returns the analysis and the page."""
    keyframes = await write_keyframes(analysis, video, folder / "keyframes")
    if extras is not None:
        analysis = await extras(analysis, video, keyframes)
    write_atomically(folder / "analysis.json", json.dumps(asdict(analysis), indent=2) + "\n")
    page = folder / "index.html"
    write_atomically(page, _templates().get_template("analysis.html.j2").render(a=analysis))
    return analysis, page


async def write_keyframes(analysis: Analysis, video: Path, keyframes: Path) -> list[Path]:
    """A frame from the middle of each shot, in order."""
    keyframes.mkdir(parents=True, exist_ok=True)
    written = []
    for number, shot in enumerate(analysis.shots, 1):
        middle = (shot["start_s"] + shot["end_s"]) / 2
        frame = keyframes / f"shot-{number:02d}.jpg"
        await run_ffmpeg(["-y", "-ss", f"{middle:.3f}", "-i", str(video.resolve()), "-frames:v", "1", "-vf",
                          f"scale={KEYFRAME_WIDTH}:-2", "-q:v", "4", str(frame.resolve())], what="a keyframe")
        written.append(frame)
    return written
