"""The dashboard as an operator uses it, in a real browser: Playwright drives Debian's Chromium (.ci/run installs
both) against `serve`, with `worker` making the videos, each its own process as a user runs them. It signs in,
queues a Reel, edits and approves its brief, watches its progress update live (the page is never reloaded), plays
the finished Reel, and cancels another job; then it is photographed at phone and desktop width."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

from core.home import Home
from tests.conftest import ROOT, edit_json

CHROMIUM = shutil.which("chromium") or ""
TOKEN = "dashboard-token-0123456789"
SHOTS = os.environ.get("DASHBOARD_SCREENSHOTS")  # a folder to keep the screenshots in (the closing note's)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _started(home: Home, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"CONSOLE_TOKEN": TOKEN}
    return await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "main.py"), "--home", str(home.root), *args,
                                                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)


@pytest.fixture
async def console(home: Home) -> AsyncIterator[str]:
    """`serve` and `worker` on a home whose persona's briefs wait for review."""
    if not CHROMIUM:
        if os.environ.get("REQUIRE_CHROMIUM"):
            pytest.fail("REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("no chromium")
    edit_json(home.config_file, lambda data: data["accounts"][0].update(review_briefs=True))
    port = _free_port()
    serve = await _started(home, "serve", "--port", str(port))
    assert serve.stdout is not None
    line = await asyncio.wait_for(serve.stdout.readline(), 60)
    assert b"console: http://127.0.0.1" in line, line
    worker = await _started(home, "worker")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in (serve, worker):
            process.send_signal(signal.SIGTERM)
        for process in (serve, worker):
            await asyncio.wait_for(process.wait(), 60)


async def test_an_operator_queues_approves_watches_plays_and_cancels(console: str, tmp_path: Path) -> None:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            await page.goto(console)
            await page.fill("#token", "not the token")
            await page.click("button[type=submit]")
            assert "That is not the console token." in await page.inner_text("body")
            await page.fill("#token", TOKEN)
            await page.click("button[type=submit]")
            await page.wait_for_selector("#live:text('live')")

            await page.fill("#new-prompt", "Three stretches for stiff shoulders")
            await page.fill("#new-duration", "5")
            await page.click("#new-job button[type=submit]")
            brief = page.locator("#brief-1")
            await brief.wait_for()  # awaiting review: nothing is made yet
            assert await page.get_attribute("#job-1", "data-status") == "awaiting_approval"
            await brief.locator("input[name=hook]").fill("Stiff shoulders? Three moves, one minute")
            await _shot(page, tmp_path, "dashboard-review.png")
            await brief.locator("button[data-action=approve]").click()

            seen = set()  # the row's statuses as the page shows them, never reloaded
            for _ in range(1200):
                seen.add(await page.get_attribute("#job-1", "data-status"))
                if "done" in seen:
                    break
                await asyncio.sleep(0.1)
            assert {"running", "done"} <= seen, seen
            assert await page.locator("#brief-1").count() == 0, "approved: no longer under review"

            video = page.locator("#reel-1 video")
            await video.wait_for()
            await video.evaluate("v => { v.muted = true; return v.play(); }")
            await page.wait_for_function("document.querySelector('#reel-1 video').currentTime > 0.5")
            assert "$0.00 · local" in await page.inner_text("#reel-1")  # its cost and maker beside it

            await page.fill("#new-prompt", "Why cold showers are overrated")
            await page.click("#new-job button[type=submit]")
            await page.locator("#brief-2").wait_for()
            await page.click("#job-2 button[data-action=cancel]")
            await page.wait_for_selector("#job-2[data-status=cancelled]")
            await _photographed(page, tmp_path)
        finally:
            await browser.close()


async def _photographed(page: Page, folder: Path) -> None:
    """The dashboard at desktop and phone width; at phone width nothing is wider than the screen."""
    await _shot(page, folder, "dashboard-desktop.png")
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await _shot(page, folder, "dashboard-phone.png")


async def _shot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot, kept where DASHBOARD_SCREENSHOTS says (the closing note's)."""
    await page.screenshot(path=str(folder / name), full_page=True)
    assert (folder / name).stat().st_size > 10_000
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / name, Path(SHOTS) / name)
