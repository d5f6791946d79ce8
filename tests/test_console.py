"""The operator console's HTTP API (issue 23, its first part): bearer-token auth, the queue and budget as `status`
shows them, jobs queued and cancelled, videos served with range requests from data/videos/ and nowhere else."""
from __future__ import annotations

import contextlib
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


@contextlib.asynccontextmanager
async def served(home: Home, secrets: dict[str, str]) -> AsyncIterator[TestClient[Any, Any]]:
    """The console app over `home`'s daemon, with `secrets`, on a loopback test server."""
    db = await Database.open(database_url(home, Secrets.load(home.env_file)))
    daemon = daemon_for(home, settings_for(home), db, Secrets({"CONSOLE_TOKEN": TOKEN, **secrets}))
    client: TestClient[Any, Any] = TestClient(TestServer(console_app(daemon, TOKEN)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await daemon.close()
        await db.close()


@pytest.fixture
async def console(home: Home) -> AsyncIterator[TestClient[Any, Any]]:
    edit_json(home.video_config_file, lambda data: data["video_generation"]["providers"]["runway"].update(
        enabled=True))  # beside the local renderer: enabled, with its key
    async with served(home, {"RUNWAY_API_KEY": "rk-1"}) as client:
        yield client


@pytest.mark.parametrize("sent", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
async def test_without_the_token_every_route_is_401(sent: str | None, console: TestClient[Any, Any]) -> None:
    headers = {} if sent is None else {"Authorization": sent}
    for method, path in [("GET", "/api/status"), ("POST", "/api/jobs"), ("POST", "/api/jobs/1/cancel"),
                         ("GET", "/api/providers"), ("POST", "/api/providers/local/enable"), ("GET", "/metrics"),
                         ("GET", "/videos/a/b.mp4"), ("GET", "/board"), ("GET", "/api/stream"),
                         ("GET", "/api/jobs/1"), ("POST", "/api/jobs/1/approve"), ("POST", "/api/jobs/1/reject"),
                         ("PATCH", "/api/jobs/1/brief"), ("GET", "/reports/latest"), ("GET", "/api/jobs"),
                         ("GET", "/api/briefs"), ("GET", "/api/trends"), ("GET", "/api/budget"),
                         ("GET", "/api/reports"), ("POST", "/api/providers/local/disable"),
                         ("GET", "/api/openapi.json"), ("POST", "/api/jobs/1/retry")]:
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


def test_serve_or_run_with_the_console_without_a_token_is_one_line(home: Home) -> None:
    result = run_cli(home.root, "serve", env={"CONSOLE_TOKEN": ""})
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: console: set CONSOLE_TOKEN (16 characters or more) in the environment "
                                     "or .env: the console's bearer token")
    edit_json(home.config_file, lambda data: data.update(console={"enabled": True}))
    result = run_cli(home.root, "run", env={"CONSOLE_TOKEN": "short"})
    assert result.returncode == 2 and result.stderr.strip().startswith("error: console: set CONSOLE_TOKEN")


def test_a_port_in_use_is_one_line(home: Home) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli(home.root, "serve", "--port", str(taken.getsockname()[1]), env={"CONSOLE_TOKEN": TOKEN})
    assert result.returncode == 2 and "error: console: cannot listen on 127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


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


@pytest.fixture
def reviewed(home: Home) -> Home:
    edit_json(home.config_file, lambda data: data["accounts"][0].update(review_briefs=True))
    return home


@pytest.fixture
async def reviewing(reviewed: Home) -> AsyncIterator[TestClient[Any, Any]]:
    async with served(reviewed, {}) as client:
        yield client


async def test_a_reviewed_personas_brief_waits_is_edited_then_approved_or_rejected(
        reviewing: TestClient[Any, Any]) -> None:
    made = [(await (await reviewing.post("/api/jobs", json={"prompt": prompt}, headers=AUTH)).json())["id"]
            for prompt in ("Three habits that fix a slow morning", "Why cold showers are overrated")]
    job = await (await reviewing.get(f"/api/jobs/{made[0]}", headers=AUTH)).json()
    assert job["status"] == "awaiting_approval" and len(job["brief"]["beats"]) >= 3
    edited = await reviewing.patch(f"/api/jobs/{made[0]}/brief", headers=AUTH, json={
        "hook": "Your mornings are slow for one reason", "beats": ["Light first", "Water second", "Phone last"]})
    assert edited.status == 200, await edited.text()
    for body, says in [({"beats": ["only one"]}, "brief: beats: List should have at least 3 items"),
                       ({"topic": "another"}, "brief: topic cannot be edited"),
                       ({"hook": ""}, "brief: hook: String should have at least 1 character")]:
        refused = await reviewing.patch(f"/api/jobs/{made[0]}/brief", headers=AUTH, json=body)
        assert refused.status == 400 and (await refused.json())["error"].startswith(says), await refused.text()
    refused = await reviewing.patch(f"/api/jobs/{made[0]}/brief", headers=AUTH, data="[1]")
    assert refused.status == 400 and (await refused.json()) == {"error": "the body must be a JSON object"}
    assert (await (await reviewing.post(f"/api/jobs/{made[0]}/approve", headers=AUTH)).json())["status"] == "queued"
    job = await (await reviewing.get(f"/api/jobs/{made[0]}", headers=AUTH)).json()
    assert job["status"] == "queued" and job["brief"]["hook"] == "Your mornings are slow for one reason"
    again = await reviewing.post(f"/api/jobs/{made[0]}/approve", headers=AUTH)
    assert again.status == 400 and "is queued: it is not awaiting approval" in (await again.json())["error"]
    late = await reviewing.patch(f"/api/jobs/{made[0]}/brief", headers=AUTH, json={"hook": "too late"})
    assert late.status == 400 and "only a brief awaiting approval can be edited" in (await late.json())["error"]
    rejected = await reviewing.post(f"/api/jobs/{made[1]}/reject", headers=AUTH, json={"reason": "off-brand"})
    assert (await rejected.json())["status"] == "cancelled"
    job = await (await reviewing.get(f"/api/jobs/{made[1]}", headers=AUTH)).json()
    assert job["status"] == "cancelled" and job["error"] == "rejected: off-brand"
    for path in ("/api/jobs/999/approve", "/api/jobs/abc/approve"):
        missing = await reviewing.post(path, headers=AUTH)
        assert missing.status in (400, 404) and "no job" in (await missing.json())["error"]


async def test_the_dashboard_signs_in_with_a_cookie_and_refuses_a_cross_site_form(
        console: TestClient[Any, Any]) -> None:
    page = await console.get("/")
    assert page.status == 200 and "Console token" in await page.text()
    wrong = await console.post("/login", data={"token": "guess"}, allow_redirects=False)
    assert wrong.status == 401 and "not the console token" in await wrong.text()
    signed = await console.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert signed.status == 303 and "HttpOnly" in signed.headers["Set-Cookie"]
    assert "SameSite=Strict" in signed.headers["Set-Cookie"]
    board = await console.get("/")
    assert board.status == 200 and "Operator console" in await board.text() and "Queue" in await board.text()
    forged = await console.post("/api/jobs", data={"prompt": "a form on another site"})
    assert forged.status == 403 and (await forged.json())["error"].startswith("a change from the dashboard")
    queued = await console.post("/api/jobs", json={"prompt": "Three habits that fix a slow morning"})
    assert queued.status == 201
    parts = await (await console.get("/board")).json()
    assert set(parts) == {"queue", "review", "gallery", "budget", "providers", "trends"}
    assert "Three habits that fix a slow morning" in parts["queue"]["html"]


async def test_the_stream_sends_the_status_when_it_changes(console: TestClient[Any, Any]) -> None:
    stream = await console.get("/api/stream", headers=AUTH)
    assert stream.headers["Content-Type"] == "text/event-stream"
    first = await stream.content.readuntil(b"\n\n")
    assert first.startswith(b"event: status\ndata: ") and b'"jobs": []' in first
    await console.post("/api/jobs", json={"prompt": "Three habits that fix a slow morning"}, headers=AUTH)
    second = await stream.content.readuntil(b"\n\n")
    assert b"Three habits that fix a slow morning" in second
    stream.close()


async def test_the_openapi_document_is_valid_and_names_every_route(console: TestClient[Any, Any]) -> None:
    from openapi_spec_validator import validate

    document = await (await console.get("/api/openapi.json", headers=AUTH)).json()
    validate(document)
    served = {(route.method.lower(), route.resource.canonical) for route in console.app.router.routes()
              if route.method != "HEAD" and route.resource is not None}
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert served - {("get", "/"), ("post", "/login")} == documented


async def test_budget_trends_reports_and_briefs_read_back(console: TestClient[Any, Any]) -> None:
    budget = await (await console.get("/api/budget", headers=AUTH)).json()
    assert budget["caps"]["daily_usd"] == 10.0 and budget["alerts"] == [] and set(budget["daily"]) == {
        "limit_usd", "spent_usd", "reserved_usd"}
    assert (await (await console.get("/api/briefs", headers=AUTH)).json()) == {"briefs": []}
    assert (await (await console.get("/api/reports", headers=AUTH)).json()) == {"reports": []}
    latest = await console.get("/reports/latest", headers=AUTH)
    assert latest.status == 404 and "no report yet" in (await latest.json())["error"]
    trends = (await (await console.get("/api/trends", headers=AUTH)).json())["trends"]
    assert isinstance(trends, list)
    await console.post("/api/jobs", json={"prompt": "Three habits that fix a slow morning"}, headers=AUTH)
    assert [job["topic"] for job in (await (await console.get("/api/jobs", headers=AUTH)).json())["jobs"]] == [
        "Three habits that fix a slow morning"]


async def test_a_provider_is_disabled_and_enabled_from_the_console(console: TestClient[Any, Any]) -> None:
    for body, says in [({"hours": 0}, "hours: a number above 0"), ({"hours": "soon"}, "hours: a number above 0"),
                       ({"hours": True}, "hours: a number above 0")]:
        refused = await console.post("/api/providers/runway/disable", json=body, headers=AUTH)
        assert refused.status == 400 and (await refused.json())["error"].startswith(says)
    missing = await console.post("/api/providers/nope/disable", headers=AUTH)
    assert missing.status == 404
    disabled = await console.post("/api/providers/runway/disable", json={"hours": 2}, headers=AUTH)
    assert (await disabled.json()) == {"name": "runway", "enabled": False, "hours": 2}
    listed = {p["name"]: p for p in (await (await console.get("/api/providers", headers=AUTH)).json())["providers"]}
    assert listed["runway"]["unavailable"].startswith("disabled until") and not listed["runway"]["ready"]
    await console.post("/api/providers/runway/enable", headers=AUTH)
    listed = {p["name"]: p for p in (await (await console.get("/api/providers", headers=AUTH)).json())["providers"]}
    assert listed["runway"]["ready"]


async def test_metrics_show_queue_depth_and_each_providers_latency(reviewing: TestClient[Any, Any]) -> None:
    from core.daemon.console import DAEMON
    from core.progress import NullProgress

    for prompt in ("Three habits that fix a slow morning", "Why cold showers are overrated"):
        assert (await reviewing.post("/api/jobs", json={"prompt": prompt, "duration_s": 5}, headers=AUTH)).status == 201
    await reviewing.post("/api/jobs/1/approve", headers=AUTH)
    await reviewing.app[DAEMON].worker.work(drain=True, progress=NullProgress())
    lines = (await (await reviewing.get("/metrics", headers=AUTH)).text()).splitlines()
    assert "influencer_queue_depth 1.0" in lines  # the brief still awaiting approval
    assert 'influencer_provider_latency_seconds_count{outcome="done",provider="local"} 1.0' in lines
    assert 'influencer_jobs{status="done"} 1.0' in lines


@pytest.mark.slow
async def test_run_serves_the_console_when_configured(home: Home) -> None:
    import asyncio
    import os
    import signal
    import socket
    import sys

    import aiohttp

    from tests.conftest import ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    edit_json(home.config_file, lambda data: data.update(console={"enabled": True, "port": port}))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"CONSOLE_TOKEN": TOKEN}
    daemon = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "main.py"), "--home", str(home.root),
                                                  "run", cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                  stderr=asyncio.subprocess.DEVNULL)
    try:
        assert daemon.stdout is not None
        line = await asyncio.wait_for(daemon.stdout.readline(), 60)
        assert f"console: http://127.0.0.1:{port}/".encode() in line, line
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/api/status", headers=AUTH) as answer:
                assert answer.status == 200 and "jobs" in await answer.json()
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(daemon.wait(), 120) == 0


async def test_a_cancelled_job_is_retried_once_as_a_new_job_from_its_brief(console: TestClient[Any, Any]) -> None:
    created = await console.post("/api/jobs", json={"prompt": "Three habits that fix a slow morning"}, headers=AUTH)
    job_id = (await created.json())["id"]
    early = await console.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
    assert early.status == 400 and "is queued: only a failed or cancelled job" in (await early.json())["error"]
    await console.post(f"/api/jobs/{job_id}/cancel", headers=AUTH)
    retried = await console.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
    assert retried.status == 201, await retried.text()
    made = await retried.json()
    assert made["retry_of"] == job_id and made["status"] == "queued" and made["id"] != job_id
    again = await console.post(f"/api/jobs/{job_id}/retry", headers=AUTH)
    assert again.status == 400 and (await again.json())["error"] == (
        f"job {job_id} was retried already, as job {made['id']}")
    jobs = {job["id"]: job for job in (await (await console.get("/api/jobs", headers=AUTH)).json())["jobs"]}
    assert jobs[job_id]["status"] == "cancelled" and jobs[made["id"]]["topic"] == jobs[job_id]["topic"]
    original = await (await console.get(f"/api/jobs/{job_id}", headers=AUTH)).json()
    copy = await (await console.get(f"/api/jobs/{made['id']}", headers=AUTH)).json()
    assert copy["brief"] == original["brief"]
    missing = await console.post("/api/jobs/999/retry", headers=AUTH)
    assert missing.status == 400 and (await missing.json())["error"] == "no job 999"


async def test_bad_input_to_reject_and_approve_is_one_line(reviewing: TestClient[Any, Any]) -> None:
    job = (await (await reviewing.post("/api/jobs", json={"prompt": "Why cold showers are overrated"},
                                       headers=AUTH)).json())["id"]
    for body in ({"reason": 5}, {"reason": "   "}):
        refused = await reviewing.post(f"/api/jobs/{job}/reject", json=body, headers=AUTH)
        assert refused.status == 400 and (await refused.json()) == {"error": "reason: a short text"}
    refused = await reviewing.post(f"/api/jobs/{job}/reject", data="{not json", headers=AUTH)
    assert refused.status == 400 and (await refused.json()) == {"error": "the body must be a JSON object"}
    created = await reviewing.post("/api/jobs", json={"prompt": 7}, headers=AUTH)
    assert created.status == 400 and (await created.json()) == {"error": "prompt: a string is required"}
