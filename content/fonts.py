"""Fonts that are always present: the DejaVu family inside matplotlib's wheel, so a bare machine renders text."""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FAMILY = "DejaVu Sans"
BOLD_FONT_FILE = FONT_DIR / "DejaVuSans-Bold.ttf"


@cache
def _metrics() -> tuple[set[int], dict[int, int], int]:
    font = TTFont(BOLD_FONT_FILE, lazy=True)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"].metrics
    advances = {code: hmtx[glyph][0] for code, glyph in cmap.items()}
    return set(cmap), advances, font["head"].unitsPerEm


def printable(text: str) -> str:
    """Drop characters the bundled font has no glyph for (emoji and so on) rather than draw tofu boxes."""
    covered, _, _ = _metrics()
    kept = "".join(ch for ch in text if ord(ch) in covered or ch in "\n ")
    return " ".join(kept.split())


def text_width(text: str, size: float) -> float:
    """Rendered width in pixels of `text` at font `size` (pixels per em)."""
    _, advances, units = _metrics()
    fallback = units // 2
    return sum(advances.get(ord(ch), fallback) for ch in text) * size / units


def link_fonts(folder: Path) -> Path:
    """Expose the bundled fonts in `folder` so filtergraphs can name it without path escaping."""
    folder.mkdir(parents=True, exist_ok=True)
    for font in FONT_DIR.glob("DejaVuSans*.ttf"):
        target = folder / font.name
        if not target.exists():
            try:
                os.symlink(font, target)
            except OSError:
                target.write_bytes(font.read_bytes())
    return folder
