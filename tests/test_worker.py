"""The engine as a new user meets it: `generate`, `worker --drain` and `status` against simulated providers."""
from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.daemon import daemon, planning
from core.engine import alerts, ledger, provider_health, queue, runner, status, worker
from core.home import Home
from core.progress import NullProgress
from core.storage import Database, utcnow
from tests.conftest import daemon_for, edit_json, run_cli, settings_for, spent


def use_providers(home: Home, providers: dict[str, Any], order: list[str], daily_usd: float = 10.0) -> None:
    def change(data: dict[str, Any]) -> None:
        video = data["video_generation"]
        video["providers"] = providers
        video["default_provider"], video["fallback_providers"] = order[0], order[1:]
        video["budget"].update(per_video_limit_usd=2.0, daily_limit_usd=daily_usd, monthly_limit_usd=100.0)
        video["retry"] = {"max_retries": 2, "backoff_base_s": 0}

    edit_json(home.video_config_file, change)


def simulated(**params: Any) -> dict[str, Any]:
    return {"type": "simulated", "params": {"latency_s": 0.2, "cost_per_second": 0.1, **params}}


def submissions(home: Home) -> list[dict[str, Any]]:
    path = home.data_dir / "simulated_submissions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def generate_and_wait(home: Home, prompt: str) -> dict[str, Any]:
    result = run_cli(home.root, "generate", prompt, "--duration", "10", "--wait", "--json")
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_a_daily_cap_of_5_dollars_admits_exactly_five_1_dollar_jobs(home: Home) -> None:
    use_providers(home, {"sim": simulated()}, ["sim"], daily_usd=5.0)
    with ThreadPoolExecutor(4) as pool:  # users queueing at the same moment
        queued = list(pool.map(lambda n: run_cli(home.root, "generate", f"Sleep tip number {n} that actually works",
                                                 "--duration", "10"), range(12)))
    assert all(q.returncode == 0 and q.stdout.startswith("queued job") for q in queued), [q.stderr for q in queued]
    drained = run_cli(home.root, "worker", "--drain")
    assert drained.returncode == 0, drained.stderr

    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    counts: dict[str, int] = {}
    for job in status["jobs"]:
        counts[job["status"]] = counts.get(job["status"], 0) + 1
    assert counts == {"done": 5, "waiting_budget": 7}
    assert status["budget"]["daily"] == {"limit_usd": 5.0, "spent_usd": 5.0, "reserved_usd": 0.0}
    assert sum(job["cost_usd"] for job in status["jobs"]) == 5.0
    assert len(submissions(home)) == 5, "the provider was never asked for a job the budget could not pay for"
    waiting = next(job for job in status["jobs"] if job["status"] == "waiting_budget")
    assert "daily cap" in waiting["error"]


@pytest.mark.slow
def test_a_provider_failing_with_temporary_errors_is_retried_then_failed_over(home: Home) -> None:
    use_providers(home, {"flaky": simulated(failure_rate=1.0, failure_kind="temporary"), "backup": simulated()},
                  ["flaky", "backup"])
    job = generate_and_wait(home, "Three ways to fold a shirt")
    assert job["status"] == "done" and job["provider"] == "backup" and job["cost_usd"] == 1.0
    assert [(a["provider"], a["state"], a["error_class"]) for a in job["attempts"]] == [
        ("flaky", "failed", "temporary"), ("backup", "done", None)]
    assert Path(job["path"]).is_file() and Path(job["thumbnail"]).is_file()
    assert [s["job_id"] for s in submissions(home)] == [job["id"]]


@pytest.mark.slow
def test_a_content_violation_fails_the_job_and_is_not_sent_anywhere_else(home: Home) -> None:
    use_providers(home, {"strict": simulated(failure_rate=1.0, failure_kind="content_violation"),
                         "backup": simulated()}, ["strict", "backup"])
    job = generate_and_wait(home, "Something the moderation dislikes")
    assert job["status"] == "failed" and "rejected the prompt" in job["error"]
    assert [a["provider"] for a in job["attempts"]] == ["strict"]
    assert len(submissions(home)) == 1


@pytest.mark.slow
def test_billing_errors_disable_the_provider_and_rate_limits_pause_it(home: Home) -> None:
    use_providers(home, {"broke": simulated(failure_rate=1.0, failure_kind="billing"), "backup": simulated()},
                  ["broke", "backup"])
    first = generate_and_wait(home, "A first video about tea")
    assert first["provider"] == "backup" and first["attempts"][0]["error_class"] == "billing"
    second = generate_and_wait(home, "A second video about coffee")
    assert [a["provider"] for a in second["attempts"]] == ["backup"], "a disabled provider is skipped"
    use_providers(home, {"broke": simulated(), "backup": simulated()}, ["broke", "backup"])  # credits topped up
    assert "enabled" in run_cli(home.root, "enable", "broke").stdout
    assert generate_and_wait(home, "A video about herbal tea")["provider"] == "broke"
    unknown = run_cli(home.root, "enable", "nobody")
    assert unknown.returncode == 2 and "no provider named 'nobody'" in unknown.stderr

    use_providers(home, {"busy": simulated(failure_rate=1.0, failure_kind="rate_limit"), "backup": simulated()},
                  ["busy", "backup"])
    queued = run_cli(home.root, "generate", "A third video about cocoa", "--duration", "10")
    assert queued.returncode == 0
    assert run_cli(home.root, "worker", "--drain").returncode == 0
    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    third = status["jobs"][0]
    assert third["status"] == "done" and third["provider"] == "backup"


@pytest.mark.slow
def test_a_providers_max_concurrent_holds_across_parallel_workers(home: Home) -> None:
    slow = {**simulated(latency_s=1.0), "max_concurrent": 1}
    use_providers(home, {"solo": slow}, ["solo"])
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(max_concurrent_generations=3))
    for number in range(3):
        assert run_cli(home.root, "generate", f"Parallel video {number}", "--duration", "5").returncode == 0
    assert run_cli(home.root, "worker", "--drain").returncode == 0
    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert [job["status"] for job in status["jobs"]] == ["done"] * 3
    starts = sorted(s["time"] for s in submissions(home))
    assert all(later - earlier >= 1.0 for earlier, later in zip(starts, starts[1:])), \
        "each task started after the one before had finished"


@pytest.mark.slow
def test_a_quality_tier_picks_its_provider_chain_its_params_and_scales_the_reservation(home: Home) -> None:
    use_providers(home, {"everyday": simulated(), "studio": simulated()}, ["everyday", "studio"])
    tiers = {"standard": {"multiplier": 1.0},  # the premium model of "studio" costs $0.12 a second, not $0.10
             "premium": {"multiplier": 1.5, "providers": ["studio"],
                         "provider_params": {"studio": {"cost_per_second": 0.12}}}}
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(quality_tiers=tiers))
    standard = generate_and_wait(home, "An everyday video")
    result = run_cli(home.root, "generate", "A premium video", "--duration", "10", "--quality", "premium",
                     "--wait", "--json")
    premium = json.loads(result.stdout)
    assert (standard["provider"], premium["provider"]) == ("everyday", "studio")
    with sqlite3.connect(home.database_file) as db:
        reserved = [row[0] for row in db.execute("SELECT amount_usd FROM cost_ledger WHERE kind = 'reserve' "
                                                 "ORDER BY id")]
    assert reserved == [1.0, 1.8]
    assert premium["cost_usd"] == 1.2, "settled at what the provider reported, not the padded estimate"


@pytest.mark.slow
def test_failover_skips_a_provider_that_cannot_make_the_video(home: Home) -> None:
    use_providers(home, {"short": simulated(max_duration_s=5), "long": simulated()}, ["short", "long"])
    made = generate_and_wait(home, "A ten second video")
    assert made["status"] == "done" and made["provider"] == "long"
    assert [a["provider"] for a in made["attempts"]] == ["long"], "nothing reserved at a provider that cannot make it"
    use_providers(home, {"short": simulated(max_duration_s=5)}, ["short"])
    refused = generate_and_wait(home, "Another ten second video")
    assert refused["status"] == "failed" and refused["error"] == "short: makes at most 5 s, the video needs 10 s"
    assert [s["job_id"] for s in submissions(home)] == [made["id"]]


@pytest.mark.slow
async def test_jobs_waiting_for_budget_run_when_the_budget_day_rolls_over(home: Home, monkeypatch) -> None:
    use_providers(home, {"sim": simulated()}, ["sim"], daily_usd=3.0)
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    try:
        work = daemon_for(home, settings, db)
        for number in range(5):
            await work.planner.enqueue_prompt(f"Budget day video {number}", None, 0, "standard", 10)
        first = await work.worker.work(drain=True, progress=NullProgress())
        assert [o.status for o in first].count("done") == 3
        again = await work.worker.work(drain=True, progress=NullProgress())  # same day: they look again, and wait again
        assert {o.status for o in again} == {"waiting_budget"} and len(submissions(home)) == 3

        tomorrow = utcnow() + timedelta(days=1)
        for module in (alerts, ledger, daemon, planning, provider_health, queue, runner, status, worker):
            monkeypatch.setattr(module, "utcnow", lambda: tomorrow)
        later = await work.worker.work(drain=True, progress=NullProgress())
        assert [o.status for o in later] == ["done", "done"]
        day = work.ledger.periods(tomorrow)[0]
        assert await spent(db, day=day) == 2.0
    finally:
        await db.close()
