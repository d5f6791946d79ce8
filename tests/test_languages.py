"""Hashtags in any script keep their combining marks, joiners and emoji (issue 20, "Languages")."""
from __future__ import annotations

import unicodedata

import pytest

from content.briefs.brief import merge_hashtags
from trends.models import hashtag_text


@pytest.mark.parametrize("tag, kept", [
    ("#योगाभ्यास", "योगाभ्यास"),                       # Hindi: vowel signs (Mc/Mn) and virama
    ("#مَرْحَبًا", "مَرْحَبًا"),                            # Arabic with harakat (Mn)
    ("#ประเทศไทย", "ประเทศไทย"),                      # Thai: above/below vowels (Mn)
    ("#👩‍💻coding", "👩‍💻coding"),                        # a ZWJ emoji sequence
    ("#👍🏽 yes!", "👍🏽yes"),                            # a skin tone, space and punctuation dropped
    ("#cafe\u0301", "caf\u00e9"),                     # decomposed é is composed
    ("#caf\u00e9", "caf\u00e9"),                      # composed é stays
])
def test_hashtag_keeps_marks_and_joiners(tag: str, kept: str) -> None:
    assert hashtag_text(tag) == unicodedata.normalize("NFC", kept)


def test_merged_hashtags_keep_marks_and_dedupe_composed_forms() -> None:
    merged = merge_hashtags(["#योगाभ्यास", "#cafe\u0301"], ["#Caf\u00e9"], ["#مَرْحَبًا"])
    assert merged == ["योगाभ्यास", "caf\u00e9", "مَرْحَبًا"]
