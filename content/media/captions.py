"""When each word is on screen, and how a block of words wraps and sizes to fit inside a frame's safe area."""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from content.briefs.brief import Brief
from content.media.fonts import FontChain
from content.media.japanese import is_japanese, japanese_words

# libass draws an outline and a shadow around each glyph, and the lit word's box reaches 0.14 of a size past its
# glyphs (ass.HIGHLIGHT_PAD_EM): layout keeps that much clear of the safe area's edges.
TEXT_MARGIN = 16
READING_WPS = 2.8  # words per second a viewer reads comfortably on a phone (speech runs at ~2.5-3)
END_CARD_S = 3.0
REFERENCE_LINE_EM = 1.164  # DejaVu Sans Bold's line (ascent + descent) in ems: the layouts' sizes are for it
# Closing punctuation that must not begin a line (CJK kinsoku and its Latin counterparts).
CLAUSE_END = frozenset(",.;:!?…،؛؟。、！？；：")  # a word group ends after a word ending in one of these
NO_LINE_START = frozenset("，。、．！？；：）」』】〕〉》〗”’・ー…‥々ゝゞヽヾ"
                          "ぁぃぅぇぉっゃゅょァィゥェォッャュョ,.!?;:)]}%")
MIN_HOOK_S, MAX_HOOK_S = 2.0, 4.0
SPACED_CJK_WORD = 6  # characters: a run this short with spaces around it is a word, not a sentence


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    space_before: bool = True


@dataclass(frozen=True)
class Segment:
    """One caption: the hook, a beat, or the call to action, with its words timed for the karaoke highlight."""

    role: str  # "hook" | "beat" | "cta"
    start_s: float
    end_s: float
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Block:
    """Words laid out in lines at one font size, and the height libass will give them (a line is `size` tall,
    whichever faces draw it)."""

    size: int
    lines: tuple[tuple[Word, ...], ...]
    height: float


def tokens(text: str) -> list[tuple[str, bool]]:
    """Words with 'space before' flags: Japanese's as its dictionary splits them; a short run of Han or Hangul set
    apart by spaces (a Korean word, 東京 in an English line) whole; each character of a longer run, as Chinese is
    written without spaces, its own (it may break between any two)."""
    if is_japanese(text):
        return [(word.text, word.space_before) for word in japanese_words(text)]
    result: list[tuple[str, bool]] = []
    for word in text.split():
        if len(word) <= SPACED_CJK_WORD and all(_breaks_anywhere(char) for char in word):
            result.append((word, True))
            continue
        pending, space = "", True
        for char in word:
            if _breaks_anywhere(char):
                if pending:
                    result.append((pending, space))
                    space = False
                result.append((char, space))
                pending, space = "", False
            else:
                pending += char
        if pending:
            result.append((pending, space))
    return result


def join_words(words: Sequence[Word]) -> str:
    return "".join((" " if w.space_before and i else "") + w.text for i, w in enumerate(words))


def in_capitals(segment: Segment) -> Segment:
    """The segment in capitals, timed as before (for a style's uppercase captions; layout measures them anew)."""
    words = tuple(Word(w.text.upper(), w.start_s, w.end_s, w.space_before) for w in segment.words)
    return Segment(segment.role, segment.start_s, segment.end_s, words)


def word_groups(segment: Segment, most: int) -> list[Segment]:
    """The segment as groups of at most `most` words shown one after another, each from its first word until the
    next group's: a group also ends after a word closing a clause, a CJK character counts half a word, and an
    emoji or mark standing alone counts nothing (it stays with the words before it)."""
    groups: list[list[Word]] = []
    count = 0.0
    for word in segment.words:
        weight = 0.5 if len(word.text) == 1 and _breaks_anywhere(word.text) else 1.0
        if not any(char.isalnum() for char in word.text):
            weight = 0.0
        if not groups or (weight and (count + weight > most or groups[-1][-1].text[-1] in CLAUSE_END)):
            groups.append([])
            count = 0.0
        groups[-1].append(word)
        count += weight
    starts = [segment.start_s] + [group[0].start_s for group in groups[1:]] + [segment.end_s]
    return [Segment(segment.role, start, end, tuple(group))
            for start, end, group in zip(starts, starts[1:], groups)]


def time_words(text: str, start_s: float, end_s: float) -> tuple[Word, ...]:
    """Spread the words of `text` over [start, end] in proportion to their length (a proxy for syllables)."""
    parts = tokens(text)
    weights = [len(word) + 2 for word, _ in parts]
    total = sum(weights) or 1
    words, cursor = [], start_s
    for (word, space), weight in zip(parts, weights):
        length = (end_s - start_s) * weight / total
        words.append(Word(word, round(cursor, 3), round(cursor + length, 3), space))
        cursor += length
    return tuple(words)


def reading_timeline(brief: Brief, duration_s: float, beats: Sequence[float] = ()) -> list[Segment]:
    """Hook, beats and end card timed to reading speed inside `duration_s`; with the music's `beats`, each caption
    changes on the beat nearest to where reading speed puts it."""
    hook_s = min(max(len(tokens(brief.hook)) / READING_WPS, MIN_HOOK_S), MAX_HOOK_S)
    beats_s = max(duration_s - hook_s - END_CARD_S, 1.0)
    counts = [max(len(tokens(beat)), 3) for beat in brief.beats]
    lengths = [hook_s, *(beats_s * count / sum(counts) for count in counts)]
    if beats:
        lengths = _lengths(_nearest_beats(_cuts(lengths), beats, duration_s - END_CARD_S / 2))
    return _timeline(brief, lengths, duration_s)


class Spoken(Protocol):
    """A caption said aloud: how long it took, and when each of its words (`tokens`) began."""

    @property
    def duration_s(self) -> float: ...

    @property
    def word_starts(self) -> tuple[float, ...]: ...


def speech_timeline(brief: Brief, spoken: Sequence[Spoken], beats: Sequence[float] = (),
                    gap_s: float = 0.25) -> list[Segment]:
    """Hook and beats each held for as long as the voiceover takes to say them (and the pause after, to the next of
    the music's `beats`), each word lit when the voice begins it, then the end card."""
    lengths = [said.duration_s + gap_s for said in spoken]
    if beats:  # never cut into the speech: each pause is lengthened up to the next beat
        cuts: list[float] = []
        for length in lengths:
            end = (cuts[-1] if cuts else 0.0) + length
            cuts.append(next((beat for beat in beats if beat >= end), end))
        lengths = _lengths(cuts)
    segments = _timeline(brief, lengths, sum(lengths) + END_CARD_S)
    return [_as_spoken(segment, said) for segment, said in zip(segments, spoken)] + segments[len(spoken):]


def _as_spoken(segment: Segment, said: Spoken) -> Segment:
    starts = said.word_starts
    if len(starts) != len(segment.words):
        return segment  # not the words it was given to say: spread by length, as when read
    ends = [*starts[1:], said.duration_s]
    words = tuple(Word(word.text, round(segment.start_s + start, 3), round(segment.start_s + end, 3),
                       word.space_before) for word, start, end in zip(segment.words, starts, ends))
    return Segment(segment.role, segment.start_s, segment.end_s, words)


def _cuts(lengths: Sequence[float]) -> list[float]:
    """Where each caption after the first begins, and the end card."""
    cuts, cursor = [], 0.0
    for length in lengths:
        cursor += length
        cuts.append(cursor)
    return cuts


def _lengths(cuts: Sequence[float]) -> list[float]:
    return [end - start for start, end in zip([0.0, *cuts], cuts)]


def _nearest_beats(cuts: Sequence[float], beats: Sequence[float], latest_s: float) -> list[float]:
    """Each cut moved to the beat nearest it, keeping every caption at least a beat long and the last cut before
    `latest_s` (the end card keeps its time)."""
    moved: list[float] = []
    for cut in cuts:
        later = [beat for beat in beats if beat > (moved[-1] if moved else 0.0) and beat <= latest_s]
        moved.append(min(later, key=lambda beat: abs(beat - cut)) if later else cut)
    return moved


def _timeline(brief: Brief, lengths: Sequence[float], duration_s: float) -> list[Segment]:
    texts = [("hook", brief.hook)] + [("beat", beat) for beat in brief.beats]
    segments, cursor = [], 0.0
    for (role, text), length in zip(texts, lengths):
        segments.append(Segment(role, cursor, cursor + length, time_words(text, cursor, cursor + length)))
        cursor += length
    segments.append(Segment("cta", cursor, duration_s, time_words(brief.cta, cursor, min(cursor + 1.5, duration_s))))
    return segments


def fit_block(
    words: Sequence[Word], chain: FontChain, max_size: int, max_height: float, width: float, min_size: int = 36,
) -> Block:
    """The largest size (down to `min_size`) at which the words wrap inside `width` x `max_height` with no word
    broken over lines, unless one would not fit a line even at `min_size` (a URL). Sizes are for a face with DejaVu
    Sans's line: a face with a taller line for its letters (Anton, CJK) is set larger by as much, so its letters come
    out as large."""
    scale = chain.primary.line_em / REFERENCE_LINE_EM
    size, min_size = round(max_size * scale), round(min_size * scale)
    must_break = any(chain.width(word.text, min_size) > width for word in words)
    while True:
        lines = wrap(words, chain, size, width)
        block = Block(size, lines, float(size * len(lines)))
        whole = must_break or sum(len(line) for line in lines) == len(words)
        fits = whole and block.height <= max_height and all(
            chain.width(join_words(line), size) <= width for line in block.lines)
        if fits or size <= min_size:
            return block
        size -= 4


def wrap(words: Sequence[Word], chain: FontChain, size: int, width: float) -> tuple[tuple[Word, ...], ...]:
    """Greedy lines no wider than `width`: a word too long for any line (a URL, a German compound) is broken into
    pieces that fit; a closing mark never starts a line (it takes the word before it along) and a CJK line never
    ends on one character alone."""
    lines: list[list[Word]] = []
    for word in (piece for word in words for piece in _pieces(word, chain, size, width)):
        if lines and chain.width(join_words([*lines[-1], word]), size) <= width:
            lines[-1].append(word)
        elif lines and len(lines[-1]) > 1 and word.text[0] in NO_LINE_START:
            lines.append([lines[-1].pop(), word])
        else:
            lines.append([word])
    if len(lines) > 1 and len(lines[-1]) == 1 and len(lines[-1][0].text) == 1:  # no character alone at the end
        moved = 1
        while moved < len(lines[-2]) - 1 and lines[-2][-moved].text[0] in NO_LINE_START:
            moved += 1  # the line still must not start with a closing mark
        if moved < len(lines[-2]):
            lines[-1][:0] = lines[-2][-moved:]
            del lines[-2][-moved:]
    return tuple(tuple(line) for line in lines)


def _pieces(word: Word, chain: FontChain, size: int, width: float) -> list[Word]:
    """`word`, or the pieces it breaks into when no line can hold it; each piece is lit with the word (same
    timing), and none starts with a combining mark."""
    if chain.width(word.text, size) <= width:
        return [word]
    pieces, current = [], ""
    for cluster in _clusters(word.text):
        if current and chain.width(current + cluster, size) > width:
            pieces.append(current)
            current = ""
        current += cluster
    pieces.append(current)
    return [Word(text, word.start_s, word.end_s, word.space_before and index == 0) for index, text in enumerate(pieces)]


def _clusters(text: str) -> list[str]:
    """Characters with the marks and joiners that ride on them (a line may break between clusters only)."""
    clusters: list[str] = []
    for char in text:
        if clusters and (unicodedata.category(char) in {"Mn", "Mc", "Me", "Cf"} or clusters[-1][-1] == "\u200d"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _breaks_anywhere(char: str) -> bool:
    """Han, kana and Hangul (and their punctuation) can break between any two characters."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH"))
