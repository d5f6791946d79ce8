"""Stock footage for scenes from Pexels and Pixabay (content/providers/footage), against loopback fakes that speak
their documented protocols: which video and which rendition a scene gets, the caches, the rate limits, the failures
that pass a library over with one log line, keys kept out of every log line and file name, and a Reel made end to
end from a fake library's files."""
from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from content.media.footage import Wanted
from content.media.timeline import Scene
from content.providers.footage import Pexels, Pixabay, StockFootage, StockLibrary
from content.providers.footage.terms import search_terms
from core.home import Home
from core.secrets import Secrets
from tests.conftest import edit_json, generate_and_wait
from tests.fakes.base import LoopbackServer
from tests.fakes.pexels import FakePexels
from tests.fakes.pixabay import FakePixabay
from tests.fakes.stock import ANY, PORTRAIT_HD, FakeStockLibrary, FakeVideo, StockMedia

PORTRAIT = Wanted(5.0, "portrait", 1080, 1920)
LANDSCAPE = Wanted(5.0, "landscape", 1920, 1080)


def scene(prompt: str = "runner at sunrise, showing: a deep lunge", role: str = "beat") -> Scene:
    return Scene(role, "Hip flexor lunge, thirty seconds a side", prompt, "generated", 0.0, 2.0)


@asynccontextmanager
async def serving(*servers: LoopbackServer) -> AsyncIterator[None]:
    for server in servers:
        await server.start()
    try:
        yield
    finally:
        for server in servers:
            await server.stop()


def client(fake: FakeStockLibrary, folder: Path, key: str | None = None, timeout_s: float = 5.0) -> StockLibrary:
    kind = Pexels if isinstance(fake, FakePexels) else Pixabay
    return kind(key or fake.key, folder, fake.url, timeout_s)


def test_searches_go_from_the_prompts_things_to_broader_ones() -> None:
    made_for_a_model = scene("Vertical 9:16 energetic video: three stretches for desk workers. Close-ups, bright "
                             "colours, natural light.")
    assert search_terms(made_for_a_model) == ["stretches desk workers", "stretches desk", "stretches"]
    assert search_terms(scene("runner at sunrise, showing: a deep lunge")) == [
        "runner sunrise deep", "runner sunrise", "runner"]
    assert search_terms(scene("Vertical video, cinematic")) == ["hip flexor lunge", "hip flexor", "hip"]


@pytest.mark.parametrize("fake_kind", [FakePexels, FakePixabay])
async def test_a_scene_gets_a_long_enough_video_of_its_orientation_in_the_smallest_size_that_fills_the_frame(
        fake_kind: type[FakeStockLibrary], stock_media: StockMedia, tmp_path: Path) -> None:
    fake = fake_kind(stock_media)
    async with serving(fake), StockFootage([library := client(fake, tmp_path)]) as stock:
        found = await stock(scene(), PORTRAIT, set())
        assert found is not None and found.credit is not None
        source = library.name
        assert found.credit.id == f"{source}:102"  # 101 is shorter, 103 landscape, 104 too small
        assert found.path == tmp_path / f"{source}-102-1080x1920.mp4"  # not the 4K rendition
        assert (found.width, found.height) == PORTRAIT_HD and found.duration_s == pytest.approx(6, abs=0.2)
        assert fake.downloads == ["/video-files/102/1080x1920.mp4"]
        assert found.credit.author.startswith("Ben") and found.credit.licence == library.licence
        assert found.credit.page_url.endswith("-102/") and found.credit.author_url.startswith("https://")
        queries = [search.get("query") or search.get("q") for search in fake.searches]
        assert queries == ["runner sunrise deep", "runner sunrise"]  # the narrow search found nothing

        shorter = await stock(scene(), Wanted(2.0, "portrait", 1080, 1920), set())
        assert shorter is not None and shorter.credit is not None and shorter.credit.id == f"{source}:101"

        used = await stock(scene(), PORTRAIT, {f"{source}:102"})  # then the longest of those that fill the frame
        assert used is not None and used.credit is not None and used.credit.id == f"{source}:101"

        wide = await stock(scene(), LANDSCAPE, set())
        assert wide is not None and wide.credit is not None and wide.credit.id == f"{source}:103"
        assert (wide.width, wide.height) == (1920, 1080)

        assert await stock(scene(), Wanted(5.0, "square", 1080, 1080), set()) is None  # none square: next source


async def test_used_clips_are_skipped_onto_the_next_page(stock_media: StockMedia, tmp_path: Path) -> None:
    many = tuple(FakeVideo(200 + n, ("runner", "sunrise"), 3, (PORTRAIT_HD,)) for n in range(17))
    fake = FakePixabay(stock_media, many)
    async with serving(fake), StockFootage([client(fake, tmp_path)]) as stock:
        found = await stock(scene(), Wanted(2.0, "portrait", 1080, 1920), {f"pixabay:{200 + n}" for n in range(15)})
    assert found is not None and found.credit is not None and found.credit.id == "pixabay:215"
    assert [(s["q"], s["page"]) for s in fake.searches] == [("runner sunrise deep", "1"), ("runner sunrise", "1"),
                                                            ("runner sunrise", "2")]


async def test_searches_and_files_are_cached_for_the_next_reel(stock_media: StockMedia, tmp_path: Path) -> None:
    fake = FakePexels(stock_media)
    async with serving(fake):
        async with StockFootage([client(fake, tmp_path)]) as stock:
            first = await stock(scene(), PORTRAIT, set())
        searched, downloaded = len(fake.searches), len(fake.downloads)
        async with StockFootage([client(fake, tmp_path)]) as stock:  # another render, the same data folder
            again = await stock(scene(), PORTRAIT, set())
    assert again == first and (len(fake.searches), len(fake.downloads)) == (searched, downloaded) == (2, 1)
    assert not [path for path in tmp_path.rglob(".*")], "no partial file left"


async def test_a_rate_limited_library_is_passed_over_until_its_quota_refills(
        stock_media: StockMedia, tmp_path: Path, caplog_loguru: Any) -> None:
    await stock_media.file(1920, 1080, 8)  # made before the clock starts: every clip the test gets is this one
    pexels, pixabay = FakePexels(stock_media, quota=1, window_s=1.5), FakePixabay(stock_media)
    async with serving(pexels, pixabay):
        async with StockFootage([client(pexels, tmp_path / "a"), client(pixabay, tmp_path / "a")]) as stock:
            first = await stock(scene("runner sunrise city"), LANDSCAPE, set())  # answered: Remaining 0
            second = await stock(scene("runner on a track"), LANDSCAPE, set())
            assert first is not None and first.credit is not None and first.credit.source == "pexels"
            assert second is not None and second.credit is not None and second.credit.source == "pixabay"
            assert pexels.asked == 1 and not caplog_loguru.lines  # spent: not asked, no failure

            async with StockFootage([client(pexels, tmp_path / "b"), client(pixabay, tmp_path / "b")]) as other:
                third = await other(scene(), LANDSCAPE, set())  # knows no reset yet: asks, and gets a 429
                assert third is not None and third.credit is not None and third.credit.source == "pixabay"
                assert pexels.asked == 2
                assert len(caplog_loguru.lines) == 1 and "pexels" in caplog_loguru.text
                assert "429" in caplog_loguru.text
                await other(scene("runner on a beach"), LANDSCAPE, set())
                assert pexels.asked == 2, "not asked again before its reset"

                await asyncio.sleep(max(math.ceil(pexels.window_ends) - time.time(), 0) + 0.05)  # a UNIX second
                refilled = await stock(scene("sunrise runner in a city"), LANDSCAPE, set())
                assert refilled is not None and refilled.credit is not None and refilled.credit.source == "pexels"
                await other(scene("runner sunrise city"), LANDSCAPE, set())
                assert pexels.asked == 3, "a 429 without a known reset keeps it unasked for a while"


@pytest.fixture
def keys_in_view(caplog_loguru: Any, tmp_path: Path) -> Iterator[Any]:
    """The log lines of the test, checked afterwards for the fakes' key, as is every file name and file under
    `tmp_path`."""
    yield caplog_loguru
    key = FakeStockLibrary.key
    assert key not in caplog_loguru.text
    for path in tmp_path.rglob("*"):
        assert key not in path.name
        assert not path.is_file() or key.encode() not in path.read_bytes()


@pytest.mark.parametrize("failing, scenario", [
    ("pexels", "server_error"), ("pexels", "garbage"), ("pexels", "slow"), ("pexels", "broken_file"),
    ("pexels", "bad_key"), ("pixabay", "server_error"), ("pixabay", "broken_file"), ("pixabay", "bad_key")])
async def test_a_failing_library_is_passed_over_with_one_line(
        failing: str, scenario: str, stock_media: StockMedia, tmp_path: Path, keys_in_view: Any) -> None:
    fakes = {"pexels": FakePexels, "pixabay": FakePixabay}
    broken = fakes[failing](stock_media, scenario="success" if scenario == "bad_key" else scenario)
    working = fakes["pixabay" if failing == "pexels" else "pexels"](stock_media)
    wrong_key = "wrong-" + FakeStockLibrary.key if scenario == "bad_key" else None
    async with serving(broken, working):
        libraries = [client(broken, tmp_path, wrong_key, timeout_s=0.5), client(working, tmp_path)]
        async with StockFootage(libraries) as stock:
            found = await stock(scene(), PORTRAIT, set())
    assert found is not None and found.credit is not None and found.credit.source != failing
    assert len(keys_in_view.lines) == 1 and failing in keys_in_view.text, keys_in_view.text
    assert "http" not in keys_in_view.text.lower().replace("http 5", "").replace("http 4", "")  # no URL
    assert not list(tmp_path.glob(f"{failing}-*.mp4")) and not list(tmp_path.rglob(".*"))


@pytest.mark.slow
async def test_a_reel_whose_persona_takes_stock_footage_shows_the_librarys_clips_and_credits_them(
        home: Home, stock_media: StockMedia) -> None:
    catalog = tuple(FakeVideo(300 + n, (ANY,), 3, (PORTRAIT_HD,), f"Creator {n}") for n in range(10))
    fake = FakePexels(stock_media, catalog)

    def stock_first(config: dict[str, Any]) -> None:
        for account in config["accounts"]:
            account["style"]["scene_sources"] = ["stock", "generated"]

    edit_json(home.config_file, stock_first)
    async with serving(fake):
        edit_json(home.video_config_file,
                  lambda video: video["video_generation"]["providers"]["local"]["params"].update(
                      pexels_base_url=fake.url))
        outcome, _ = await generate_and_wait(home, "Three stretches for desk workers", 5,
                                             Secrets({"PEXELS_API_KEY": fake.key}))
    assert outcome.status == "done" and outcome.path is not None, outcome
    post = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))
    scenes = post["scenes"]
    assert scenes and {s["source"] for s in scenes} == {"stock"}
    ids = [s["credit"]["id"] for s in scenes]
    assert len(set(ids)) == len(ids), "no clip twice in one Reel"
    assert fake.downloads == [f"/video-files/{i.removeprefix('pexels:')}/1080x1920.mp4" for i in ids]
    assert sorted(p.name for p in (home.data_dir / "footage").glob("*.mp4")) == sorted(
        f"{i.replace(':', '-')}-1080x1920.mp4" for i in ids)
    text = outcome.path.with_suffix(".txt").read_text(encoding="utf-8")
    for s in scenes:
        credit = s["credit"]
        assert f"footage: {credit['author']} on Pexels, {credit['page_url']} (Pexels License)" in text
