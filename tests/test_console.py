"""The operator console's HTTP API (issue 23, its first part): bearer-token auth, the queue and budget as `status`
shows them, jobs queued and cancelled, videos served with range requests from data/videos/ and nowhere else."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.daemon.console import console_app
from core.engine.provider_health import ProviderHealth
from core.home import Home
from core.secrets import Secrets
from core.storage import Database, database_url
from tests.conftest import LogCapture, daemon_for, edit_json, run_cli, settings_for

TOKEN = "console-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def console(home: Home) -> AsyncIterator[TestClient[Any, Any]]:
    edit_json(home.video_config_file, lambda data: data["video_generation"]["providers"]["runway"].update(
        enabled=True))  # beside the local renderer: enabled, with its key
    db = await Database.open(database_url(home, Secrets.load(home.env_file)))
    daemon = daemon_for(home, settings_for(home), db, Secrets({"CONSOLE_TOKEN": TOKEN, "RUNWAY_API_KEY": "rk-1"}))
    client: TestClient[Any, Any] = TestClient(TestServer(console_app(daemon, TOKEN)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await daemon.close()
        await db.close()


@pytest.mark.parametrize("sent", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
async def test_without_the_token_every_route_is_401(sent: str | None, console: TestClient[Any, Any]) -> None:
    headers = {} if sent is None else {"Authorization": sent}
    for method, path in [("GET", "/api/status"), ("POST", "/api/jobs"), ("POST", "/api/jobs/1/cancel"),
                         ("GET", "/api/providers"), ("POST", "/api/providers/local/enable"), ("GET", "/metrics"),
                         ("GET", "/videos/a/b.mp4")]:
        answer = await console.request(method, path, headers=headers)
        assert answer.status == 401, (method, path)
        assert await answer.json() == {"error": "missing or wrong bearer token"}


async def test_a_job_queued_over_the_api_shows_in_status_and_is_cancelled(console: TestClient[Any, Any],
                                                                          caplog_loguru: LogCapture) -> None:
    created = await console.post("/api/jobs", json={"prompt": "Three habits that fix a slow morning"}, headers=AUTH)
    assert created.status == 201, await created.text()
    job_id = (await created.json())["id"]
    status = await (await console.get("/api/status", headers=AUTH)).json()
    assert [(job["id"], job["status"], job["video_url"]) for job in status["jobs"]] == [(job_id, "queued", None)]
    assert set(status["budget"]) == {"daily", "monthly"}
    cancelled = await console.post(f"/api/jobs/{job_id}/cancel", headers=AUTH)
    assert (await cancelled.json()) == {"id": job_id, "result": "cancelled"}
    status = await (await console.get("/api/status", headers=AUTH)).json()
    assert status["jobs"][0]["status"] == "cancelled"
    assert TOKEN not in caplog_loguru.text


@pytest.mark.parametrize(("body", "message"), [
    ("not json", "the body must be a JSON object"),
    ({"prompt": 7}, "prompt: a string is required"),
    ({"prompt": "A fine topic", "priority": "high"}, "priority: an integer"),
    ({"prompt": "ok"}, "at least 3 characters"),
    ({"prompt": "A fine topic", "duration_s": 900}, "--duration"),
    ({"prompt": "A fine topic", "account": "nobody"}, "no account named 'nobody'"),
])
async def test_bad_input_is_a_400_with_one_clear_line_and_stores_nothing(body: Any, message: str,
                                                                        console: TestClient[Any, Any]) -> None:
    sent = {"data": body} if isinstance(body, str) else {"json": body}
    answer = await console.post("/api/jobs", headers=AUTH, **sent)
    assert answer.status == 400
    error = (await answer.json())["error"]
    assert message in error and "\n" not in error, error
    assert (await (await console.get("/api/status", headers=AUTH)).json())["jobs"] == []


async def test_a_video_is_served_with_ranges_and_nothing_outside_the_videos_folder(
        home: Home, console: TestClient[Any, Any]) -> None:
    video = home.videos_dir / "mia_moves" / "000001-morning.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(bytes(range(256)) * 40)
    (home.root / ".env").write_text("RUNWAY_API_KEY=sk-very-secret\n")
    whole = await console.get("/videos/mia_moves/000001-morning.mp4", headers=AUTH)
    assert whole.status == 200 and await whole.read() == video.read_bytes()
    part = await console.get("/videos/mia_moves/000001-morning.mp4", headers={**AUTH, "Range": "bytes=100-199"})
    assert part.status == 206 and await part.read() == video.read_bytes()[100:200]
    for path in ["/videos/mia_moves/..%2F..%2F..%2F.env", "/videos/..%2F..%2Fconfig/config.json",
                 "/videos/mia_moves/%2E%2E%2F%2E%2E%2F%2E%2E%2F.env", "/videos/mia_moves/000001-morning.txt",
                 "/videos/mia_moves/nothing.mp4", "/videos/../../.env"]:
        answer = await console.get(path, headers=AUTH)
        assert answer.status == 404, path
        assert b"sk-very-secret" not in await answer.read()


def test_serve_without_a_token_is_one_line(home: Home) -> None:
    result = run_cli(home.root, "serve", env={"CONSOLE_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: serve: set CONSOLE_TOKEN (16 characters or more) in the environment or "
                                     ".env: the console's bearer token")


async def test_providers_show_their_health_and_enable_clears_a_disable(home: Home,
                                                                      console: TestClient[Any, Any]) -> None:
    db = await Database.open(database_url(home, Secrets({})))
    try:
        await ProviderHealth(db).disable("runway", 24, "billing: no credits left")
    finally:
        await db.close()
    listed = {p["name"]: p for p in (await (await console.get("/api/providers", headers=AUTH)).json())["providers"]}
    assert listed["local"]["ready"] and listed["local"]["unavailable"] is None
    assert not listed["runway"]["ready"] and "billing: no credits left" in listed["runway"]["unavailable"]
    assert not listed["kling"]["ready"] and listed["kling"]["missing"] == ["KLING_ACCESS_KEY", "KLING_SECRET_KEY"]
    metrics = await (await console.get("/metrics", headers=AUTH)).text()
    assert 'influencer_provider_ready{provider="runway"} 0.0' in metrics
    enabled = await console.post("/api/providers/runway/enable", headers=AUTH)
    assert (await enabled.json()) == {"name": "runway", "enabled": True, "jobs_woken": 0}
    listed = {p["name"]: p for p in (await (await console.get("/api/providers", headers=AUTH)).json())["providers"]}
    assert listed["runway"]["ready"] and listed["runway"]["unavailable"] is None
    assert (await console.post("/api/providers/nosuch/enable", headers=AUTH)).status == 404


async def test_metrics_count_jobs_by_status_and_show_the_budget(console: TestClient[Any, Any]) -> None:
    for prompt in ("Three habits that fix a slow morning", "Why cold showers are overrated"):
        assert (await console.post("/api/jobs", json={"prompt": prompt}, headers=AUTH)).status == 201
    await console.post("/api/jobs/2/cancel", headers=AUTH)
    answer = await console.get("/metrics", headers=AUTH)
    assert answer.headers["Content-Type"].startswith("text/plain")
    metrics = await answer.text()
    expected = ['influencer_jobs{status="queued"} 1.0', 'influencer_jobs{status="cancelled"} 1.0',
                'influencer_budget_limit_usd{period="daily"} 10.0',
                'influencer_budget_spent_usd{period="monthly"} 0.0',
                'influencer_provider_ready{provider="local"} 1.0']
    for line in expected:
        assert line in metrics.splitlines(), line
