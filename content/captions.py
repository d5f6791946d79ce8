"""The Reel's text as an ASS script for libass: hook, timed caption beats and an end card, inside the safe area."""
from __future__ import annotations

from dataclasses import dataclass

from content.briefs import Brief
from content.fonts import FONT_FAMILY, printable, text_width
from core.settings import Palette

FRAME_W, FRAME_H = 1080, 1920
# Instagram's Reels UI covers the top ~14% (header, camera button), the bottom ~35% (caption, audio, comment bar)
# and a column on the right (like/comment/share/remix buttons). Source: Meta's Reels "safe zone" guidance, as
# restated in issue 2/3 and ../shared/reference/trends_instagram.md §3.1 (the grid crop is y 240-1680).
SAFE_TOP = round(FRAME_H * 0.14)  # 269
SAFE_BOTTOM = round(FRAME_H * (1 - 0.35))  # 1248
SAFE_LEFT = round(FRAME_W * 0.06)  # 65
SAFE_RIGHT = FRAME_W - round(FRAME_W * 0.12)  # 950: clear of the button column
SAFE_WIDTH = SAFE_RIGHT - SAFE_LEFT
SAFE_HEIGHT = SAFE_BOTTOM - SAFE_TOP

LINE_SPACING = 1.2
READING_WPS = 2.8  # words a viewer reads per second on a phone
END_CARD_S = 3.0


@dataclass(frozen=True)
class Caption:
    start_s: float
    end_s: float
    style: str
    size: int
    lines: list[str]


def fit_text(text: str, max_size: int, min_size: int = 40, max_height: float = SAFE_HEIGHT) -> tuple[int, list[str]]:
    """The largest font size (down to `min_size`) at which `text` wraps inside the safe width and height."""
    size = max_size
    while True:
        lines = wrap(text, size)
        if size <= min_size or (len(lines) * size * LINE_SPACING <= max_height):
            return size, lines
        size -= 4


def wrap(text: str, size: int, width: float = SAFE_WIDTH) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, size) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def plan_captions(brief: Brief, duration_s: float) -> list[Caption]:
    """Hook first, then each beat for a time proportional to its words, then the end card."""
    hook_text = printable(brief.hook)
    hook_s = min(max(len(hook_text.split()) / READING_WPS, 2.0), 4.0)
    beats_s = duration_s - hook_s - END_CARD_S
    beats = [printable(b) for b in brief.beats]
    words = [max(len(b.split()), 3) for b in beats]
    captions = [Caption(0.0, hook_s, "Hook", *fit_text(hook_text, 96))]
    cursor = hook_s
    for beat, count in zip(beats, words):
        length = beats_s * count / sum(words)
        captions.append(Caption(cursor, cursor + length, "Beat", *fit_text(beat, 80)))
        cursor += length
    end_text = printable(brief.cta)
    captions.append(Caption(cursor, duration_s, "Cta", *fit_text(end_text, 72, max_height=SAFE_HEIGHT / 2)))
    tags = printable(" ".join(f"#{tag}" for tag in brief.hashtags))
    captions.append(Caption(cursor, duration_s, "Tags", *fit_text(tags, 48, min_size=32, max_height=SAFE_HEIGHT / 2)))
    return captions


def render_ass(captions: list[Caption], palette: Palette) -> str:
    text, accent = _ass_colour(palette.text), _ass_colour(palette.accent)
    styles = {"Hook": accent, "Beat": text, "Cta": accent, "Tags": text}
    header = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {FRAME_W}", f"PlayResY: {FRAME_H}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
    ]
    header += [
        f"Style: {name},{FONT_FAMILY},72,{colour},{colour},&H00101010,&H96000000,-1,0,0,0,100,100,0,0,1,5,3,5,0,0,0,1"
        for name, colour in styles.items()
    ]
    header += ["", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]
    return "\n".join(header + [_dialogue(c) for c in captions]) + "\n"


def _dialogue(caption: Caption) -> str:
    x = (SAFE_LEFT + SAFE_RIGHT) // 2
    y = _centre_y(caption)
    pop = r"\fscx86\fscy86\t(0,160,\fscx100\fscy100)"
    text = r"\N".join(_escape(line) for line in caption.lines)
    tags = rf"{{\fs{caption.size}\pos({x},{y})\fad(150,150){pop}}}"
    return f"Dialogue: 0,{_time(caption.start_s)},{_time(caption.end_s)},{caption.style},,0,0,0,,{tags}{text}"


def _centre_y(caption: Caption) -> int:
    """The end card splits the safe area: call to action above, hashtags below; everything else is centred."""
    middle = (SAFE_TOP + SAFE_BOTTOM) // 2
    if caption.style == "Cta":
        return middle - SAFE_HEIGHT // 4
    if caption.style == "Tags":
        return middle + SAFE_HEIGHT // 4
    return middle


def _time(seconds: float) -> str:
    centis = round(seconds * 100)
    return f"{centis // 360000}:{centis // 6000 % 60:02d}:{centis // 100 % 60:02d}.{centis % 100:02d}"


def _escape(text: str) -> str:
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")


def _ass_colour(hex_colour: str) -> str:
    r, g, b = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"&H00{b}{g}{r}".upper()
