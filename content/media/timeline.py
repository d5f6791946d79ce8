"""A Reel's timeline: one scene per caption — the hook, each beat, the end card — each with its words, its visual
prompt, where its picture comes from and when it is on screen.

It is planned from the brief and the captions' timing (reading speed, or the voiceover's), saved beside the render
(`<video>.timeline.json`), and delivered with the video: into its JSON sidecar and the job's row, which `status`
shows.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from content.briefs.brief import Brief
from content.media.captions import Segment


@dataclass(frozen=True)
class Scene:
    role: str  # "hook" | "beat" | "cta"
    text: str
    prompt: str  # what the scene shows, for a source that reads prompts
    source: str  # "generated" (drawn here) | "library" (the persona's media) | "stock" (footage)
    start_s: float
    end_s: float
    credit: dict[str, str] | None = None  # stock footage's attribution (content/media/footage.py, Credit)
    palette: tuple[str, ...] = ()  # a lookalike's: its reference shot's colours, which a generated picture takes


def plan(brief: Brief, segments: Sequence[Segment]) -> list[Scene]:
    """The scenes of `brief` at its captions' times: a beat shows the LLM's prompt for it when there is one, else
    the brief's visual prompt with the beat's own words; the hook opens on it, the end card closes on it (each scene
    its own prompt, for a provider asked for each scene's clip). Each is "generated" until a picture is chosen."""
    texts = [brief.hook, *brief.beats, brief.cta]
    prompts = [f"{brief.visual_prompt}, opening shot: {brief.hook}"]
    for index, beat in enumerate(brief.beats):
        prompts.append(brief.scene_prompts[index] if index < len(brief.scene_prompts)
                       else f"{brief.visual_prompt}, showing: {beat}")
    prompts.append(f"{brief.visual_prompt}, closing shot: {brief.cta}")
    return [Scene(segment.role, text, prompt, "generated", round(segment.start_s, 3), round(segment.end_s, 3))
            for segment, text, prompt in zip(segments, texts, prompts)]


def plan_like(brief: Brief, segments: Sequence[Segment], cuts: Sequence[float],
              palettes: Sequence[Sequence[str]]) -> list[Scene]:
    """The scenes of a lookalike: they change at its reference's `cuts` rather than with the captions, each in its
    reference shot's colours (`palettes`, one a shot), showing the words and prompt of the caption on screen at its
    middle."""
    captioned = plan(brief, segments)
    bounds = [0.0, *cuts, segments[-1].end_s]
    scenes = []
    for index, (start, end) in enumerate(zip(bounds, bounds[1:])):
        middle = (start + end) / 2
        under = next((scene for scene in captioned if scene.start_s <= middle < scene.end_s), captioned[-1])
        scenes.append(replace(under, start_s=round(start, 3), end_s=round(end, 3),
                              palette=tuple(palettes[index % len(palettes)])))
    return scenes


def beside(video: Path) -> Path:
    return video.with_suffix(".timeline.json")


def save(video: Path, scenes: Sequence[Scene]) -> None:
    """The timeline beside `video`."""
    beside(video).write_text(json.dumps([asdict(scene) for scene in scenes], ensure_ascii=False), encoding="utf-8")


def load(video: Path) -> list[dict[str, Any]] | None:
    """The timeline saved beside `video`, as stored with the job; None when its maker wrote none."""
    path = beside(video)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
