"""Japanese as espeak-ng can read it: its Japanese voice reads kana but says "Chinese letter" for every kanji, so each
word is given to it as its pronunciation (content/media/japanese.py), a space between words, and the synthesizer's
word positions are mapped back onto the original text for the captions."""
from __future__ import annotations

from dataclasses import dataclass

from content.media.japanese import japanese_words
from content.media.voices.contract import SpokenWord


@dataclass(frozen=True)
class Segment:
    """One word: where its reading stands in the spoken text, and where the word stands in the original."""

    spoken_at: int
    spoken_length: int
    original_at: int
    original_length: int


@dataclass(frozen=True)
class Reading:
    text: str  # what the synthesizer is given
    segments: tuple[Segment, ...]

    def original(self, word: SpokenWord) -> SpokenWord:
        """The word the synthesizer timed, placed in the original text (it may span several of its words)."""
        inside = [s for s in self.segments
                  if s.spoken_at < word.position + word.length and word.position < s.spoken_at + s.spoken_length]
        if not inside:
            return word
        at = inside[0].original_at
        return SpokenWord(at, inside[-1].original_at + inside[-1].original_length - at, word.start_s)


def japanese_reading(text: str) -> Reading:
    """`text` with every word written as it is pronounced, a space between words."""
    parts: list[str] = []
    segments: list[Segment] = []
    original = spoken = 0
    for word in japanese_words(text):
        original = text.index(word.text, original)
        if parts:
            parts.append(" ")
            spoken += 1
        parts.append(word.pronunciation)
        segments.append(Segment(spoken, len(word.pronunciation), original, len(word.text)))
        spoken += len(word.pronunciation)
        original += len(word.text)
    return Reading("".join(parts), tuple(segments))
