"""kill -9 for real: a worker subprocess is SIGKILLed mid-submit and mid-poll, restarted, and nothing is lost,
nothing is paid twice and the ledger balances (on SQLite and on PostgreSQL)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.home import Home
from tests.conftest import ROOT, edit_json, query, run_cli
from tests.test_worker import simulated, submissions, use_providers


def start_worker(home: Home) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--home", str(home.root), "worker", "--drain"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def kill_when(home: Home, worker: subprocess.Popen[str], state: str, timeout: float = 120) -> None:
    """SIGKILL the worker as soon as some attempt is in `state`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited before any attempt was {state}: {worker.stderr.read()}")
        if state in attempt_states(home):
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            return
        time.sleep(0.02)
    raise AssertionError(f"no attempt reached {state}")


def attempt_states(home: Home) -> list[str]:
    return [row[0] for row in query(home, "SELECT state FROM attempts")]


@pytest.mark.slow
def test_sigkill_mid_submit_and_mid_poll_loses_nothing_and_pays_once(engine_home: Home) -> None:
    home = engine_home
    use_providers(home, {"sim": simulated(latency_s=3.0)}, ["sim"])
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(lease_s=2))
    for number in range(3):
        assert run_cli(home.root, "generate", f"Crash test video number {number}", "--duration", "5").returncode == 0

    kill_when(home, start_worker(home), "submitting")  # the first submit renders the simulated video: a long window
    kill_when(home, start_worker(home), "polling")
    final = start_worker(home)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr

    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert [job["status"] for job in status["jobs"]] == ["done"] * 3
    billed = submissions(home)
    assert sorted(s["job_id"] for s in billed) == [1, 2, 3], "one submission per job: nothing was resubmitted"
    states = dict(query(home, "SELECT state, COUNT(*) FROM attempts GROUP BY state"))
    open_reservations = query(home, "SELECT attempt_id, SUM(amount_usd) FROM cost_ledger WHERE kind IN "
                                    "('reserve', 'release') GROUP BY attempt_id HAVING ABS(SUM(amount_usd)) > 1e-9")
    charged = query(home, "SELECT SUM(amount_usd) FROM cost_ledger WHERE kind = 'charge'")[0][0]
    assert states.get("done") == 3 and set(states) <= {"done", "cancelled"}
    assert open_reservations == [], "every reservation was released or settled"
    assert charged == sum(s["cost_usd"] for s in billed) == 1.5
    assert status["budget"]["daily"]["reserved_usd"] == 0.0
    assert not list(Path(home.videos_dir).rglob("*.partial*"))


@pytest.mark.slow
def test_cancel_stops_a_running_job_at_the_provider_and_releases_its_budget(home: Home) -> None:
    use_providers(home, {"sim": simulated(latency_s=30.0)}, ["sim"])
    assert run_cli(home.root, "generate", "A video nobody wants any more", "--duration", "5").returncode == 0
    assert run_cli(home.root, "generate", "A video still wanted later", "--duration", "5").returncode == 0
    waiting = run_cli(home.root, "cancel", "2", "--reason", "not this week")
    assert waiting.returncode == 0 and "job 2 cancelled" in waiting.stdout
    worker = start_worker(home)
    deadline = time.monotonic() + 120
    while "polling" not in attempt_states(home):
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.05)
    while True:  # the provider reports progress; status shows it with an ETA
        running = json.loads(run_cli(home.root, "status", "--json").stdout)["jobs"][1]
        assert running["id"] == 1 and running["status"] == "running" and running["stage"] == "polling"
        if running["progress"] is not None:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert 0 < running["progress"] < 0.5 and 0 < running["eta_s"] < 600
    asked = run_cli(home.root, "cancel", "1", "--reason", "changed my mind")
    assert asked.returncode == 0 and "running" in asked.stdout
    _, stderr = worker.communicate(timeout=60)  # long before the 30 s task would have finished
    assert worker.returncode == 0, stderr

    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert {job["id"]: (job["status"], job["error"]) for job in status["jobs"]} == {
        1: ("cancelled", "cancelled: changed my mind"), 2: ("cancelled", "cancelled: not this week")}
    assert status["budget"]["daily"] == {"limit_usd": 10.0, "spent_usd": 0.0, "reserved_usd": 0.0}
    assert attempt_states(home) == ["cancelled"]
    again = run_cli(home.root, "cancel", "1")
    assert again.returncode == 1 and "already cancelled" in again.stderr


@pytest.mark.slow
def test_cancel_winds_up_a_job_whose_worker_was_killed(home: Home) -> None:
    use_providers(home, {"sim": simulated(latency_s=60.0)}, ["sim"])
    assert run_cli(home.root, "generate", "A video whose worker dies", "--duration", "5").returncode == 0
    kill_when(home, start_worker(home), "polling")
    cancelled = run_cli(home.root, "cancel", "1", "--reason", "worker gone")
    assert cancelled.returncode == 0 and "job 1 cancelled" in cancelled.stdout, cancelled.stderr
    status = json.loads(run_cli(home.root, "status", "--json").stdout)
    assert [(job["status"], job["error"]) for job in status["jobs"]] == [("cancelled", "cancelled: worker gone")]
    assert status["budget"]["daily"]["reserved_usd"] == 0.0 and status["budget"]["daily"]["spent_usd"] == 0.0
    assert attempt_states(home) == ["cancelled"]


@pytest.mark.slow
def test_a_job_no_provider_can_run_yet_waits_and_runs_once_one_is_configured(home: Home) -> None:
    use_providers(home, {"runway": {"type": "runway"}}, ["runway"])  # enabled, but RUNWAY_API_KEY is not set
    assert run_cli(home.root, "generate", "A video waiting for its key", "--duration", "5").returncode == 0
    drained = run_cli(home.root, "worker", "--drain")
    assert drained.returncode == 0, drained.stderr
    job = json.loads(run_cli(home.root, "status", "--json").stdout)["jobs"][0]
    assert job["status"] == "waiting_provider" and "RUNWAY_API_KEY" in job["error"]
    use_providers(home, {"runway": {"type": "runway"}, "sim": simulated()}, ["runway", "sim"])
    assert run_cli(home.root, "worker", "--drain").returncode == 0
    job = json.loads(run_cli(home.root, "status", "--json").stdout)["jobs"][0]
    assert job["status"] == "done", job
