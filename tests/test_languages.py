"""Hashtags in any script keep their combining marks, joiners and emoji (issue 20, "Languages")."""
from __future__ import annotations

import json
import unicodedata

import pytest

from content.briefs.brief import merge_hashtags
from core.errors import ConfigError
from core.home import Home
from core.storage import Database
from tests.conftest import edit_json, settings_for
from tests.fakes.openai_compat import FakeChatApi
from tests.test_llm_briefs import write_brief
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


def test_an_unknown_language_is_refused_naming_the_field(home: Home) -> None:
    edit_json(home.config_file, lambda d: d["accounts"][0].update(language="xx"))
    with pytest.raises(ConfigError) as caught:
        settings_for(home)
    assert caught.value.path == "accounts[0].language" and "\n" not in caught.value.problem


def test_a_known_language_is_kept_and_english_is_the_default(home: Home) -> None:
    assert settings_for(home).app.accounts[0].language == "en"
    edit_json(home.config_file, lambda d: d["accounts"][0].update(language="hi"))
    assert settings_for(home).app.accounts[0].language == "hi"


async def test_the_llm_prompt_asks_for_the_personas_language(home: Home, db: Database) -> None:
    edit_json(home.config_file, lambda d: d["accounts"][0].update(language="pt"))
    server = FakeChatApi("valid")
    await server.start()
    try:
        await write_brief(home, db, server)
    finally:
        await server.stop()
    system, user = server.calls[0]["messages"][0]["content"], server.calls[0]["messages"][1]["content"]
    assert "persona's language" in system and json.loads(user)["persona"]["language"] == "pt"
