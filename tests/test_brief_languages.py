"""Template briefs speak the persona's language (issue 20: non-English personas got English hooks and fillers): the
phrasebook content/briefs/phrases.json holds every word the templates add, in each of the nine languages."""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import get_args

import pytest

from content.briefs.brief import PHRASEBOOK, Brief, BriefBuilder
from core.errors import ConfigError
from core.settings import Account, ContentSettings, Language
from trends.models import Trend

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
BOOK = json.loads(PHRASEBOOK.read_text(encoding="utf-8"))
ENGLISH = BOOK["en"]
OTHERS = [language for language in get_args(Language) if language != "en"]
TEMPLATES = ["default", "tips", "story"]
LOANWORDS = {"pov"}  # "point of view": written so on Reels in all of these languages
FALSE_FRIENDS = {"es": {"simple"}, "pt": {"do", "me"}, "fr": {"simple", "version"}, "de": {"version"}}
SCRIPTS = {"ar": ("ARABIC",), "hi": ("DEVANAGARI",), "zh": ("CJK",), "ja": ("HIRAGANA", "KATAKANA", "CJK")}
ASCII_MARKS = {"ar": ",;?", "zh": ":,;?!", "ja": ":,;?!"}  # these scripts write their own: ، ؛ ؟ and ：，；？！
PLACES = re.compile(r"\{\w+\}|@\S+")  # a phrase's places and the @handle: not words of any language
WORD = re.compile(r"[^\W\d_]+")
TRENDS = [  # no details (so every filler), one detail, and four
    Trend(caption="Sleep better tonight", theme="wellness", timestamp=NOW, source="rss"),
    Trend(caption="Walk after meals! It helps digestion.", theme="wellness", timestamp=NOW, source="rss"),
    Trend(caption="Pack light. Roll clothes. One bag. Wear layers. Skip the kit.", theme="travel", timestamp=NOW,
          source="rss"),
]


def phrases_of(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def words(text: str) -> set[str]:
    """The text's words, lowercase, the phrasebook's places and the @handle left out."""
    return {word.lower() for word in WORD.findall(PLACES.sub(" ", text)) if len(word) > 1}


ENGLISH_WORDS = {word for value in ENGLISH.values() for phrase in phrases_of(value) for word in words(phrase)}


def english_left(language: str, text: str) -> set[str]:
    return words(text) & ENGLISH_WORDS - LOANWORDS - FALSE_FRIENDS.get(language, set())


def added_words(brief: Brief, trend: Trend) -> list[str]:
    """What the template added to the trend: the hook without the topic, the beats not from the caption, the CTA."""
    caption = trend.caption
    beats = [re.sub(r"^\d+\. ", "", beat) for beat in brief.beats]
    return [brief.hook.replace(trend.topic, ""), *(beat for beat in beats if beat not in caption), brief.cta]


@pytest.mark.parametrize("language", OTHERS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_a_personas_brief_has_no_english_words_of_the_templates(language: str, template: str) -> None:
    for index, trend in enumerate(TRENDS):
        account = Account(name=f"p{index}", handle="calm.daily", brief_template=template, language=language)
        brief = BriefBuilder().build(trend, account, ContentSettings())
        added = added_words(brief, trend)
        assert len(added) >= 3, (language, template, brief)
        for text in added:
            assert not english_left(language, text), (language, template, text)
        assert "@calm.daily" in brief.cta and trend.topic in brief.hook
        assert brief.visual_prompt.startswith("Vertical 9:16 ")  # for video models: English whatever the persona
        opener = brief.hook[:brief.hook.index(trend.topic)]
        if language in ("zh", "ja"):  # the full-width colon is its own space
            assert opener.endswith("：") and not re.search(r"\s", opener), (language, brief.hook)
        else:
            assert opener.endswith(": ") and "  " not in brief.hook, (language, brief.hook)


def test_every_language_has_every_phrase_and_each_one_fills() -> None:
    assert set(BOOK) == set(get_args(Language))
    for language, phrases in BOOK.items():
        assert set(phrases) == set(ENGLISH), language
        for key, value in phrases.items():
            assert isinstance(value, list) == isinstance(ENGLISH[key], list), (language, key)
            for phrase in phrases_of(value):
                if language != "en":
                    assert not english_left(language, phrase), (language, phrase)
                    assert phrase not in phrases_of(ENGLISH[key]) or words(phrase) <= LOANWORDS, (language, phrase)
                filled = phrase.format(handle="h", theme="t", topic="T")
                assert "{" not in filled and filled.strip(), (language, key)
                if key.endswith("_openers"):
                    assert "T" in filled, (language, key)
                if key.endswith("_cta"):
                    assert "@h" in filled, (language, key)


@pytest.mark.parametrize("language", OTHERS)
def test_each_languages_phrases_are_in_its_script_and_punctuation(language: str) -> None:
    scripts = SCRIPTS.get(language, ("LATIN",))
    for value in BOOK[language].values():
        for phrase in phrases_of(value):
            text = PLACES.sub(" ", phrase)
            letters = [char for word in WORD.findall(text) if word.lower() not in LOANWORDS for char in word]
            names = [unicodedata.name(char, "") for char in letters]
            assert names or words(text) <= LOANWORDS, (language, phrase)
            assert all(name.startswith(scripts) for name in names), (language, phrase)
            assert not set(text) & set(ASCII_MARKS.get(language, "")), (language, phrase)
            if language == "zh":
                phrase.encode("gb2312")  # Simplified Chinese: a Traditional character is not in GB 2312
                assert not any(name.startswith(("HIRAGANA", "KATAKANA")) for name in names), phrase
            if language == "hi":
                assert not text.rstrip().endswith("."), phrase  # the sentence ends with the danda, ।
            if language == "ja" and not words(text) <= LOANWORDS:  # Japanese, not Chinese: kana in each phrase
                assert any(name.startswith(("HIRAGANA", "KATAKANA")) for name in names), phrase


GOLDEN = [  # what the English templates wrote before the phrasebook, for the same trends and personas
    ("default", 0, "Quick one: Sleep better tonight",
     ["It takes less time than you think.", "Start with the smallest version of it.",
      "Send this to someone who needs it."], "Follow @calm.daily for more wellness"),
    ("default", 1, "You need to know this: Walk after meals!",
     ["It helps digestion.", "Start with the smallest version of it.", "Try it today and tell me how it went."],
     "Follow @calm.daily for more wellness"),
    ("tips", 0, "Your new favourite habit: Sleep better tonight",
     ["1. Keep it simple and stay consistent.", "2. Start small, then build on it.", "Your future self says thanks."],
     "Follow @calm.daily and save this for later"),
    ("tips", 2, "Save this: Pack light",
     ["1. Roll clothes.", "2. One bag.", "3. Wear layers.", "4. Skip the kit.", "Small steps, every day."],
     "Follow @calm.daily and save this for later"),
    ("story", 0, "This is your sign: Sleep better tonight",
     ["Here is what nobody mentions.", "I gave it one honest week.", "Bookmark it for your next trip."],
     "Follow @calm.daily for the next one"),
    ("story", 1, "POV: Walk after meals!",
     ["Here is what nobody mentions.", "It helps digestion.", "Would you try it?"],
     "Follow @calm.daily for the next one"),
]


@pytest.mark.parametrize(("template", "trend_index", "hook", "beats", "cta"), GOLDEN)
def test_english_briefs_are_the_ones_from_before_the_phrasebook(
        template: str, trend_index: int, hook: str, beats: list[str], cta: str) -> None:
    trend = TRENDS[trend_index]
    account = Account(name="p", handle="calm.daily", brief_template=template)
    brief = BriefBuilder().build(trend, account, ContentSettings())
    assert (brief.hook, brief.beats, brief.cta) == (hook, beats, cta)


def test_a_phrase_a_language_lacks_is_said_in_english_and_a_bad_place_is_one_config_error(tmp_path: Path) -> None:
    book = {"en": ENGLISH, "es": {key: value for key, value in BOOK["es"].items() if key != "default_cta"}}
    path = tmp_path / "phrases.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    trend = TRENDS[0]
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


@pytest.mark.parametrize(("language", "phrases", "problem"), [
    ("es", {"default_ctas": "Sigue a @{handle}"}, "es.default_ctas: English has no such phrase"),  # a typo'd name
    ("es", {"default_openers": "Rápido: {topic}"}, "es.default_openers: English has no such phrase"),  # not a list
    ("es", {"default_cta": ["Sigue a @{handle}"]}, "es.default_cta: English has no such list"),
    ("pt-BR", {"default_cta": "Siga @{handle}"}, "pt-BR: not a persona language"),
])
def test_a_phrasebook_whose_phrase_would_never_be_said_is_refused(
        tmp_path: Path, language: str, phrases: dict[str, str | list[str]], problem: str) -> None:
    path = tmp_path / "phrases.json"
    path.write_text(json.dumps({"en": ENGLISH, language: phrases}), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(problem)):
        BriefBuilder(phrasebook=path)
