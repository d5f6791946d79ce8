"""Which font draws each character: the persona's font first, then a fallback chain, checked before rendering.

libass would fall back through fontconfig on its own, but silently and only to what the host happens to have;
choosing per character here lets us measure text exactly, name the font per run in the ASS script, and warn about
characters no installed font can draw instead of rendering tofu boxes.
"""
from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont

from content.media import colour_emoji
from core.font_files import DEFAULT_FONT

# Fallbacks tried in order after the persona's font and DejaVu Sans, when present. Debian package → what it adds.
# Colour emoji fonts (fonts-noto-color-emoji) are bitmap fonts libass cannot draw, so emoji come from Symbola.
SYSTEM_FALLBACKS: tuple[tuple[str, str, str], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "fonts-noto-cjk", "Chinese, Japanese, Korean"),
    ("/usr/share/fonts/truetype/noto/NotoSans*-Bold.ttf", "fonts-noto-core",
     "Devanagari, Bengali, Thai, Tamil, Ethiopic, Armenian, Georgian and most other living scripts"),
    ("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf", "fonts-symbola", "emoji and symbols"),
)
# The faces of NotoSansCJK-Bold.ttc: Han characters take the forms of the persona's language (a Chinese persona's
# 直 and 骨 are not drawn the Japanese way); other personas get the Japanese face, the collection's first.
CJK_FACES = {"ja": 0, "ko": 1, "zh": 2}
# Characters that draw nothing themselves (joiners, variation selectors, marks): they ride with their neighbour.
_INVISIBLE_CATEGORIES = {"Mn", "Me", "Cf"}


@dataclass(frozen=True, eq=False)
class Font:
    path: Path
    index: int
    family: str
    name: str  # what libass finds this very face by (by family it takes a collection's first face)
    bold: bool  # a bold face: libass is asked for bold, so it does not embolden a regular face (Anton) on its own
    units_per_em: int
    line_em: float  # libass's line height for this face, in ems (the OS/2 Windows ascent + descent)
    advances: dict[int, int] = field(repr=False)

    def covers(self, char: str) -> bool:
        return ord(char) in self.advances


@cache
def load_font(path: Path, index: int = 0) -> Font:
    """Read the name, character map and advance widths of one face (of a .ttf/.otf, or face `index` of a .ttc)."""
    font = TTFont(path, fontNumber=index, lazy=True) if path.suffix.lower() == ".ttc" else TTFont(path, lazy=True)
    hmtx = font["hmtx"].metrics
    advances = {code: hmtx[glyph][0] for code, glyph in font.getBestCmap().items()}
    names = font["name"]
    family = names.getDebugName(1) or path.stem
    bold = "OS/2" in font and font["OS/2"].usWeightClass >= 600
    units = font["head"].unitsPerEm
    line_em = (font["hhea"].ascent - font["hhea"].descent) / units
    if "OS/2" in font and font["OS/2"].usWinAscent + font["OS/2"].usWinDescent:  # libass's choice, as Windows'
        line_em = (font["OS/2"].usWinAscent + font["OS/2"].usWinDescent) / units
    return Font(path, index, family, _libass_name(font) or family, bold, units, line_em, advances)


def _libass_name(font: TTFont) -> str | None:
    """libass matches a PostScript-flavoured (CFF) face by its PostScript name, as Windows does, and any other by
    its full name."""
    return font["name"].getDebugName(6 if "CFF " in font else 4)


def font_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in {".ttf", ".otf", ".ttc"})


class FontChain:
    """Fonts in order of preference; each character is drawn by the first one that has a glyph for it."""

    def __init__(self, candidates: Iterable[tuple[Path, int]]) -> None:
        self._candidates = list(dict.fromkeys(candidates))
        self._loaded: list[Font] = []

    @property
    def primary(self) -> Font:
        return self._font(0)  # type: ignore[return-value]

    def font_for(self, char: str) -> Font | None:
        index = 0
        while (font := self._font(index)) is not None:
            if font.covers(char):
                return font
            index += 1
        return None

    def missing(self, text: str) -> list[str]:
        """Characters no font in the chain can draw (they are dropped from captions, with a warning)."""
        text = colour_emoji.collapsed(text) if colour_emoji.in_colour() else text
        return sorted({ch for ch in text if not _invisible(ch) and not ch.isspace() and self.font_for(ch) is None})

    def runs(self, text: str) -> list[tuple[Font, str]]:
        """`text` split into runs drawn by one font each; undrawable characters are left out."""
        runs: list[tuple[Font, str]] = []
        for char in text:
            if _invisible(char) or char == " ":
                font = runs[-1][0] if runs else self.primary
            else:
                found = self.font_for(char)
                if found is None:
                    continue
                font = found
            if runs and runs[-1][0] is font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs

    def width(self, text: str, size: float) -> float:
        """Width in pixels of `text` drawn by libass at font `size`, summing each run's advances. libass's size is
        a face's whole line (ascent + descent), not its em: an em is `size / line_em` pixels, so a CJK face (1.45
        ems a line) draws narrower than DejaVu (1.16) at the same size. An emoji drawn in colour takes the place of
        its first character."""
        text = colour_emoji.collapsed(text) if colour_emoji.in_colour() else text
        total = 0.0
        for font, run in self.runs(text):
            fallback = font.units_per_em // 2
            units = sum(0 if _invisible(ch) else font.advances.get(ord(ch), fallback) for ch in run)
            total += units / font.units_per_em / font.line_em
        return total * size

    def link_used(self, folder: Path, texts: Iterable[str]) -> None:
        """Expose the fonts `texts` need in `folder` (libass's fontsdir)."""
        folder.mkdir(parents=True, exist_ok=True)
        used = {id(font): font for text in texts for font, _ in self.runs(text)}
        used.setdefault(id(self.primary), self.primary)
        for font in used.values():
            target = folder / font.path.name
            if not target.exists():
                try:
                    os.symlink(font.path, target)
                except OSError:
                    target.write_bytes(font.path.read_bytes())

    def _font(self, index: int) -> Font | None:
        """Fonts load on first need, so Latin-only captions never pay for reading a 20 MB CJK collection."""
        while len(self._loaded) <= index and len(self._loaded) < len(self._candidates):
            path, face = self._candidates[len(self._loaded)]
            self._loaded.append(load_font(path, face))
        return self._loaded[index] if index < len(self._loaded) else None


@cache
def font_chain(primary: Path, user_font_dir: Path | None = None, language: str = "en") -> FontChain:
    """The persona's font, the user's `data/fonts/`, DejaVu Sans, then whichever system fallbacks are installed (a
    collection's face for the persona's `language`)."""
    candidates: list[tuple[Path, int]] = [(primary, 0)]
    if user_font_dir is not None:
        candidates += [(path, 0) for path in font_files(user_font_dir)]
    candidates.append((DEFAULT_FONT, 0))
    for pattern, _package, _scripts in SYSTEM_FALLBACKS:
        face = CJK_FACES.get(language, 0) if pattern.endswith(".ttc") else 0
        candidates += [(path, face) for path in sorted(Path("/").glob(pattern.lstrip("/")))]
    return FontChain(candidates)


def _invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES
