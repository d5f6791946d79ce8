"""A reference video, analysed: its shots and cut times, the rhythm of their lengths, each shot's palette, brightness,
contrast and camera motion, its loudness, and its music's tempo and beats — as JSON, and as an HTML page with a
keyframe of every shot (`python main.py analyze VIDEO`); and two of them side by side with their similarity
(`python main.py compare REFERENCE VIDEO`)."""
from __future__ import annotations

import asyncio
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from content.media.analysis import analyse
from content.media.beats import track_beats
from content.media.ffmpeg import run_ffmpeg
from content.media.media import probe
from content.media.shots import Shots, find_shots
from content.media.similarity import Similarity
from core.errors import MediaError
from core.files import write_atomically

TEMPLATES = Path(__file__).parent / "templates"
KEYFRAME_WIDTH = 240


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


async def analyze(video: Path, workdir: Path) -> Analysis:
    """Everything measured of `video`; `workdir` keeps the beat tracker's cache."""
    info = await probe(video)
    if info.video is None:
        raise MediaError(f"{video.name}: has no picture to analyse")
    shots, signals = await asyncio.gather(find_shots(video, info.video.fps),
                                          analyse(video, has_video=False, has_audio=info.audio is not None))
    tempo: float | None = None
    beats: tuple[float, ...] = ()
    if info.audio is not None and info.duration_s >= 2:
        with_beats = await track_beats(video, workdir / "beats")
        tempo, beats = round(with_beats.tempo_bpm, 1), tuple(round(b, 3) for b in with_beats.beats_s)
    return Analysis(video.name, shots.duration_s, info.video.width, info.video.height, info.video.fps, shots.cuts_s,
                    tuple({**asdict(shot), "length_s": shot.length_s} for shot in shots.shots), rhythm_of(shots),
                    signals.integrated_lufs, tempo, beats)


def rhythm_of(shots: Shots) -> dict[str, float]:
    lengths = [shot.length_s for shot in shots.shots]
    mean = statistics.fmean(lengths)
    return {"shots": len(lengths), "mean_s": round(mean, 3), "median_s": round(statistics.median(lengths), 3),
            "shortest_s": min(lengths), "longest_s": max(lengths),
            "variation": round(statistics.pstdev(lengths) / mean, 3) if mean else 0.0}


def write_comparison(reference: Analysis, video: Analysis, result: Similarity, folder: Path) -> Path:
    """similarity.json and compare.html (the two side by side) in the compared video's folder; returns the page."""
    both = {"reference": asdict(reference), "video": asdict(video), "similarity": asdict(result)}
    write_atomically(folder / "similarity.json", json.dumps(both, indent=2) + "\n")
    page = folder / "compare.html"
    write_atomically(page, _templates().get_template("compare.html.j2").render(
        reference=reference, video=video, result=result, reference_folder=Path(reference.video).stem,
        video_folder=folder.name))
    return page


def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


async def write_report(analysis: Analysis, video: Path, folder: Path) -> Path:
    """analysis.json, a keyframe from the middle of every shot, and index.html showing them; returns the page."""
    keyframes = folder / "keyframes"
    keyframes.mkdir(parents=True, exist_ok=True)
    for number, shot in enumerate(analysis.shots, 1):
        middle = (shot["start_s"] + shot["end_s"]) / 2
        await run_ffmpeg(["-y", "-ss", f"{middle:.3f}", "-i", str(video.resolve()), "-frames:v", "1", "-vf",
                          f"scale={KEYFRAME_WIDTH}:-2", "-q:v", "4", str((keyframes / f"shot-{number:02d}.jpg")
                                                                         .resolve())], what="a keyframe")
    write_atomically(folder / "analysis.json", json.dumps(asdict(analysis), indent=2) + "\n")
    page = folder / "index.html"
    write_atomically(page, _templates().get_template("analysis.html.j2").render(a=analysis))
    return page
