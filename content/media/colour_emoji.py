"""Colour emoji, which libass cannot draw (colour fonts are bitmaps): in captions each emoji sequence (a skin tone, a
flag, a keycap, a ZWJ family) holds its place as one hidden square, and a picture of the whole sequence, drawn by
Pillow with Noto Color Emoji, is laid over that place."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import emoji
from PIL import Image, ImageDraw, ImageFont

COLOUR_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")  # Debian package fonts-noto-color-emoji
_BITMAP_SIZE = 109  # the one size Noto Color Emoji's bitmaps come in
PLACEHOLDER = "\u25a0"  # ■, nearly an em wide in DejaVu Sans (always installed), as an emoji is


@dataclass(frozen=True)
class Sticker:
    """A picture of `sequence` centred on (x, y) in the frame, `side` pixels square, shown from start to end."""

    sequence: str
    x: float
    y: float
    side: int
    start_s: float
    end_s: float
    opacity: float = 1.0

    @property
    def file_name(self) -> str:
        codes = "-".join(f"{ord(char):x}" for char in self.sequence)
        return f"emoji-{codes}-{self.side}-{round(self.opacity * 100)}.png"


@cache
def in_colour() -> bool:
    """Whether emoji are drawn in colour here (else libass draws them in outline, from Symbola)."""
    return COLOUR_FONT.is_file()


def sequences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each emoji sequence in `text`; a character shown as text unless asked otherwise (©, ™, a
    bare ❤) is left to the fonts."""
    return [(found["match_start"], found["match_end"]) for found in emoji.emoji_list(text)
            if found["match_end"] - found["match_start"] > 1
            or unicodedata.east_asian_width(found["emoji"]) == "W"]


def collapsed(text: str) -> str:
    """`text` with each emoji sequence replaced by the square that holds its place."""
    for start, end in reversed(sequences(text)):
        text = text[:start] + PLACEHOLDER + text[end:]
    return text


def draw(sticker: Sticker, folder: Path) -> Path:
    """The sticker's picture as an RGBA PNG in `folder` (made once per sequence, size and opacity)."""
    path = folder / sticker.file_name
    if path.exists():
        return path
    font = ImageFont.truetype(str(COLOUR_FONT), _BITMAP_SIZE, layout_engine=ImageFont.Layout.RAQM)
    left, top, right, bottom = font.getbbox(sticker.sequence)
    square = int(max(right - left, bottom - top))  # centred on a square canvas: resized, it keeps its shape
    picture = Image.new("RGBA", (square, square))
    ImageDraw.Draw(picture).text(((square - right - left) / 2, (square - bottom - top) / 2), sticker.sequence,
                                 font=font, embedded_color=True)
    picture = picture.resize((sticker.side, sticker.side), Image.Resampling.LANCZOS)
    if sticker.opacity < 1:
        alpha = picture.getchannel("A").point(lambda value: round(value * sticker.opacity))
        picture.putalpha(alpha)
    folder.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path
