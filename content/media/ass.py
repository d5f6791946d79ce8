"""Writing ASS subtitle scripts for libass: styles, karaoke events, per-run font choice, safe escaping."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from content.media import colour_emoji
from content.media.captions import Block, Word, join_words
from content.media.contrast import ink_on
from content.media.fonts import Font, FontChain
from content.media.frame import FPS, Frame


@dataclass(frozen=True)
class Event:
    """One ASS dialogue line, and the colour emoji to lay over the places it keeps for them."""

    start_s: float
    end_s: float
    text: str
    layer: int = 0
    stickers: tuple[colour_emoji.Sticker, ...] = ()


Entrance = Literal["none", "pop", "scale"]


@dataclass(frozen=True)
class Arrival:
    """How a caption arrives: it fades in over `fade_ms` (so its first frame is never a full-size flash) while its
    scale goes from `first` through each (from ms, to ms, acceleration, scale) step, as libass's \\t animates it
    (progress to the power of the acceleration)."""

    fade_ms: int
    first: float
    steps: tuple[tuple[int, int, float, float], ...]

    @property
    def tags(self) -> str:
        """The ASS override tags that play it on an event."""
        moves = "".join(rf"\t({a},{b},{'' if accel == 1 else f'{accel:g},'}\fscx{scale * 100:g}\fscy{scale * 100:g})"
                        for a, b, accel, scale in self.steps)
        return rf"\fad({self.fade_ms},0)\fscx{self.first * 100:g}\fscy{self.first * 100:g}{moves}"

    @property
    def duration_s(self) -> float:
        return max(self.fade_ms, self.steps[-1][1]) / 1000

    def at(self, seconds: float) -> tuple[float, float]:
        """The scale and opacity `seconds` after it began."""
        ms, scale = seconds * 1000, self.first
        for a, b, accel, target in self.steps:
            if ms >= a:
                scale += (target - scale) * min((ms - a) / (b - a), 1.0) ** accel
        return scale, min(ms / self.fade_ms, 1.0)


# "pop" overshoots, then settles; "scale" grows into place.
ARRIVALS: dict[Entrance, Arrival | None] = {
    "none": None,
    "pop": Arrival(70, 0.55, ((0, 110, 1.0, 1.12), (110, 180, 1.0, 1.0))),
    "scale": Arrival(90, 0.75, ((0, 160, 0.6, 1.0),)),
}
STEP_S = 1 / FPS  # an emoji's entrance is drawn frame by frame, in step with its caption's
HIDDEN = 0xFF  # the alpha of text that keeps its place but is not seen
EMOJI_SIDE = 0.95  # an emoji's picture is this much of the advance of the glyph that keeps its place
HIGHLIGHT_PAD_EM = 0.14  # the lit word's box reaches this far past its glyphs: inside a space, so words stay apart


@dataclass(frozen=True)
class TextLook:
    """Colours as #rrggbb; `boxed` draws an opaque box behind text (for busy photo backgrounds). The lit word is
    `highlight`: "colour" recolours it in the accent, "box" sets it in dark or light ink on an accent box (for an
    accent too close to the text's colour to tell apart). Captions appear `words_at_once` words at a time (0: whole),
    each arriving with `entrance`."""

    text: str
    accent: str
    outline: str = "#101010"
    boxed: bool = False
    highlight: Literal["colour", "box"] = "colour"
    words_at_once: int = 0
    entrance: Entrance = "none"

    @property
    def border(self) -> tuple[int, int, int]:
        """ASS BorderStyle, Outline and Shadow of the words around the lit one."""
        return (3, 14, 0) if self.boxed else (1, 5, 3)


def script(events: Sequence[Event], font: Font, look: TextLook, frame: Frame) -> str:
    """The whole ASS file. Encoding -1 has libass find each line's direction from its text: with the default (1) a
    right-to-left line split by the lit word's tags is drawn with its words left to right."""
    border_style, outline, shadow = look.border
    box = ass_colour(look.outline)  # opaque: neighbouring words' boxes overlap, and translucent ones left dark seams
    lines = [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {frame.width}", f"PlayResY: {frame.height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "YCbCr Matrix: TV.709", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        f"Style: Caption,{font.name},72,{ass_colour(look.text)},{ass_colour(look.accent)},{box},&H96000000,"
        f"{-int(font.bold)},0,0,0,100,100,0,0,{border_style},{outline},{shadow},5,0,0,0,-1",
        "", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    lines += [
        f"Dialogue: {e.layer},{_time(e.start_s)},{_time(e.end_s)},Caption,,0,0,0,,{e.text}"
        for e in events if e.end_s > e.start_s
    ]
    return "\n".join(lines) + "\n"


def karaoke(
    block: Block, chain: FontChain, look: TextLook, x: int, y: int, start_s: float, end_s: float,
    *, align: int = 5,
) -> list[Event]:
    """One event per word, each drawing the whole block with that word in the accent colour; the first arrives with
    the look's entrance, unless the block opens the Reel: its first frame shows the hook whole (a viewer swiping in,
    and a feed that shows that frame, see it before any entrance could play).

    Blocks cut out without fades, on the frames where their scene ends.

    (x, y) is the anchor named by ASS alignment `align` (5: the block's centre; 4: its left edge, middle height).
    """
    spoken: list[list[Word]] = []  # a word broken over lines is lit whole: its pieces share its timing
    for word in (word for line in block.lines for word in line):
        if spoken and not word.space_before and (word.start_s, word.end_s) == (spoken[-1][0].start_s,
                                                                               spoken[-1][0].end_s):
            spoken[-1].append(word)
        else:
            spoken.append([word])
    placed = rf"\an{align}\pos({x},{y})\fs{block.size}"
    arrival = ARRIVALS[look.entrance] if start_s > 0 else None
    tags = arrival.tags if arrival else ""
    events = []
    if look.boxed and spoken:  # the block once, each lit word drawn again above it, so no neighbour's box covers it
        events.append(Event(start_s, end_s, rf"{{{placed}{tags}}}" + draw(block, chain, look)))
    for index, pieces in enumerate(spoken):
        begin = start_s if index == 0 else pieces[0].start_s
        finish = end_s if index == len(spoken) - 1 else spoken[index + 1][0].start_s
        text = draw(block, chain, look, lit=pieces, only_lit=look.boxed)
        events.append(Event(begin, finish, rf"{{{placed}{tags if index == 0 else ''}}}" + text,
                            layer=int(look.boxed)))
    if events:  # the block's emoji are laid over it once, for as long as it is shown, arriving with it
        stickers = _stickers(block, chain, x, y, align, start_s, end_s)
        events[0] = dataclasses.replace(events[0], stickers=tuple(
            step for sticker in stickers for step in _arriving(sticker, arrival, x, y)))
    return events


def _arriving(sticker: colour_emoji.Sticker, arrival: Arrival | None, x: int, y: int
              ) -> list[colour_emoji.Sticker]:
    """The sticker as its caption arrives, one picture for each frame of the entrance (frames fall on multiples of
    STEP_S; libass times the entrance from the event's start in centiseconds): scaled about the caption's anchor
    (x, y) as libass scales the words around it, and faded in with them; then as it stays."""
    if arrival is None:
        return [sticker]
    begin = centis(sticker.start_s) / 100
    frame, steps = math.ceil(begin * FPS - 1e-6), []
    while frame * STEP_S - begin < arrival.duration_s:
        scale, opacity = arrival.at(frame * STEP_S - begin)
        if opacity:
            steps.append(dataclasses.replace(
                sticker, x=x + (sticker.x - x) * scale, y=y + (sticker.y - y) * scale,
                side=max(2, round(sticker.side * scale)), start_s=(frame - 0.5) * STEP_S,
                end_s=(frame + 0.5) * STEP_S, opacity=round(sticker.opacity * opacity, 2)))
        frame += 1
    return [*steps, dataclasses.replace(sticker, start_s=(frame - 0.5) * STEP_S)]


def still(block: Block, chain: FontChain, colour: str, x: int, y: int, start_s: float, end_s: float,
          *, align: int = 5, alpha: int = 0) -> Event:
    """A block shown without highlighting (titles, hashtags, list items already read, dimmed by `alpha`)."""
    tags = rf"{{\an{align}\pos({x},{y})\fs{block.size}\1a&H{alpha:02X}&}}"
    stickers = _stickers(block, chain, x, y, align, start_s, end_s, opacity=1 - alpha / 255)
    return Event(start_s, end_s, tags + draw(block, chain, look_in(colour), alpha=alpha), stickers=stickers)


def look_in(colour: str) -> TextLook:
    """A look drawing every word in `colour`, nothing lit."""
    return TextLook(colour, colour)


def draw(block: Block, chain: FontChain, look: TextLook, lit: Sequence[Word] = (), alpha: int = 0,
         only_lit: bool = False) -> str:
    """The block's text with a font override per run and the highlighted word lit (recoloured, or boxed); its
    colour emoji hidden, keeping their places for their pictures (the text's own transparency is `alpha`). With
    `only_lit` the other words are invisible but keep their places."""
    rendered_lines = []
    for line in block.lines:
        parts = []
        for position, word in enumerate(line):
            shown = any(word is piece for piece in lit)
            if word.space_before and position:  # the space before a lit word is not lit: its box is the word's
                if only_lit:
                    parts.append(r"{\alpha&HFF&}")
                parts.append(_plain(look) + _runs(chain, " ", look, HIDDEN if only_lit else alpha))
            if only_lit:
                parts.append(r"{\alpha&H00&}" if shown else r"{\alpha&HFF&}")
            parts.append(_lit(look, block.size) if shown else _plain(look))
            parts.append(_runs(chain, word.text, look, HIDDEN if only_lit and not shown else alpha))
        rendered_lines.append("".join(parts))
    return r"\N".join(rendered_lines)


def _lit(look: TextLook, size: int) -> str:
    if look.highlight == "box":
        pad = max(2, round(size * HIGHLIGHT_PAD_EM))  # boxed: drawn over its neighbours, so no wider than the gaps
        pad = min(pad, look.border[1]) if look.boxed else pad
        return rf"{{\1c{ass_colour(ink_on(look.accent))}&\3c{ass_colour(look.accent)}&\bord{pad}\shad0}}"
    return rf"{{\1c{ass_colour(look.accent)}&}}"


def _plain(look: TextLook) -> str:
    _, outline, shadow = look.border
    base = rf"{{\1c{ass_colour(look.text)}&"
    if look.highlight == "box":  # undo the lit word's box for the words after it
        base += rf"\3c{ass_colour(look.outline)}&\bord{outline}\shad{shadow}"
    return base + "}"


def _runs(chain: FontChain, text: str, look: TextLook, alpha: int) -> str:
    """`text` in runs of one font each; a colour emoji is a transparent square (on its box, when the look has boxes),
    then the alphas of the text, its outline or box, and its shadow come back."""
    if not colour_emoji.in_colour():
        return _fonts(chain, text)
    shown, cursor = [], 0
    hide = r"{\1a&HFF&}" if look.boxed else r"{\alpha&HFF&}"  # a box stays behind its emoji
    restore = r"{\alpha&HFF&}" if alpha == HIDDEN else rf"{{\1a&H{alpha:02X}&\3a&H00&\4a&H96&}}"
    for start, end in colour_emoji.sequences(text):
        shown += [_fonts(chain, text[cursor:start]), hide, _fonts(chain, colour_emoji.PLACEHOLDER), restore]
        cursor = end
    return "".join(shown) + _fonts(chain, text[cursor:])


def _fonts(chain: FontChain, text: str) -> str:
    return "".join(rf"{{\fn{font.name}\b{int(font.bold)}}}{_escape(part)}" for font, part in chain.runs(text))


def _stickers(block: Block, chain: FontChain, x: int, y: int, align: int, start_s: float, end_s: float,
              opacity: float = 1.0) -> tuple[colour_emoji.Sticker, ...]:
    """Where the block's colour emoji go: each centred on the square keeping its place, measured as libass lays the
    lines out (each `size` tall, centred on x, or starting at x for alignment 4)."""
    if not colour_emoji.in_colour():
        return ()
    stickers = []
    top = y - block.height / 2
    for row, line in enumerate(block.lines):
        text = join_words(line)
        width = chain.width(text, block.size)
        left = x - width / 2 if align == 5 else x
        for start, end in colour_emoji.sequences(text):
            advance = chain.width(colour_emoji.PLACEHOLDER, block.size)
            stickers.append(colour_emoji.Sticker(
                text[start:end], left + chain.width(text[:start], block.size) + advance / 2,
                top + (row + 0.5) * block.size, max(2, round(advance * EMOJI_SIDE)), start_s, end_s, opacity))
    return tuple(stickers)


def ass_colour(hex_colour: str, alpha: int = 0) -> str:
    """Style-line form &HAABBGGRR; override tags append a closing '&'."""
    r, g, b = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"&H{alpha:02X}{b}{g}{r}".upper()


def centis(seconds: float) -> int:
    """ASS times are whole centiseconds."""
    return round(seconds * 100)


def _time(seconds: float) -> str:
    cs = centis(seconds)
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _escape(text: str) -> str:
    """ASS treats braces as override blocks and backslashes as escapes; neither may reach it from a trend."""
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")

