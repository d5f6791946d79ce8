"""Caption presets (a few words at a time, popping in), right-to-left karaoke and each language's Han forms, measured
in the pixels libass draws."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from PIL import Image

from content.media import ass, colour_emoji, gallery
from content.media.captions import Segment, fit_block, reading_timeline, time_words, word_groups
from content.media.ffmpeg import ffmpeg_exe
from content.media.fonts import font_chain
from content.media.frame import REELS
from content.media.layouts import kinetic
from content.media.renderer import caption_layers, caption_look
from core.font_files import BUNDLED_FONTS, DEFAULT_FONT
from core.settings import CaptionPreset, Style
from tests.conftest import run_cli
from tests.test_caption_styles import BRIEF, GREY, frame_at
from tests.test_settings import assert_one_clear_line

ACCENT = "#c1121f"  # 5:1 against white: the lit word is recoloured, not boxed


def segment_of(text: str, start_s: float = 0.0, end_s: float = 3.0) -> Segment:
    return Segment("beat", start_s, end_s, time_words(text, start_s, end_s))


def ink(frame: np.ndarray) -> np.ndarray:
    """Pixels the captions drew over the grey."""
    grey = np.array([int(GREY[i:i + 2], 16) for i in (1, 3, 5)])
    return np.abs(frame - grey).sum(axis=2) > 60


def test_word_groups_hold_at_most_three_words_end_at_clauses_and_keep_emoji_with_their_words() -> None:
    segment = segment_of("Drink water first, then coffee and a walk outside 🔥 every single day")
    groups = word_groups(segment, 3)
    assert [[w.text for w in g.words] for g in groups] == [
        ["Drink", "water", "first,"], ["then", "coffee", "and"], ["a", "walk", "outside", "🔥"],
        ["every", "single", "day"]]
    assert groups[0].start_s == segment.start_s and groups[-1].end_s == segment.end_s
    assert all(a.end_s == b.start_s == b.words[0].start_s for a, b in zip(groups, groups[1:]))  # back to back
    han = word_groups(segment_of("冬天的助眠饮品很简单"), 3)
    assert [len(g.words) for g in han] == [6, 4]  # a character is half a word


@pytest.mark.parametrize(("preset", "most"), [("pop", 3), ("word", 1)])
def test_a_grouped_preset_shows_a_few_words_at_a_time_large(preset: str, most: int) -> None:
    look = caption_look(Style(captions=preset, palette={"accent": ACCENT}), "instagram_reels")  # type: ignore[arg-type]
    chain = font_chain(DEFAULT_FONT)
    classic = kinetic(_segments(), chain, caption_look(Style(), "instagram_reels"), [], REELS)
    grouped = kinetic(_segments(), chain, look, [], REELS)
    first_beat = _segments()[1].start_s
    beat, classic_beat = ([e for e in events if e.start_s >= first_beat][0] for events in (grouped, classic))
    assert beat.text.count(r"\1c") <= most < classic_beat.text.count(r"\1c")  # a colour tag opens each word
    assert _size(beat) > 1.5 * _size(classic_beat)


def test_pop_grows_each_group_in_and_classic_does_not(tmp_path: Path) -> None:
    """Measured in pixels: 20 ms after a group appears its ink covers less than two thirds of what it covers once
    settled (it starts at 55% and fades in); a classic caption is whole from its first frame."""
    chain = font_chain(DEFAULT_FONT)
    block = fit_block(time_words("Morning habits", 0.0, 1.0), chain, 120, 800, 900)
    covered = {}
    for entrance in ("pop", "none"):
        look = ass.TextLook("#ffffff", ACCENT, entrance=entrance)  # type: ignore[arg-type]
        events = ass.karaoke(block, chain, look, *REELS.centre, 0.5, 1.5)
        early, settled = (ink(frame_at(tmp_path, events, look, t)).sum() for t in (0.52, 0.9))
        covered[entrance] = early / settled
    assert covered["pop"] < 0.67, covered
    assert covered["none"] > 0.95, covered


def test_the_caption_that_opens_the_reel_is_whole_on_its_first_frame(tmp_path: Path) -> None:
    """Frame 0 is what a viewer swiping in sees first: the hook does not pop in there (it would be blank)."""
    chain = font_chain(DEFAULT_FONT)
    block = fit_block(time_words("Morning habits", 0.0, 1.0), chain, 120, 800, 900)
    look = ass.TextLook("#ffffff", ACCENT, entrance="pop")
    events = ass.karaoke(block, chain, look, *REELS.centre, 0.0, 1.0)
    first, settled = (ink(frame_at(tmp_path, events, look, t)).sum() for t in (0.0, 0.9))
    assert settled > 0 and first / settled > 0.95


def test_a_persona_can_use_another_preset_on_one_platform() -> None:
    style = Style(captions="pop", captions_per_platform={"youtube": "classic"})
    assert caption_look(style, "instagram_reels").words_at_once == 3
    assert caption_look(style, "instagram_reels").entrance == "pop"
    assert caption_look(style, "youtube").words_at_once == 0
    assert caption_look(style, "youtube").entrance == "none"


def test_arabic_karaoke_lights_the_first_word_at_the_right_hand_end(tmp_path: Path) -> None:
    """An Arabic line reads right to left: while its first word is spoken, the lit (accent) ink is at the line's
    right. libass drew the words left to right once tags split the line (its default Encoding 1)."""
    chain = font_chain(DEFAULT_FONT)
    words = time_words("اشرب الماء قبل القهوة", 0.0, 2.0)
    block = fit_block(words, chain, 84, 800, 1000)
    look = ass.TextLook("#ffffff", ACCENT)
    events = ass.karaoke(block, chain, look, *REELS.centre, 0.0, 2.0)
    frame = frame_at(tmp_path, events, look, (words[0].start_s + words[0].end_s) / 2)
    lit = (frame[:, :, 0] > 150) & (frame[:, :, 1] < 80)  # the accent's red
    drawn = np.nonzero(ink(frame))[1]
    lit_x = np.nonzero(lit)[1]
    assert lit_x.size > 300
    assert lit_x.mean() > (drawn.min() + drawn.max()) / 2 + 100, (lit_x.mean(), drawn.min(), drawn.max())


@pytest.mark.skipif(not Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc").exists(),
                    reason="fonts-noto-cjk is not installed")
def test_han_characters_take_the_forms_of_the_personas_language(tmp_path: Path) -> None:
    """直 and 骨 are drawn differently in Chinese and Japanese: each persona's captions name its own face of the
    collection, and libass draws that face (named by family alone it took the first, Japanese, for both)."""
    drawn = {}
    for language in ("zh", "ja"):
        chain = font_chain(BUNDLED_FONTS["DejaVu Sans"], None, language)
        assert chain.font_for("直") is not None and chain.font_for("直").name.endswith(  # type: ignore[union-attr]
            {"zh": "sc-Bold", "ja": "jp-Bold"}[language])
        block = fit_block(time_words("直骨", 0.0, 1.0), chain, 200, 800, 900)
        event = ass.still(block, chain, "#ffffff", *REELS.centre, 0.0, 1.0)
        drawn[language] = ink(frame_at(tmp_path / language, [event], ass.look_in("#ffffff"), 0.5, chain))
    differ = (drawn["zh"] != drawn["ja"]).sum()
    assert differ > 0.05 * drawn["zh"].sum(), differ


def _segments() -> list[Segment]:
    return reading_timeline(BRIEF, BRIEF.duration_s)


def _size(event: ass.Event) -> int:
    found = re.search(r"\\fs(\d+)", event.text)
    assert found is not None
    return int(found.group(1))


def test_emoji_sequences_are_one_each_and_text_symbols_stay_text() -> None:
    text = "Go 👩‍💻 🇯🇵 1️⃣ 👍🏽 ❤️ © ™ 🔥!"
    found = [text[start:end] for start, end in colour_emoji.sequences(text)]
    assert found == ["👩‍💻", "🇯🇵", "1️⃣", "👍🏽", "❤️", "🔥"]
    assert colour_emoji.collapsed("a👩‍💻b🇯🇵") == "a■b■"


@pytest.mark.skipif(not colour_emoji.in_colour(), reason="fonts-noto-color-emoji is not installed")
def test_emoji_are_drawn_in_colour_where_the_caption_keeps_their_place(tmp_path: Path) -> None:
    """The frame the renderer's caption layers draw: where the fire and the technologist sit there are orange and
    skin-toned pixels (Symbola's outline is black and white), one picture a sequence, and libass drew nothing of
    the glyphs keeping their places."""
    chain = font_chain(DEFAULT_FONT)
    block = fit_block(time_words("Ship it 🔥 today 👩‍💻", 0.0, 2.0), chain, 100, 800, 900)
    look = ass.look_in("#ffffff")  # nothing lit in colour: any colour is the emoji's
    events = ass.karaoke(block, chain, look, *REELS.centre, 0.0, 2.0)
    stickers = [sticker for event in events for sticker in event.stickers]
    assert [s.sequence for s in stickers] == ["🔥", "👩‍💻"]
    [frame] = _layered(tmp_path, events, look, [30])
    for sticker in stickers:
        half = sticker.side // 2
        patch = frame[round(sticker.y) - half:round(sticker.y) + half, round(sticker.x) - half:round(sticker.x) + half]
        saturated = (patch.max(axis=2) - patch.min(axis=2)) > 80
        assert saturated.mean() > 0.15, (sticker.sequence, saturated.mean())
    text_around = ink(frame) & ((frame.max(axis=2) - frame.min(axis=2)) < 30)  # white text, black outline
    assert text_around.sum() > 2000  # the words themselves are still drawn by libass


def _layered(tmp_path: Path, events: list[ass.Event], look: ass.TextLook, frames: list[int]) -> list[np.ndarray]:
    """Frames (numbers at 30 fps) of the renderer's caption layers, colour emoji included, over flat grey."""
    chain = font_chain(DEFAULT_FONT)
    chain.link_used(tmp_path / "fonts", [event.text for event in events])
    (tmp_path / "c.ass").write_text(ass.script(events, chain.primary, look, REELS), encoding="utf-8")
    inputs, layers = caption_layers("c.ass", [s for event in events for s in event.stickers], tmp_path, 1)
    wanted = "+".join(f"eq(n,{n})" for n in frames)
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-t", f"{(max(frames) + 1) / 30:.3f}", "-i",
         f"color=0x{GREY[1:]}:s={REELS.width}x{REELS.height}:r=30", *inputs, "-filter_complex",
         f"[0:v]format=yuv420p,{layers},select='{wanted}',format=rgb24[v]", "-map", "[v]", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-"], cwd=tmp_path, capture_output=True, check=True, timeout=120).stdout
    shaped = np.frombuffer(raw, np.uint8).reshape(-1, REELS.height, REELS.width, 3).astype(np.int32)
    assert len(shaped) == len(frames)
    return list(shaped)


@pytest.mark.skipif(not colour_emoji.in_colour(), reason="fonts-noto-color-emoji is not installed")
def test_a_captions_emoji_pop_in_with_it(tmp_path: Path) -> None:
    """A caption that pops in: on each frame of its entrance its emoji is there, scaled with the words (its width
    against theirs as when they have settled) and where the scaled words keep its place."""
    chain = font_chain(DEFAULT_FONT)
    block = fit_block(time_words("Ship it 🔥 today", 1.0, 3.0), chain, 100, 800, 900)
    look = ass.TextLook("#ffffff", "#ffffff", entrance="pop")
    events = ass.karaoke(block, chain, look, *REELS.centre, 1.0, 3.0)
    frames = _layered(tmp_path, events, look, [31, 32, 33, 34, 35, 60])
    grey = int(GREY[1:3], 16)

    def measured(frame: np.ndarray) -> tuple[float, float]:
        """The emoji's width and centre against the words' width and the anchor."""
        words = np.nonzero((frame.min(axis=2) > grey + 25).any(axis=0))[0]
        emoji = np.nonzero(((frame.max(axis=2) - frame.min(axis=2)) > 50).any(axis=0))[0]
        assert emoji.size and words.size, "the emoji is shown from the entrance's first frames"
        span = words.max() - words.min()
        return (emoji.max() - emoji.min()) / span, ((emoji.max() + emoji.min()) / 2 - REELS.centre[0]) / span

    settled_width, settled_place = measured(frames[-1])
    for number, frame in zip([31, 32, 33, 34, 35], frames):
        width, place = measured(frame)
        assert abs(width / settled_width - 1) < 0.15 and abs(place - settled_place) < 0.04, (number, width, place)
    widths = [np.ptp(np.nonzero(((f.max(axis=2) - f.min(axis=2)) > 50).any(axis=0))[0]) for f in frames]
    assert widths[0] < 0.85 * widths[-1] and max(widths) > widths[-1], widths  # it grows, overshoots, settles


@pytest.mark.slow
def test_the_gallery_command_draws_every_preset_in_every_script(tmp_path: Path) -> None:
    """`main.py gallery`: a sheet of presets by scripts; in every cell the captions drew ink of their own (no
    script left blank for want of a font), and the sample config's personas can be named."""
    result = run_cli(tmp_path, "gallery", "--out", str(tmp_path / "sheet.png"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "sheet.png")
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("RGB")).astype(np.int32)
    presets, scripts = len(get_args(CaptionPreset)), len(gallery.SAMPLES)
    width, height = gallery.CELL
    assert sheet.shape == (gallery.LABEL_H + presets * height, gallery.LABEL_H * 3 + scripts * width, 3)
    for row in range(presets):
        for column in range(scripts):
            top, left = gallery.LABEL_H + row * height, gallery.LABEL_H * 3 + column * width
            cell = sheet[top:top + height, left:left + width]
            white = cell.min(axis=2) > 225  # the captions' white text (the backdrop is a dark-to-warm fade)
            red, green, blue = cell[:, :, 0], cell[:, :, 1], cell[:, :, 2]
            accent = (red > 225) & (green > 170) & (green < 230) & (blue > 60) & (blue < 140)  # the lit word's box
            assert (white | accent).sum() > 400, (get_args(CaptionPreset)[row], gallery.SAMPLES[column].script)
    assert_one_clear_line(run_cli(tmp_path, "gallery", "--account", "nobody"), "config/config.json")


def test_boxed_captions_have_one_even_box_and_the_lit_word_s_box_on_top(tmp_path: Path) -> None:
    """Ken Burns captions sit on boxes, one per word run: where neighbours' boxes overlap (between words, between
    lines) the box is the same colour as elsewhere (translucent ones left darker seams), and no neighbour's box
    cuts into the lit word's accent box (it is drawn above them)."""
    chain = font_chain(DEFAULT_FONT)
    block = fit_block(time_words("Step outside for ten minutes of daylight today", 0.0, 3.0), chain, 64, 800, 520)
    assert len(block.lines) >= 2
    look = ass.TextLook("#ffffff", "#ffd166", boxed=True, highlight="box")
    events = ass.karaoke(block, chain, look, *REELS.centre, 0.0, 3.0)
    lit_word = block.lines[0][1]
    frame = frame_at(tmp_path, events, look, (lit_word.start_s + lit_word.end_s) / 2)
    dark = frame.sum(axis=2) < 150
    assert dark.sum() > 5000
    levels = frame[dark].mean(axis=1)
    assert np.percentile(levels, 95) - np.percentile(levels, 5) < 6, np.percentile(levels, [5, 50, 95])
    accent = (np.abs(frame - np.array([0xff, 0xd1, 0x66])).sum(axis=2) < 30)
    ys, xs = np.nonzero(accent)
    box = accent[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    inked = ~box & (frame[ys.min():ys.max() + 1, xs.min():xs.max() + 1].sum(axis=2) < 150)  # ink or a dark box
    rows_cut = (inked.mean(axis=1) > 0.9).sum()  # a neighbour's box across the accent box leaves full dark rows
    assert rows_cut == 0, rows_cut
    # nor does the accent box cover a neighbour's letters: the first line's white letters while a word of the second
    # line is lit, where the accent box stands beside the lit word's own glyphs
    other = frame_at(tmp_path, events, look, (block.lines[1][0].start_s + block.lines[1][0].end_s) / 2)
    inside = (other[ys.min():ys.max() + 1, xs.min():xs.max() + 1].min(axis=2) > 225) & box
    glyphs = np.nonzero(inked.any(axis=0))[0]  # the lit word's own dark letters, across the box
    beside = inside.copy()
    beside[:, glyphs.min():glyphs.max() + 1] = False
    assert beside.sum() == 0, f"the lit word's box hides {beside.sum()} pixels of its neighbours' letters"
