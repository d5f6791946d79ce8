"""A lookalike of a reference video: what `analyze` measured of the reference (content/media/reference.py) made
into a brief's `Likeness`, and the renderer's scenes, music and look made to follow it — the reference's shots'
lengths (scaled to the Reel's length) and each shot's colours for the scene in its place, hard cuts, its music's
tempo, a grade that tints the pictures toward its colours, and the caption preset nearest its on-screen text."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from content.briefs.brief import Likeness
from content.media.look import Look
from content.media.reference import Analysis
from core.files import write_atomically
from core.settings import CaptionPreset

LUT_SIZE = 17
LUMA = np.array([0.2126, 0.7152, 0.0722])  # BT.709's weights of red, green and blue in lightness
TINT = 0.35  # how far the grade moves a pixel's colour (not its lightness) toward the reference's at its lightness
TEMPO_RANGE = (60.0, 180.0)  # music slower or faster than this is made at half or double the reference's tempo
MAX_COLOURS = 8  # the persona's palette holds at most this many
# The caption preset whose text changes about as often as the reference's (changes a second): up to the first, a
# whole caption at a time; up to the second, groups of words; faster, one word at a time. Between what the three
# presets measure on our own Reels read at reading speed (0.19, 0.53 and 0.77 a second: onscreen_text.py).
WHOLE_UP_TO, GROUPS_UP_TO = 0.35, 0.65


def likeness_of(analysis: Analysis, folder: str) -> Likeness:
    """What a lookalike of the analysed video follows; `folder` is where its analysis is kept, for the report."""
    palettes = []
    for shot in analysis.shots:
        colours = [colour for colour, _ in shot["palette"]] or ["#000000"]
        palettes.append(colours if len(colours) > 1 else colours * 2)  # a gradient needs two stops
    return Likeness(reference=folder, shot_lengths_s=[shot["length_s"] for shot in analysis.shots],
                    shot_palettes=palettes, tempo_bpm=_in_range(analysis.tempo_bpm),
                    captions=caption_preset(analysis.text["changes_per_s"]))


def caption_preset(changes_per_s: float) -> CaptionPreset:
    if changes_per_s <= WHOLE_UP_TO:
        return "classic"
    return "pop" if changes_per_s <= GROUPS_UP_TO else "word"


def _in_range(tempo: float | None) -> float | None:
    if not tempo:
        return None
    low, high = TEMPO_RANGE
    while tempo < low:
        tempo *= 2
    while tempo > high:
        tempo /= 2
    return round(tempo, 2)


def scene_cuts(like: Likeness, duration_s: float) -> list[float]:
    """Where the lookalike's scenes change over `duration_s`: at the reference's cuts, scaled to that length."""
    scale = duration_s / sum(like.shot_lengths_s)
    cuts, at = [], 0.0
    for length in like.shot_lengths_s[:-1]:
        at += length
        cuts.append(round(at * scale, 3))
    return cuts


def styled(look: Look, like: Likeness, workdir: Path) -> Look:
    """The persona's look following the reference: its main colours as the palette (each shot's lead colour, in
    order of appearance), hard cuts as the reference's shots have, its caption preset on every platform, and a grade
    toward its colours (in `workdir`) in place of the persona's own. A list holds its items on screen, so a
    reference whose text changes word by word or a few words at a time is followed with big centred captions."""
    colours = list(dict.fromkeys(palette[0] for palette in like.shot_palettes))[:MAX_COLOURS]
    colours = colours if len(colours) > 1 else [*colours, like.shot_palettes[0][-1]]
    template = "kinetic" if look.style.template == "list" and like.captions != "classic" else look.style.template
    style = look.style.model_copy(update={
        "transition": "cut", "captions": like.captions, "captions_per_platform": {}, "template": template,
        "palette": look.style.palette.model_copy(update={"background": colours})})
    workdir.mkdir(parents=True, exist_ok=True)
    grade = workdir / "reference-grade.cube"
    write_atomically(grade, grade_lut(colours))
    return dataclasses.replace(look, style=style, grade=grade)


def grade_lut(colours: Sequence[str]) -> str:
    """A 3D LUT (.cube) that split-tones toward `colours`: a pixel's colour is moved toward the reference colour
    of its lightness (the darkest for the shadows, the lightest for the highlights, blended between), its lightness
    kept."""
    rgb = np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours])
    lightness = rgb @ LUMA
    order = np.argsort(lightness)
    stops, levels = rgb[order], lightness[order]
    grid = np.linspace(0, 1, LUT_SIZE)
    blue, green, red = np.meshgrid(grid, grid, grid, indexing="ij")  # .cube: red changes fastest
    pixels = np.stack([red, green, blue], axis=-1).reshape(-1, 3)
    luma = pixels @ LUMA
    tint = np.stack([np.interp(luma, levels, stops[:, channel]) for channel in range(3)], axis=-1)
    chroma = tint - (tint @ LUMA)[:, None]  # the reference colour's hue and saturation, without its lightness
    graded = np.clip(pixels + TINT * (chroma - (pixels - luma[:, None])), 0, 1)
    lines = [f"LUT_3D_SIZE {LUT_SIZE}", *(f"{r:.5f} {g:.5f} {b:.5f}" for r, g, b in graded)]
    return "\n".join(lines) + "\n"
