"""Template briefs speak the persona's language (issue 20: non-English personas got English hooks and fillers): the
phrasebook content/briefs/phrases.json holds every word the templates add, in each of the nine languages."""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import get_args

import pytest

from content.briefs.brief import PHRASEBOOK, BriefBuilder
from core.errors import ConfigError
from core.settings import Account, ContentSettings, Language
from trends.models import Trend

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
BOOK = json.loads(PHRASEBOOK.read_text(encoding="utf-8"))
ENGLISH = BOOK["en"]
LOANWORDS = {"POV"}  # "point of view": written so on Reels in every one of these languages
SCRIPTS = {"ar": "ARABIC", "hi": "DEVANAGARI", "zh": "CJK", "ja": ("HIRAGANA", "KATAKANA", "CJK")}


def english_words() -> set[str]:
    """Every English phrase, with the topic's place cut out of the openers."""
    phrases = [p for value in ENGLISH.values() for p in (value if isinstance(value, list) else [value])]
    words = {phrase.replace("{topic}", "").split("@")[0].strip(" :") for phrase in phrases}
    return words - LOANWORDS - {""}


@pytest.mark.parametrize("language", [lang for lang in get_args(Language) if lang != "en"])
@pytest.mark.parametrize("template", ["default", "tips", "story"])
def test_a_personas_brief_has_no_english_words_of_the_templates(language: str, template: str) -> None:
    trend = Trend(caption="Sleep better tonight", theme="wellness", timestamp=NOW, source="rss")  # fillers needed
    account = Account(name="p", handle="calm.daily", brief_template=template, language=language)
    brief = BriefBuilder().build(trend, account, ContentSettings())
    added = [brief.hook.replace(trend.topic, ""), *brief.beats, brief.cta]
    for text in added:
        assert not [english for english in english_words() if english in text], (language, template, text)
    assert "@calm.daily" in brief.cta and trend.topic in brief.hook
    if language in SCRIPTS:
        opener = brief.hook.replace(trend.topic, "")
        names = [unicodedata.name(char, "") for char in opener if char.isalpha()]
        assert names and all(name.startswith(SCRIPTS[language]) for name in names), (language, opener)


def test_every_language_has_every_phrase_and_each_one_fills() -> None:
    assert set(BOOK) == set(get_args(Language))
    for language, phrases in BOOK.items():
        assert set(phrases) == set(ENGLISH), language
        for key, value in phrases.items():
            for phrase in value if isinstance(value, list) else [value]:
                if language != "en":
                    assert not [english for english in english_words() if english in phrase], (language, phrase)
                filled = phrase.format(handle="h", theme="t", topic="T")
                assert "{" not in filled and filled.strip(), (language, key)
                if key.endswith("_openers"):
                    assert "T" in filled, (language, key)
                if key.endswith("_cta"):
                    assert "@h" in filled, (language, key)


def test_a_phrase_a_language_lacks_is_said_in_english_and_a_bad_place_is_one_config_error(tmp_path: Path) -> None:
    book = {"en": ENGLISH, "es": {key: value for key, value in BOOK["es"].items() if key != "default_cta"}}
    path = tmp_path / "phrases.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    trend = Trend(caption="Sleep better tonight", theme="wellness", timestamp=NOW, source="rss")
    spanish = Account(name="p", handle="calm.daily", language="es")
    brief = BriefBuilder(phrasebook=path).build(trend, spanish, ContentSettings())
    assert brief.cta == "Follow @calm.daily for more wellness"
    assert brief.beats[-1] in BOOK["es"]["default_closers"]
    book["es"]["default_cta"] = "Sigue a @{cuenta}"
    path.write_text(json.dumps(book), encoding="utf-8")
    with pytest.raises(ConfigError, match="cuenta"):
        BriefBuilder(phrasebook=path).build(trend, spanish, ContentSettings())
    path.write_text(json.dumps({"es": BOOK["es"]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="phrases.json"):
        BriefBuilder(phrasebook=path)
