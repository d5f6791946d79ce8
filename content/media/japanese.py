"""Japanese split into the words it writes no spaces between: UniDic's short units (fugashi, unidic-lite: offline,
from PyPI), each ending (an auxiliary verb, a suffix, a conjunctive particle) kept on the word it ends and a prefix on
the word it begins, so a caption lights a word as it is said and never breaks a line inside one (続く, not 続|く)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import fugashi

ENDINGS = frozenset({"助動詞", "接尾辞"})  # UniDic pos1: auxiliary verbs (です, ます, た) and suffixes (つ, さん)


@dataclass(frozen=True)
class JapaneseWord:
    text: str
    space_before: bool  # the text had a space before it (or it is the first word)
    pronunciation: str  # in katakana (は as a particle is ワ); as written where UniDic has none (digits, Latin, marks)


def is_japanese(text: str) -> bool:
    """Has kana, which Chinese has not (kanji alone cannot tell the two apart)."""
    return any("\u3041" <= char <= "\u30ff" for char in text)


@cache
def _tagger() -> fugashi.Tagger:
    return fugashi.Tagger()


@lru_cache(maxsize=1024)
def japanese_words(text: str) -> tuple[JapaneseWord, ...]:
    words: list[JapaneseWord] = []
    joins_next = False
    for unit in _tagger()(text):
        said = unit.feature.pron if unit.feature.pron and unit.feature.pron != "*" else unit.surface
        spaced = bool(unit.white_space) or not words
        ending = unit.feature.pos1 in ENDINGS or unit.feature.pos2 == "接続助詞"
        if words and not spaced and (joins_next or ending and words[-1].text[-1].isalnum()):
            last = words[-1]
            words[-1] = JapaneseWord(last.text + unit.surface, last.space_before, last.pronunciation + said)
        else:
            words.append(JapaneseWord(unit.surface, spaced, said))
        joins_next = unit.feature.pos1 == "接頭辞"
    return tuple(words)
