"""The word being read stands out from the words around it, whatever the persona's palette (issue 20)."""
from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from content.briefs.brief import Brief
from content.media import ass
from content.media.captions import (
    NO_LINE_START,
    fit_block,
    in_capitals,
    join_words,
    reading_timeline,
    time_words,
    tokens,
    wrap,
)
from content.media.contrast import READABLE, ratio
from content.media.ffmpeg import ffmpeg_exe
from content.media.fonts import FontChain, font_chain
from content.media.frame import REELS
from content.media.layouts import kinetic
from content.media.renderer import caption_look
from core.font_files import BUNDLED_FONTS, DEFAULT_FONT
from core.settings import Palette, Style

REELS_NAME = "instagram_reels"

BRIEF = Brief(account="test", template="default", topic="Morning habits", hook="Five morning habits that stick",
              beats=["Drink water before coffee", "Step outside", "Write one task"], hashtags=["habits"],
              cta="Follow for more", visual_prompt="kitchen", duration_s=10)
GREY = "#606060"


def frame_at(tmp_path: Path, events: list[ass.Event], look: ass.TextLook, seconds: float,
             chain: FontChain | None = None) -> np.ndarray:
    """The captions drawn by libass over flat grey at `seconds` (at 100 fps), as RGB."""
    chain = chain or font_chain(DEFAULT_FONT)
    chain.link_used(tmp_path / "fonts", [event.text for event in events])
    (tmp_path / "c.ass").write_text(ass.script(events, chain.primary, look, REELS), encoding="utf-8")
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"color=0x{GREY[1:]}:s={REELS.width}x{REELS.height}:r=100",
         "-ss", f"{seconds:.2f}", "-vf", "ass=c.ass:fontsdir=fonts", "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], cwd=tmp_path, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(REELS.height, REELS.width, 3).astype(np.int32)


def hex_of(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(float(c)):02x}" for c in rgb)


@pytest.mark.parametrize("palette", [Palette(), Palette(text="#ffffff", accent="#fff3b0"),
                                     Palette(text="#ffffff", accent="#c1121f"), Palette(text="#111111",
                                                                                       accent="#333333")])
def test_the_lit_word_has_three_to_one_contrast_against_the_words_around_it(palette: Palette,
                                                                           tmp_path: Path) -> None:
    """Measured in pixels: the glyphs of a word drawn in the text colour when it is not lit are compared with the
    same pixels while it is lit (its ink, recoloured or set on a box)."""
    look = caption_look(Style(palette=palette), REELS_NAME)
    segments = reading_timeline(BRIEF, BRIEF.duration_s)
    chain = font_chain(DEFAULT_FONT)
    events = kinetic(segments, chain, look, BRIEF.hashtags, REELS)
    first, second = segments[0].words[0], segments[0].words[1]
    lit = frame_at(tmp_path, events, look, (first.start_s + first.end_s) / 2)
    plain = frame_at(tmp_path, events, look, (second.start_s + second.end_s) / 2)
    text = np.array([int(palette.text[i:i + 2], 16) for i in (1, 3, 5)])
    changed = np.abs(lit - plain).sum(axis=2) > 60
    glyphs = changed & (np.abs(plain - text).sum(axis=2) < 30)  # the first word's fill while the second is read
    assert glyphs.sum() > 500
    lit_ink = hex_of(np.median(lit[glyphs], axis=0))
    assert ratio(lit_ink, palette.text) >= READABLE, (lit_ink, palette.text, look.highlight)
    if look.highlight == "box":
        ys, xs = np.nonzero(glyphs)
        box = lit[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        accent = np.array([int(palette.accent[i:i + 2], 16) for i in (1, 3, 5)])
        assert (np.abs(box - accent).sum(axis=2) < 30).mean() > 0.3  # the word sits on an accent box


def test_a_palette_whose_accent_stands_out_keeps_the_recoloured_word() -> None:
    assert ratio("#ffffff", "#c1121f") >= READABLE
    assert caption_look(Style(palette=Palette(text="#ffffff", accent="#c1121f")), REELS_NAME).highlight == "colour"
    assert caption_look(Style(), REELS_NAME).highlight == "box"  # the default #ffd166 on white is 1.44:1
    assert caption_look(Style(highlight="colour"), REELS_NAME).highlight == "colour"  # the persona's choice


def test_uppercase_captions_keep_their_timing() -> None:
    segment = reading_timeline(BRIEF, BRIEF.duration_s)[0]
    shouted = in_capitals(segment)
    assert [w.text for w in shouted.words] == [w.text.upper() for w in segment.words]
    assert [(w.start_s, w.end_s) for w in shouted.words] == [(w.start_s, w.end_s) for w in segment.words]


@pytest.mark.parametrize(("font", "text"), [
    (DEFAULT_FONT, "Drink a full glass of water before your first coffee of the day"),
    (DEFAULT_FONT, "日本語のキャプションも大丈夫です、毎朝ちゃんと読めます"),
    (DEFAULT_FONT, "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherung zahlt"),
    (DEFAULT_FONT, "Read more at https://example.com/articles/2026/morning-habits-that-actually-stick-for-good"),
    (BUNDLED_FONTS["Anton"], "DRINK A FULL GLASS OF WATER BEFORE YOUR FIRST COFFEE OF THE DAY"),
])
def test_a_block_uses_the_width_it_is_given_and_no_more_as_libass_draws_it(font: Path, text: str,
                                                                         tmp_path: Path) -> None:
    """libass sizes a face by its whole line, not its em: measured in pixels, each wrapped line stays inside the
    width and the widest fills most of it (a word longer than a line is broken, not run off the edge). Anton, a
    regular face, is asked for as one: libass emboldening it would draw it wider than measured."""
    chain = font_chain(font)
    width = 700
    block = fit_block(time_words(text, 0.0, 4.0), chain, 84, 1200, width)
    look = ass.TextLook("#ffffff", "#ffffff")
    event = ass.still(block, chain, "#ffffff", REELS.centre[0], REELS.centre[1], 0.0, 4.0)
    drawn = frame_at(tmp_path, [event], look, 1.0, chain).sum(axis=2) > 600
    ys, xs = np.nonzero(drawn)
    inked = xs.max() - xs.min() + 1
    assert inked <= width + 2 * 8, (inked, width)  # the outline and shadow (8 px) may pass the text's own width
    assert inked >= 0.9 * width, (inked, width)
    assert ys.max() - ys.min() + 1 <= block.height + 16


def test_a_cjk_line_never_starts_with_closing_punctuation_nor_ends_on_one_character() -> None:
    chain = font_chain(DEFAULT_FONT)
    text = "冬天的助眠饮品，酸樱桃汁加镁。睡前一小时喝一杯就好，真的很简单。试"
    for width in range(300, 900, 40):
        lines = wrap(time_words(text, 0.0, 5.0), chain, 72, width)
        assert all(line[0].text[0] not in NO_LINE_START for line in lines), (width, [join_words(l) for l in lines])
        assert len(lines) == 1 or len(join_words(lines[-1])) > 1, (width, [join_words(l) for l in lines])


def test_a_japanese_line_breaks_between_words_and_each_word_lights_whole() -> None:
    """Japanese writes no spaces, yet a line breaking inside a word (続|く) reads wrong and lighting one kanji of 本当
    lights half a word: words come from the dictionary, with their endings (です, つ, て) kept on them."""
    chain = font_chain(DEFAULT_FONT)
    text = "本当に続く朝の五つの習慣、寝る前に温かいお茶を飲んでみてください"
    whole = ["本当", "続く", "五つ", "習慣", "寝る", "温かい", "お茶", "飲んで", "みて", "ください"]
    assert [word for word, _ in tokens(text)] == [
        "本当", "に", "続く", "朝", "の", "五つ", "の", "習慣", "、", "寝る", "前", "に", "温かい", "お茶", "を",
        "飲んで", "みて", "ください"]
    for width in range(240, 900, 40):  # from the width of the longest word, ください
        lines = [join_words(line) for line in wrap(time_words(text, 0.0, 5.0), chain, 72, width)]
        assert all(any(word in line for line in lines) for word in whole), (width, lines)
        assert all(line[0] not in NO_LINE_START for line in lines), (width, lines)


def test_a_short_han_or_hangul_run_between_spaces_is_one_word_a_chinese_sentence_is_not() -> None:
    """東京 in an English hook, and Korean's words, are set apart by spaces: broken or lit one character at a time
    they read wrong. Chinese, written without spaces, may break between any two characters."""
    assert [word for word, _ in tokens("Tokyo 東京 at dawn")] == ["Tokyo", "東京", "at", "dawn"]
    assert [word for word, _ in tokens("오늘 아침 스트레칭")] == ["오늘", "아침", "스트레칭"]
    assert [word for word, _ in tokens("睡前一小时喝一杯")] == list("睡前一小时喝一杯")
    chain = font_chain(DEFAULT_FONT)
    for width in range(300, 700, 40):
        lines = [join_words(line) for line in wrap(time_words("Tokyo 東京 at dawn is unreal", 0.0, 3.0), chain, 72,
                                                   width)]
        assert any("東京" in line for line in lines), (width, lines)


def test_a_word_broken_over_lines_is_lit_whole_and_keeps_its_marks() -> None:
    chain = font_chain(DEFAULT_FONT)
    words = time_words("see https://example.com/a-very-long-path/that-keeps-going/and-going now", 0.0, 3.0)
    block = fit_block(words, chain, 84, 1200, 500)
    assert all(chain.width(join_words(line), block.size) <= 500 for line in block.lines)
    events = ass.karaoke(block, chain, ass.TextLook("#ffffff", "#c1121f"), 540, 960, 0.0, 3.0)
    assert len(events) == 3, "one event per spoken word, the URL's pieces lit together"
    url_event = events[1].text
    pieces_of_url = sum(len(line) for line in block.lines) - 2
    assert pieces_of_url >= 2 and url_event.count("&H001F12C1&") == pieces_of_url
    marked = time_words("योगाभ्यासयोगाभ्यासयोगाभ्यासयोगाभ्यास", 0.0, 1.0)
    pieces = wrap(marked, chain, 84, 200)
    assert "".join(w.text for line in pieces for w in line) == marked[0].text
    assert all(unicodedata.category(line[0].text[0]) not in {"Mn", "Mc"} for line in pieces)
