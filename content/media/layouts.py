"""Where each caption goes in each visual template; every block is sized to stay inside the frame's safe area."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from content.media.ass import Event, TextLook, karaoke, still
from content.media.captions import (
    TEXT_MARGIN,
    Block,
    Segment,
    Word,
    fit_block,
    time_words,
    word_groups,
)
from content.media.fonts import FontChain
from content.media.frame import Frame

BOX_PAD = 14  # the opaque box libass draws around boxed text (ASS Outline with BorderStyle 3)
BRIEF_NUMBER = re.compile(r"\d{1,2}[.)]")  # "1." or "2)" opening a beat
DIM_ALPHA = 0x70  # list items already read stay, at ~44% transparency
LIST_SIZE = 80  # the largest size of list items and Ken Burns beats (64 read small on a phone, over photos)
GROUP_SIZE = 190  # the largest size of captions shown a few words at a time: they fill the width

Layout = Callable[[Sequence[Segment], FontChain, TextLook, list[str], Frame], list[Event]]


def kinetic(segments: Sequence[Segment], chain: FontChain, look: TextLook, hashtags: list[str],
            frame: Frame) -> list[Event]:
    """Big centred captions, one at a time (or a few words at a time), each word lit as it is read."""
    events: list[Event] = []
    for segment in segments[:-1]:
        for part in _shown_apart(segment, look):
            events += _centred(part, chain, look, _largest(look, 100 if segment.role == "hook" else 84), frame)
    return events + end_card(segments[-1], chain, look, hashtags, frame)


def numbered_list(segments: Sequence[Segment], chain: FontChain, look: TextLook, hashtags: list[str],
                  frame: Frame) -> list[Event]:
    """The hook becomes a title; beats stack up as a numbered list, the current one lit word by word."""
    hook, beats, cta = segments[0], segments[1:-1], segments[-1]
    margin, width = _margin(look), _width(look, frame)
    centre_x, _ = frame.centre
    events = _centred(hook, chain, look, 100, frame)
    title = fit_block(hook.words, chain, 60, frame.safe_height * 0.25, width)
    title_top = frame.top + margin
    list_top = title_top + title.height + 40
    events.append(still(title, chain, look.accent, centre_x, round(title_top + title.height / 2),
                        beats[0].start_s, cta.start_s))
    items = _fit_items(beats, chain, frame.bottom - margin - list_top, width)
    y = list_top
    x = frame.left + margin
    for index, (segment, block) in enumerate(zip(beats, items)):
        centre = round(y + block.height / 2)
        events += karaoke(block, chain, look, x, centre, segment.start_s, segment.end_s, align=4)
        events.append(still(block, chain, look.text, x, centre, segment.end_s, cta.start_s, align=4,
                            alpha=DIM_ALPHA))
        y += block.height + 24
    return events + end_card(cta, chain, look, hashtags, frame)


def captions_below(segments: Sequence[Segment], chain: FontChain, look: TextLook, hashtags: list[str],
                   frame: Frame) -> list[Event]:
    """Ken Burns: the hook centred, then captions in boxes low in the safe area so the photos stay visible."""
    hook, beats, cta = segments[0], segments[1:-1], segments[-1]
    margin, width = _margin(look), _width(look, frame)
    events = [event for part in _shown_apart(hook, look)
              for event in _centred(part, chain, look, _largest(look, 92), frame)]
    for part in (part for segment in beats for part in _shown_apart(segment, look)):
        block = fit_block(part.words, chain, _largest(look, LIST_SIZE), frame.safe_height * 0.45, width)
        centre = round(frame.bottom - margin - block.height / 2)
        events += karaoke(block, chain, look, frame.centre[0], centre, part.start_s, part.end_s)
    return events + end_card(cta, chain, look, hashtags, frame)


def end_card(cta: Segment, chain: FontChain, look: TextLook, hashtags: list[str], frame: Frame) -> list[Event]:
    """The call to action above the middle, the hashtags below it."""
    margin, width = _margin(look), _width(look, frame)
    centre_x, centre_y = frame.centre
    half = frame.safe_height / 2 - margin - 20
    action = fit_block(cta.words, chain, _largest(look, 80), half, width)
    tags = fit_block(time_words(" ".join(f"#{t}" for t in hashtags), cta.start_s, cta.end_s), chain, 48, half,
                     width, min_size=30)
    events = karaoke(action, chain, look, centre_x, round(centre_y - 20 - action.height / 2), cta.start_s, cta.end_s)
    if tags.lines:
        events.append(still(tags, chain, look.text, centre_x, round(centre_y + 20 + tags.height / 2),
                            cta.start_s + 0.3, cta.end_s))
    return events


def _shown_apart(segment: Segment, look: TextLook) -> list[Segment]:
    """The segment whole, or as the word groups the look shows one after another."""
    return word_groups(segment, look.words_at_once) if look.words_at_once else [segment]


def _largest(look: TextLook, size: int) -> int:
    """A layout's largest size, or the word groups' (a few words can be set larger)."""
    return max(size, GROUP_SIZE) if look.words_at_once else size


def _fit_items(beats: Sequence[Segment], chain: FontChain, height: float, width: float) -> list[Block]:
    """Number each beat and find the largest common size at which all of them fit in `height` (from LIST_SIZE: read
    on a phone, a list item is body text, and smaller than that it is skipped)."""
    numbered = [_numbered(index, segment) for index, segment in enumerate(beats, start=1)]
    size = LIST_SIZE
    while True:
        blocks = [fit_block(words, chain, size, height, width, min_size=size) for words in numbered]
        if sum(b.height for b in blocks) + 24 * (len(blocks) - 1) <= height or size <= 28:
            return blocks
        size -= 4


def _numbered(index: int, segment: Segment) -> tuple[Word, ...]:
    """The beat's words after the list's own number, in place of any the brief gave it (the `tips` template writes
    "1. ..." so that its beats read as steps in every layout)."""
    words = segment.words
    if words and BRIEF_NUMBER.fullmatch(words[0].text):
        words = words[1:]
    return (Word(f"{index}.", segment.start_s, segment.start_s, False),) + words


def _centred(segment: Segment, chain: FontChain, look: TextLook, max_size: int, frame: Frame) -> list[Event]:
    """A segment as large as fits in the whole safe area, centred in it, lit word by word."""
    block = fit_block(segment.words, chain, max_size, frame.safe_height - 2 * _margin(look), _width(look, frame))
    return karaoke(block, chain, look, *frame.centre, segment.start_s, segment.end_s)


def _width(look: TextLook, frame: Frame) -> int:
    return frame.safe_width - 2 * _margin(look)


def _margin(look: TextLook) -> int:
    return TEXT_MARGIN + (BOX_PAD if look.boxed else 0)


LAYOUTS: dict[str, Layout] = {"kinetic": kinetic, "list": numbered_list, "kenburns": captions_below}
