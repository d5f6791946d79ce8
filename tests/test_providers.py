"""Each HTTP adapter against a loopback fake of its API, through every scenario the issue lists; then each one end
to end through the real engine."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from sqlalchemy import select

from content.briefs.brief import Brief
from content.media.look import Look
from content.media.media import probe
from content.providers import GenerationRequest, VideoProvider, VideoProviderRegistry
from core.bounds import retry_after
from core.engine.runner import JobOutcome
from core.errors import ProviderError
from core.home import Home
from core.schema import cost_ledger
from core.secrets import Secrets
from core.settings import Account, ContentSettings
from tests.conftest import ROOT, edit_json, generate_and_wait, run_cli
from tests.fakes.base import RETRY_AFTER_S, SCENARIOS, SLOW_STEPS, FakeApi
from tests.fakes.fal import FakeFal
from tests.fakes.heygen import FakeHeygen
from tests.fakes.kie import FakeKie
from tests.fakes.kling import ACCESS_KEY as KLING_ACCESS_KEY
from tests.fakes.kling import FakeKling
from tests.fakes.luma import FakeLuma
from tests.fakes.luma_agents import FakeLumaAgents
from tests.fakes.minimax import FakeMinimax
from tests.fakes.replicate import FakeReplicate
from tests.fakes.runway import FakeRunway
from tests.fakes.sora import FakeSora
from tests.fakes.veo import FakeVeo


@dataclass(frozen=True)
class Adapter:
    fake: type[FakeApi]
    env: tuple[str, ...]  # the keys it needs; the fake accepts FakeApi.key for each
    params: dict[str, Any]
    reports_progress: bool = True  # some APIs say only "in progress"
    sends_retry_after: bool = True  # on a 429 (Kling documents none)
    can_cancel: bool = True


ADAPTERS = {
    "runway": Adapter(FakeRunway, ("RUNWAY_API_KEY",), {"model": "gen4.5", "min_poll_interval_s": 0}),
    "fal": Adapter(FakeFal, ("FAL_KEY",), {"model": "fal-ai/pika/v2.2/text-to-video"}, reports_progress=False),
    "kling": Adapter(FakeKling, ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"), {"model": "kling-v2-5-turbo"},
                     reports_progress=False, sends_retry_after=False, can_cancel=False),
    "veo": Adapter(FakeVeo, ("GEMINI_API_KEY",), {"model": "veo-3.1-fast-generate-preview"}, reports_progress=False,
                   can_cancel=False),
    "minimax": Adapter(FakeMinimax, ("MINIMAX_API_KEY",), {"letterbox_to_portrait": True}, reports_progress=False,
                       sends_retry_after=False, can_cancel=False),
    "luma": Adapter(FakeLuma, ("LUMA_API_KEY",), {"model": "ray-2"}, reports_progress=False),
    "luma_agents": Adapter(FakeLumaAgents, ("LUMA_AGENTS_API_KEY",), {"model": "ray-3.2"}, reports_progress=False,
                           can_cancel=False),
    "heygen": Adapter(FakeHeygen, ("HEYGEN_API_KEY",), {}, reports_progress=False, can_cancel=False),
    "replicate": Adapter(FakeReplicate, ("REPLICATE_API_TOKEN",), {"model": "google/veo-3.1-fast"},
                         reports_progress=False),
    "sora": Adapter(FakeSora, ("OPENAI_API_KEY",), {"model": "sora-2"}, can_cancel=False),
    "kie": Adapter(FakeKie, ("KIE_API_KEY",), {"model": "veo3_fast"}, reports_progress=False,
                   sends_retry_after=False, can_cancel=False),
}


def build(kind: str, url: str = "http://127.0.0.1:9", **params: Any) -> VideoProvider:
    """The adapter over `url` (by default nothing listens there: for what needs no call), `params` over its test
    defaults."""
    cls = VideoProviderRegistry.get(kind)
    merged = {**ADAPTERS[kind].params, "base_url": url, "poll_interval_s": 0.01, **params}
    return cls(kind, cls.params_model.model_validate(merged), Secrets(keys(kind)))


def request_for(tmp_path: Path, seconds: float = 5) -> GenerationRequest:
    brief = Brief(account="a", template="default", topic="t", hook="h", beats=["1", "2", "3"], hashtags=[], cta="c",
                  visual_prompt="A slow dolly shot across a sunlit kitchen, steam rising from a cup",
                  duration_s=seconds)
    look = Look.of(Account(name="a", handle="a"), ContentSettings(), Home.at(tmp_path))  # no persona photo
    return GenerationRequest(1, brief, look, tmp_path, "standard")


@dataclass
class Run:
    error: ProviderError | None = None
    video: Path | None = None
    progress: list[float] | None = None


async def drive(provider: VideoProvider, request: GenerationRequest, destination: Path) -> Run:
    """submit → poll until it ends → download, as the engine calls them (without its waits)."""
    progress: list[float] = []
    try:
        task_id = await provider.submit(request, "job1-attempt1")
        while (status := await provider.poll(task_id)).state == "running":
            progress.append(status.progress or 0.0)
        if status.state == "failed":
            return Run(error=status.error, progress=progress)
        return Run(video=await provider.download(task_id, destination), progress=progress)
    except ProviderError as exc:
        return Run(error=exc, progress=progress)
    finally:
        await provider.close()


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kind", list(ADAPTERS))
async def test_adapter_scenarios(kind: str, scenario: str, clip: Path, tmp_path: Path) -> None:
    fake = ADAPTERS[kind].fake(clip, scenario)
    url = await fake.start()
    try:
        run = await drive(build(kind, url), request_for(tmp_path), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    expected_class = {"moderation": "content_violation", "rate_limit": "rate_limit", "credits": "billing",
                      "bad_key": "auth", "server_error": "temporary", "malformed": "temporary"}.get(scenario)
    if expected_class is None:
        assert run.error is None, run.error
        assert run.video is not None and run.video.read_bytes() == clip.read_bytes()
        assert not list(tmp_path.glob("*.partial"))
    else:
        assert run.error is not None and run.error.error_class == expected_class, run.error
        assert FakeApi.key not in str(run.error), "a key never appears in an error"
    if scenario == "rate_limit":
        expected_wait = RETRY_AFTER_S if ADAPTERS[kind].sends_retry_after else None
        assert run.error is not None and run.error.retry_after_s == expected_wait
    if scenario in ("server_error", "bad_key", "credits", "rate_limit"):
        assert run.error is not None and not run.error.ambiguous, "a definite refusal created nothing"
    if scenario == "malformed":
        assert run.error is not None and run.error.ambiguous, "a garbled create answer may hide a created task"
    if scenario == "slow":
        assert run.progress is not None and len(run.progress) >= SLOW_STEPS
        if ADAPTERS[kind].reports_progress:
            assert run.progress == sorted(run.progress) and run.progress[-1] > 0
    if scenario == "expired_url":
        assert fake.media_requests == [None, None], "the expired link was replaced by a fresh one"
    if scenario == "cut_download":
        assert len(fake.media_requests) == 2 and (fake.media_requests[1] or "").startswith("bytes="), \
            "the cut transfer resumed where it broke off"


@pytest.mark.parametrize("kind", [kind for kind, adapter in ADAPTERS.items() if adapter.can_cancel])
async def test_cancel_reaches_the_api(kind: str, clip: Path, tmp_path: Path) -> None:
    fake = ADAPTERS[kind].fake(clip, "slow")
    url = await fake.start()
    provider = build(kind, url)
    try:
        task_id = await provider.submit(request_for(tmp_path), "job1-attempt1")
        assert await provider.cancel(task_id)
        try:  # a cancelled task ends as failed, or is gone altogether (Luma deletes it)
            assert (await provider.poll(task_id)).state == "failed"
        except ProviderError as gone:
            assert gone.error_class == "invalid_request"
    finally:
        await provider.close()
        await fake.stop()
    assert any(line.startswith("DELETE") or line.endswith("/cancel") for line in fake.requests)


def configure(home: Home, providers: dict[str, tuple[str, str]]) -> None:
    """`providers`: name → (adapter type, fake URL), tried in this order."""
    def change(data: dict[str, Any]) -> None:
        video = data["video_generation"]
        video["providers"] = {name: {"type": kind, "params": {**ADAPTERS[kind].params, "base_url": url,
                                                              "poll_interval_s": 0.05}}
                              for name, (kind, url) in providers.items()}
        names = list(providers)
        video["default_provider"], video["fallback_providers"] = names[0], names[1:]
        video["budget"].update(per_video_limit_usd=5.0, daily_limit_usd=50.0, monthly_limit_usd=500.0)
        video["retry"] = {"max_retries": 1, "backoff_base_s": 0}

    edit_json(home.video_config_file, change)


def keys(*kinds: str) -> dict[str, str]:
    """What each fake accepts (Kling's access key is its JWT issuer; the rest are secrets)."""
    return {key: KLING_ACCESS_KEY if key == "KLING_ACCESS_KEY" else FakeApi.key
            for kind in kinds for key in ADAPTERS[kind].env}


async def through_the_engine(home: Home, kind: str, fake: FakeApi, seconds: float) -> tuple[JobOutcome, list[float]]:
    """One `generate --wait`, in this process (the fake lives on this event loop): the outcome and the charges."""
    configure(home, {kind: (kind, await fake.start())})
    try:
        outcome, charged = await generate_and_wait(
            home, "Morning light over a quiet harbour", seconds, Secrets(keys(kind)),
            then=select(cost_ledger.c.amount_usd).where(cost_ledger.c.kind == "charge"))
    finally:
        await fake.stop()
    return outcome, [row[0] for row in charged]


@pytest.mark.parametrize("kind", list(ADAPTERS))
async def test_end_to_end_through_the_engine(kind: str, home: Home, clip: Path) -> None:
    fake = ADAPTERS[kind].fake(clip, "success")
    outcome, charged = await through_the_engine(home, kind, fake, 5)
    assert outcome.status == "done", outcome.error
    assert outcome.path is not None
    info = await probe(outcome.path)
    assert info.video is not None and (info.video.width, info.video.height) == (1080, 1920)
    provider = build(kind, fake.url)
    expected = provider.estimate_cost(request_for(home.root))
    assert expected > 0 and charged == [pytest.approx(expected)]


async def cli(home: Home, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """`main.py` as a user runs it, without blocking this event loop (the fakes live on it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--home", str(home.root), *args, cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, **env},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 300)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.mark.slow
async def test_a_5xx_provider_is_failed_over_and_status_shows_both_attempts(home: Home, clip: Path) -> None:
    broken, working = FakeRunway(clip, "server_error"), FakeRunway(clip, "success")
    configure(home, {"runway-eu": ("runway", await broken.start()), "runway-us": ("runway", await working.start())})
    try:
        code, out, err = await cli(home, "generate", "Rain on a tin roof, close up", "--duration", "5", "--wait",
                                   "--json", env=keys("runway"))
        assert code == 0, err
        made = json.loads(out)
        code, out, err = await cli(home, "status", "--json", env={})
        table_code, table, _ = await cli(home, "status", env={"COLUMNS": "200"})
    finally:
        await broken.stop()
        await working.stop()
    assert made["status"] == "done" and made["provider"] == "runway-us"
    expected = [{"provider": "runway-eu", "state": "failed", "error_class": "temporary", "cost_usd": 0.0},
                {"provider": "runway-us", "state": "done", "error_class": None, "cost_usd": 0.6}]
    assert made["attempts"] == expected
    assert broken.requests.count("POST /v1/text_to_video") == 2, "one retry (max_retries 1), then failover"
    job = json.loads(out)["jobs"][0]
    assert job["provider"] == "runway-us" and job["attempts"] == expected
    assert table_code == 0 and "runway-eu temporary → runway-us done" in table
    assert FakeApi.key not in out + err + table


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"Retry-After": "12"}, 12.0), ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0), ({"Retry-After": "soon"}, None), ({}, None)])
def test_retry_after_reads_seconds_milliseconds_and_dates(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


@pytest.mark.parametrize("kind", [kind for kind in ADAPTERS if VideoProviderRegistry.get(kind).can_find_tasks])
async def test_a_task_is_found_by_the_idempotency_key(kind: str, clip: Path, tmp_path: Path) -> None:
    """What reconciles a create whose answer was lost: the task made with our key, and none for another key."""
    fake = ADAPTERS[kind].fake(clip, "success")
    provider = build(kind, await fake.start())
    try:
        task_id = await provider.submit(request_for(tmp_path), "job7-attempt9")
        assert await provider.find_task("job7-attempt9") == task_id
        assert await provider.find_task("job7-attempt10") is None
    finally:
        await provider.close()
        await fake.stop()


def test_the_kling_token_is_made_again_before_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    from content.providers import kling
    provider = build("kling", "http://127.0.0.1:9")
    now = 1_800_000_000.0
    monkeypatch.setattr(kling.time, "time", lambda: now)
    first = provider.auth_headers()["Authorization"]
    claims = jwt.decode(first[7:], FakeApi.key, algorithms=["HS256"], options={"verify_exp": False,
                                                                                "verify_nbf": False})
    assert claims == {"iss": KLING_ACCESS_KEY, "exp": int(now) + 1800, "nbf": int(now) - 5}
    now += 1400  # still well inside its 30 minutes: reused
    assert provider.auth_headers()["Authorization"] == first
    now += 200  # within five minutes of expiring: a new one
    assert provider.auth_headers()["Authorization"] != first


def test_a_landscape_only_model_is_passed_by_for_reels_unless_letterboxing_is_allowed(tmp_path: Path) -> None:
    minimax = VideoProviderRegistry.get("minimax")
    landscape = minimax("hailuo", minimax.params_model(), Secrets({}))
    assert landscape.cannot_make(request_for(tmp_path)) == "cannot make 9:16 (only 16:9)"
    assert build("minimax", "http://127.0.0.1:9").cannot_make(request_for(tmp_path)) is None
    assert build("minimax", "http://127.0.0.1:9").cannot_make(request_for(tmp_path, 41)) == \
        "makes at most 40 s, the video needs 41 s", "up to four parts of its longest"


def test_config_check_tells_which_providers_are_ready_and_what_the_others_lack(home: Home) -> None:
    edit_json(home.video_config_file, lambda d: [d["video_generation"]["providers"][name].update(enabled=True)
                                                 for name in ("runway", "kling", "sora")])
    result = run_cli(home.root, "config", "check", env={"RUNWAY_API_KEY": "rw-secret-value", "KLING_ACCESS_KEY": "ak"})
    assert result.returncode == 0, result.stderr
    assert "runway (type runway): ready" in result.stdout
    assert "kling (type kling): missing KLING_SECRET_KEY" in result.stdout
    assert "veo (type veo): disabled; missing GEMINI_API_KEY" in result.stdout
    assert "sora (type sora): missing OPENAI_API_KEY — DEPRECATED: OpenAI shut the Sora video API down" \
        in result.stdout
    assert "rw-secret-value" not in result.stdout + result.stderr


async def test_a_video_longer_than_the_model_makes_is_made_in_parts_and_joined(clip: Path, tmp_path: Path) -> None:
    fake = FakeRunway(clip, "success")
    provider = build("runway", await fake.start())
    request = request_for(tmp_path, 15)  # gen4.5 makes at most 10 s: two parts of 7.5 s, billed as 8 s each
    assert provider.estimate_cost(request) == pytest.approx(0.12 * 16)
    try:
        run = await drive(provider, request, tmp_path / "joined.mp4")
    finally:
        await fake.stop()
    assert run.error is None and run.video is not None, run.error
    made = [task.body for task in fake.tasks.values()]
    assert [body["duration"] for body in made] == [8, 8]
    assert [body["promptText"].endswith(f"(part {n} of 2, continuing the same scene)") for n, body in
            enumerate(made, 1)] == [True, True]
    joined, single = await probe(run.video), await probe(clip)
    assert joined.duration_s == pytest.approx(2 * single.duration_s, abs=0.2)
    assert not list(tmp_path.glob("*.part*"))


async def test_a_part_that_fails_after_another_was_made_counts_as_spent(clip: Path, tmp_path: Path) -> None:
    fake = FakeRunway(clip, "success")
    fake.creates_allowed = 1
    provider = build("runway", await fake.start())
    try:
        run = await drive(provider, request_for(tmp_path, 15), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    assert run.error is not None and run.error.ambiguous and "after 1 of 2 parts were made" in str(run.error)
    assert [line.split()[0] for line in fake.requests] == ["POST", "POST", "DELETE"], "the made part is cancelled"


async def test_all_parts_are_found_again_by_the_key(clip: Path, tmp_path: Path) -> None:
    fake = FakeKling(clip, "success")
    provider = build("kling", await fake.start())
    try:
        task_id = await provider.submit(request_for(tmp_path, 15), "job3-attempt4")
        assert task_id.count("|") == 1
        assert await provider.find_task("job3-attempt4") == task_id
        del fake.tasks[task_id.rsplit("|", 1)[1]]  # the second part was never made
        with pytest.raises(ProviderError, match="only 1 of the video's 2 parts") as partial:
            await provider.find_task("job3-attempt4")
        assert partial.value.ambiguous, "a part may be billed: the estimate counts, nothing is sent again"
    finally:
        await provider.close()
        await fake.stop()


@pytest.mark.slow
async def test_the_engine_makes_a_15_second_reel_from_two_parts(home: Home, clip: Path) -> None:
    fake = FakeRunway(clip, "success")
    outcome, charged = await through_the_engine(home, "runway", fake, 15)
    assert outcome.status == "done", outcome.error
    assert len(fake.tasks) == 2 and charged == [pytest.approx(1.92)]
    assert outcome.duration_s == pytest.approx(2 * (await probe(clip)).duration_s, abs=0.3)


async def test_a_cut_download_starts_over_when_the_server_ignores_ranges(clip: Path, tmp_path: Path) -> None:
    fake = FakeRunway(clip, "cut_download")
    fake.ignores_ranges = True
    try:
        run = await drive(build("runway", await fake.start()), request_for(tmp_path), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    assert run.video is not None and run.video.read_bytes() == clip.read_bytes()
    assert len(fake.media_requests) == 2 and fake.media_requests[1] is not None, "asked to resume, got it all"


async def test_the_fakes_refuse_what_the_real_apis_refuse(clip: Path) -> None:
    """The fakes are only worth their passes if a wrong request fails against them as it would for real."""
    runway, kling = FakeRunway(clip), FakeKling(clip)
    runway_url, kling_url = await runway.start(), await kling.start()
    auth = {"Authorization": f"Bearer {FakeApi.key}"}
    body = {"model": "gen4.5", "promptText": "x", "ratio": "720:1280", "duration": 5}
    expired = jwt.encode({"iss": KLING_ACCESS_KEY, "exp": 1, "nbf": 0}, FakeApi.key, algorithm="HS256")
    try:
        async with aiohttp.ClientSession() as session:
            async def status(url: str, **kwargs: Any) -> tuple[int, Any]:
                async with session.post(url, **kwargs) as response:
                    return response.status, await response.json()

            assert (await status(f"{runway_url}/v1/text_to_video", json=body, headers=auth))[0] == 400  # no version
            versioned = {**auth, "X-Runway-Version": "2024-11-06"}
            snake = {**body, "prompt_text": body.pop("promptText")}
            assert (await status(f"{runway_url}/v1/text_to_video", json=snake, headers=versioned))[0] == 400
            code, answer = await status(f"{kling_url}/v1/videos/text2video", json={"prompt": "x"},
                                        headers={"Authorization": f"Bearer {expired}"})
            assert (code, answer["code"]) == (401, 1004)
    finally:
        await runway.stop()
        await kling.stop()


@pytest.mark.parametrize(("kind", "hint"), [("runway", 5.0), ("sora", 0.001)])
async def test_the_providers_poll_hints_reach_the_engine(kind: str, hint: float, clip: Path, tmp_path: Path) -> None:
    """Runway asks for no more than a poll every 5 s; OpenAI says when in `openai-poll-after-ms`."""
    fake = ADAPTERS[kind].fake(clip, "slow")
    url = await fake.start()
    cls = VideoProviderRegistry.get(kind)
    provider = cls(kind, cls.params_model.model_validate({"base_url": url}), Secrets(keys(kind)))
    try:
        task_id = await provider.submit(request_for(tmp_path), "job1-attempt1")
        statuses = [await provider.poll(task_id) for _ in range(3)]
    finally:
        await provider.close()
        await fake.stop()
    assert [status.poll_after_s for status in statuses if status.state == "running"][-1] == hint
