"""A Reel from a paid provider is made scene by scene: each scene's clip is its own task with its own prompt,
reserved, charged and failed over by the engine as a job's video is, and the Reel is composed from the clips."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.engine.runner import JobOutcome
from core.home import Home
from core.schema import attempts
from core.secrets import Secrets
from tests.conftest import edit_json, generate_and_wait, make_clip, query, run_cli
from tests.fakes.base import FakeApi
from tests.fakes.pexels import FakePexels
from tests.fakes.runway import FakeRunway
from tests.fakes.stock import ANY, PORTRAIT_HD, FakeVideo, StockMedia
from tests.test_crash import kill_when, start_worker
from tests.test_providers import configure, keys
from tests.test_worker import simulated, submissions, use_providers


def by_scene(home: Home) -> None:
    def change(data: dict[str, Any]) -> None:
        data["video_generation"]["composer"] = {"provider_videos": True, "scenes": True, "preset": "ultrafast"}

    edit_json(home.video_config_file, change)


async def made_by(home: Home, fakes: dict[str, FakeApi], cap_usd: float = 5.0,
                  stock: FakePexels | None = None) -> tuple[JobOutcome, list[Any]]:
    """A 15 s `generate --wait` with these runway fakes (name → fake) in failover order, under a per-video cap:
    the outcome and its attempts. With `stock`, the `local` provider is configured too (not as a fallback), with
    that Pexels fake and its key."""
    configure(home, {name: ("runway", await fake.start()) for name, fake in fakes.items()})
    secrets = keys("runway")

    def budget_and_stock(data: dict[str, Any]) -> None:
        video = data["video_generation"]
        video["budget"].update(per_video_limit_usd=cap_usd)
        if stock is not None:
            video["providers"]["local"] = {"type": "local", "params": {"pexels_base_url": stock.url}}

    if stock is not None:
        await stock.start()
        secrets["PEXELS_API_KEY"] = stock.key
    edit_json(home.video_config_file, budget_and_stock)
    try:
        return await generate_and_wait(home, "Morning light over a quiet harbour", 15, Secrets(secrets),
                                       then=select(attempts).order_by(attempts.c.id))
    finally:
        for server in [*fakes.values(), *([stock] if stock else [])]:
            await server.stop()


def scene_prompts(fake: FakeRunway) -> list[str]:
    return [task.body["promptText"] for task in fake.tasks.values()]


@pytest.mark.slow
async def test_each_scene_is_its_own_paid_task_and_the_reel_is_composed_from_them(home: Home, tmp_path: Path) -> None:
    made = make_clip(tmp_path / "made.mp4", size="720x1280", rate="24", seconds=5)
    fake = FakeRunway(made, "success")
    by_scene(home)
    outcome, tried = await made_by(home, {"runway": fake})
    assert outcome.status == "done" and outcome.path is not None, outcome.error
    post = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))
    scenes = post["scenes"]
    assert len(scenes) >= 3 and [scene["source"] for scene in scenes] == ["ai"] * len(scenes)
    prompts = scene_prompts(fake)
    assert len(prompts) == len(scenes) and len(set(prompts)) == len(scenes), "one task per scene, each its own prompt"
    charges = query(home, "SELECT attempt_id, amount_usd FROM cost_ledger WHERE kind = 'charge' ORDER BY attempt_id")
    assert [attempt for attempt, _ in charges] == [row.id for row in tried], "one charge per scene"
    assert [amount for _, amount in charges] == [pytest.approx(row.estimated_cost_usd) for row in tried]
    assert sorted(row.scene for row in tried) == list(range(len(scenes)))
    assert {row.state for row in tried} == {"done"}
    assert outcome.cost_usd == pytest.approx(sum(amount for _, amount in charges))
    checked = run_cli(home.root, "check", str(outcome.path), "--json")
    assert checked.returncode == 0 and json.loads(checked.stdout)["passed"], checked.stdout


@pytest.mark.slow
@pytest.mark.parametrize("with_stock", [False, True])
async def test_a_scene_a_provider_fails_is_failed_over_alone_and_the_videos_cap_counts_every_scene(
        with_stock: bool, home: Home, tmp_path: Path, stock_media: StockMedia) -> None:
    """The scenes the cap has no room for show the persona's sources: stock footage when the composing provider
    has a library's key, else generated backdrops."""
    made = make_clip(tmp_path / "made.mp4", size="720x1280", rate="24", seconds=5)
    broken, working = FakeRunway(made, "server_error"), FakeRunway(made, "success")
    stock = FakePexels(stock_media, tuple(FakeVideo(300 + n, (ANY,), 4, (PORTRAIT_HD,)) for n in range(6)))
    by_scene(home)
    cap = 1.0  # room for two scenes' clips, not five (a reservation holds its room until it is settled)
    outcome, tried = await made_by(home, {"runway-eu": broken, "runway-us": working}, cap_usd=cap,
                                   stock=stock if with_stock else None)
    assert outcome.status == "done" and outcome.path is not None, outcome.error
    scenes = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))["scenes"]
    made_by_ai = [index for index, scene in enumerate(scenes) if scene["source"] == "ai"]
    assert 1 <= len(made_by_ai) < len(scenes), "the scenes the cap had no room for show the persona's sources"
    assert {scene["source"] for scene in scenes} == {"ai", "stock" if with_stock else "generated"}
    assert len(stock.downloads) == (len(scenes) - len(made_by_ai) if with_stock else 0)
    done = [row for row in tried if row.state == "done"]
    assert sorted(row.scene for row in done) == made_by_ai and {row.provider for row in done} == {"runway-us"}
    failed_first = {row.scene for row in tried if row.provider == "runway-eu" and row.state == "failed"}
    assert failed_first >= set(made_by_ai), "each scene was failed over on its own"
    charged = sum(row[0] for row in query(home, "SELECT amount_usd FROM cost_ledger WHERE kind = 'charge'"))
    assert 0 < charged <= cap and outcome.cost_usd == pytest.approx(charged)


def queued_by_scene(home: Home, prompt: str, latency_s: float) -> None:
    """A 15 s Reel queued to be made scene by scene by the simulated provider, under 2 s leases."""
    use_providers(home, {"sim": simulated(latency_s=latency_s)}, ["sim"])
    by_scene(home)
    edit_json(home.video_config_file, lambda data: data["video_generation"].update(lease_s=2))
    assert run_cli(home.root, "generate", prompt, "--duration", "15").returncode == 0


def finished(home: Home) -> tuple[list[dict[str, Any]], str]:
    """A worker runs the queue to its end: the one job's scenes (it must be done), and the worker's log."""
    final = start_worker(home)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr
    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert [job["status"] for job in status["jobs"]] == ["done"], status["jobs"]
    return status["jobs"][0]["scenes"], stderr


@pytest.mark.slow
def test_sigkill_while_scenes_are_made_and_again_during_recovery_pays_each_scene_once(home: Home) -> None:
    """On the default database: what a kill leaves behind is reconciled by the same attempt machinery on both kinds
    (tests/test_crash.py SIGKILLs it on SQLite and PostgreSQL); here, that every scene of a Reel goes through it."""
    queued_by_scene(home, "A Reel made scene by scene", latency_s=2.0)
    kill_when(home, start_worker(home), "polling")  # the others are reserved, rendering (submitting), or polling
    kill_when(home, start_worker(home), "done")  # during the recovery: a scene paid, the rest resumed or open
    scenes, stderr = finished(home)
    assert [scene["source"] for scene in scenes] == ["ai"] * len(scenes), stderr
    billed = submissions(home)
    assert len(billed) == len(scenes) == len({record["key"] for record in billed}), "one task per scene, none twice"
    done = query(home, "SELECT scene, provider_task_id FROM attempts WHERE state = 'done' ORDER BY scene")
    assert [scene for scene, _ in done] == list(range(len(scenes)))
    assert {task for _, task in done} == {record["task_id"] for record in billed}
    open_reservations = query(home, "SELECT attempt_id, SUM(amount_usd) FROM cost_ledger WHERE kind IN "
                                    "('reserve', 'release') GROUP BY attempt_id HAVING ABS(SUM(amount_usd)) > 1e-9")
    charged = query(home, "SELECT SUM(amount_usd) FROM cost_ledger WHERE kind = 'charge'")[0][0]
    assert open_reservations == [], "every reservation was released or settled"
    assert charged == pytest.approx(sum(record["cost_usd"] for record in billed))
    assert not list(home.work_dir.glob("*.mp4")), "the paid clips go once the Reel is delivered"


@pytest.mark.slow
def test_a_reel_begun_scene_by_scene_is_finished_so_when_the_settings_change_meanwhile(home: Home) -> None:
    """Scenes turned off while a Reel's scenes are paid for: its next run finishes it scene by scene, its paid
    clips used, rather than buying a whole video besides."""
    queued_by_scene(home, "A Reel begun scene by scene", latency_s=1.0)
    kill_when(home, start_worker(home), "done")  # a scene paid, the others in flight
    edit_json(home.video_config_file, lambda data: data["video_generation"]["composer"].update(scenes=False))
    scenes, _ = finished(home)
    billed = submissions(home)
    assert len(billed) == len(scenes) == len({record["key"] for record in billed}), "one task per scene, none more"
    assert query(home, "SELECT COUNT(*) FROM attempts WHERE scene IS NULL") == [(0,)], "no whole video bought"
