"""Per-model truth (issue 22): estimates price the tier asked for, requests a vendor refuses are never sent, a lost
Kling create is looked up only where the docs say it can be, and the charge is what the provider says it billed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from content.providers import GenerationRequest, TaskStatus, VideoProvider
from content.providers.catalogue import ModelRow, lengths_text, model_rows
from core.errors import ProviderError
from core.home import Home
from core.schema import attempts
from core.secrets import Secrets
from tests.conftest import ROOT, edit_json, generate_and_wait, query, run_cli
from tests.fakes import runway as runway_fake
from tests.fakes.base import FakeApi
from tests.fakes.heygen import FakeHeygen
from tests.fakes.kie import FakeKie
from tests.fakes.kling import FakeKling
from tests.fakes.minimax import FakeMinimax
from tests.test_providers import ADAPTERS, build, cli, configure, drive, keys, request_for


async def finished(provider: VideoProvider, request: GenerationRequest, fake: FakeApi) -> TaskStatus:
    """The task's last status: submitted, then polled until it is no longer running."""
    try:
        task_id = await provider.submit(request, "job1-attempt1")
        while (status := await provider.poll(task_id)).state == "running":
            pass
    finally:
        await provider.close()
        await fake.stop()
    return status


@pytest.mark.parametrize(("kind", "base", "tier", "ratio", "billed_s"), [
    ("luma", {"resolution": "540p"}, {"resolution": "1080p"}, 4.0, 5),
    ("luma", {"resolution": "540p"}, {"resolution": "720p"}, 2.0, 5),
    ("fal", {}, {"extra_input": {"resolution": "1080p"}}, 2.25, 5),
    ("kling", {}, {"mode": "pro"}, 5 / 3, 5),
    ("kling", {"model": "kling-v3"}, {"model": "kling-v3", "mode": "pro", "sound": True}, 4 / 3 * 1.5, 5),
    ("veo", {}, {"resolution": "1080p"}, 1.2 * 8 / 6, 8),  # 1080p is made 8 s long only
    ("minimax", {}, {"resolution": "1080P"}, 1.75, 6),
    ("replicate", {"extra_input": {"generate_audio": False}}, {}, 1.5, 6),  # Veo on Replicate: sound by default
    ("runway", {"model": "veo3.1_fast"}, {"model": "veo3.1_fast", "audio": True}, 1.5, 6),
    ("sora", {"model": "sora-2-pro"}, {"model": "sora-2-pro", "size": "1024x1792"}, 5 / 3, 8),
])
def test_the_estimate_prices_the_tier_asked_for(kind: str, base: dict[str, Any], tier: dict[str, Any], ratio: float,
                                                billed_s: int, tmp_path: Path) -> None:
    """Resolution, mode and sound change the bill: a reservation at the base price would under-reserve."""
    request = request_for(tmp_path, 5)
    cheap, dear = build(kind, **base), build(kind, **tier)
    assert cheap.misconfigured() is None and dear.misconfigured() is None
    assert dear.estimate_cost(request) == pytest.approx(cheap.estimate_cost(request) * ratio)
    assert dear.billed_seconds(5) == billed_s


REFUSED = [
    ("runway", {"model": "veo3"}, "no longer a text-to-video model"),
    ("runway", {"model": "gen4_turbo"}, "from an image only"),
    ("kling", {"model": "kling-v2-1-master", "mode": "std"}, "pro mode, not std"),
    ("kling", {"model": "kling-v2-6", "mode": "std", "sound": True}, "sound in pro mode only"),
    ("veo", {"model": "veo-3.1-lite-generate-preview", "resolution": "4k"}, "makes 720p, 1080p, not 4k"),
    ("sora", {"model": "sora-2", "size": "1024x1792"}, "makes 720x1280, not 1024x1792"),
    ("minimax", {"resolution": "1080P", "durations_s": [10]}, "makes none of durations_s [10]"),
]


@pytest.mark.parametrize(("kind", "params", "why"), REFUSED)
async def test_a_request_the_vendor_refuses_is_never_sent(kind: str, params: dict[str, Any], why: str, clip: Path,
                                                          tmp_path: Path) -> None:
    """The table says no before any call, and the fake (the vendor's documented rules) agrees: sent anyway, it is
    refused as an invalid request — which would have failed over to a paid provider instead of making the video."""
    fake = ADAPTERS[kind].fake(clip, "success")
    provider = build(kind, await fake.start(), **params)
    try:
        assert why in (provider.misconfigured() or "")
        assert why in (provider.cannot_make(request_for(tmp_path, 5)) or "")
        with pytest.raises(ProviderError) as refused:
            await provider.submit_one(request_for(tmp_path, 5), "job1-attempt1")  # past the check, as a test only
        assert refused.value.error_class == "invalid_request"
    finally:
        await provider.close()
        await fake.stop()
    assert not fake.tasks


@pytest.mark.parametrize(("kind", "params", "seconds"), [
    ("kling", {"model": "kling-v3", "mode": "pro", "sound": True}, 15),  # v3: 3-15 s in one task
    ("kling", {"model": "kling-v2-1-master", "mode": "pro"}, 5),
    ("veo", {"resolution": "1080p"}, 15),  # two 8 s parts
    ("minimax", {"resolution": "1080P"}, 6),
    ("fal", {"model": "fal-ai/luma-dream-machine/ray-2-flash", "extra_input": {"resolution": "720p"}}, 5),
    ("runway", {"model": "veo3.1_fast"}, 6),
    ("runway", {"model": "gemini_omni_flash", "prices_usd_per_second": {"gemini_omni_flash": 0.1}}, 7),
    ("runway", {"model": "kling2.5_turbo_pro", "prices_usd_per_second": {"kling2.5_turbo_pro": 0.07}}, 10),
])
async def test_what_the_table_allows_the_vendor_makes(kind: str, params: dict[str, Any], seconds: float, clip: Path,
                                                     tmp_path: Path) -> None:
    fake = ADAPTERS[kind].fake(clip, "success")
    provider = build(kind, await fake.start(), **params)
    assert provider.cannot_make(request_for(tmp_path, seconds)) is None
    try:
        run = await drive(provider, request_for(tmp_path, seconds), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    assert run.error is None and run.video is not None, run.error


def test_config_check_says_which_entry_cannot_run_as_configured(home: Home) -> None:
    def change(data: dict[str, Any]) -> None:
        kling = data["video_generation"]["providers"]["kling"]
        kling["enabled"] = True
        kling["params"].update(model="kling-v2-1-master", mode="std")
    edit_json(home.video_config_file, change)
    result = run_cli(home.root, "config", "check", env={"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"})
    assert "kling (type kling): cannot run as configured: kling-v2-1-master runs in pro mode, not std" \
        in result.stdout, result.stdout


async def test_a_lost_kling_create_is_looked_for_in_the_task_list(clip: Path, tmp_path: Path) -> None:
    """Kling's docs confirm the single-task path for its own task id only, so our key is looked for in the list; a
    list read to its end says "none", one too long to read is ambiguous (the estimate counts, nothing is resent)."""
    fake = FakeKling(clip, "success")
    provider = build("kling", await fake.start())
    try:
        task_id = await provider.submit(request_for(tmp_path), "job7-attempt9")
        assert await provider.find_task("job7-attempt9") == task_id
        assert await provider.find_task("job7-attempt10") is None
        assert not any(line.startswith("GET /v1/videos/text2video/job7") for line in fake.requests)
        for n in range(2000):  # the account's newer tasks push ours past what is read
            fake.new_task({"external_task_id": f"other-{n}"})
        with pytest.raises(ProviderError) as unknown:
            await provider.find_task("job7-attempt9")
        assert unknown.value.ambiguous
    finally:
        await provider.close()
        await fake.stop()


@pytest.mark.parametrize("word", ["Fail", "Failed"])
async def test_a_minimax_task_that_failed_is_failed_in_either_spelling(word: str, clip: Path, tmp_path: Path) -> None:
    fake = FakeMinimax(clip, "success")
    fake.fails_as = word
    try:
        run = await drive(build("minimax", await fake.start()), request_for(tmp_path), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    assert run.error is not None and "failed" in str(run.error)


async def test_kling_units_become_the_charge_when_their_price_is_set(clip: Path, tmp_path: Path) -> None:
    fake = FakeKling(clip, "success")
    status = await finished(build("kling", await fake.start(), usd_per_unit=0.14), request_for(tmp_path), fake)
    assert status.cost_usd == pytest.approx(5 * 0.14), "final_unit_deduction 5 at $0.14 a unit"


async def test_the_ledger_records_what_runway_billed_beside_the_estimate(home: Home, clip: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(runway_fake.CREDITS_PER_SECOND, "gen4.5", (10, 10))  # cheaper than the table's 12
    fake = runway_fake.FakeRunway(clip, "success")
    configure(home, {"runway": ("runway", await fake.start())})
    try:
        outcome, rows = await generate_and_wait(
            home, "Morning light over a quiet harbour", 5, Secrets(keys("runway")),
            then=select(attempts.c.estimated_cost_usd, attempts.c.actual_cost_usd))
    finally:
        await fake.stop()
    assert outcome.status == "done", outcome.error
    assert [tuple(row) for row in rows] == [(pytest.approx(0.60), pytest.approx(0.50))]
    assert outcome.cost_usd == pytest.approx(0.50)
    assert FakeApi.key not in str(rows)


def readme_row(row: ModelRow) -> str:
    model = f"`{row.model}`" + (f" (cannot run: {row.unusable})" if row.unusable else "")
    price = "—" if row.usd_per_second is None else f"{row.usd_per_second:g}"
    tiers = "; ".join(part for part in (row.tiers, row.limits) if part) or "—"
    return (f"| `{row.provider}` | {model} | {lengths_text(row.lengths_s)} | {', '.join(row.ratios)} | {tiers} | "
            f"{price} | {row.source} |")


def test_the_readme_lists_every_model_as_the_adapters_know_it() -> None:
    """The README's model table is the adapters' own tables (`providers models`): it cannot drift from them."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [line for line in map(readme_row, model_rows()) if line not in readme]
    assert not missing, "README.md's model table differs; the rows as they should read:\n" + "\n".join(missing)


def test_providers_models_prints_each_model_with_its_source() -> None:
    result = run_cli(ROOT, "providers", "models", "--json")
    assert result.returncode == 0, result.stderr
    listed = {(m["provider"], m["model"]): m for m in json.loads(result.stdout)["models"]}
    assert listed[("veo", "veo-3.1-fast-generate-preview")]["tiers"] == "720p 1x, 1080p 1.2x, 4k 3x, reference image 1x"
    assert listed[("kling", "kling-v3")]["lengths_s"] == list(range(3, 16))
    assert "no longer a text-to-video model" in listed[("runway", "veo3")]["unusable"]
    assert all(m["source"] for m in listed.values())


def test_a_model_without_a_price_cannot_run_rather_than_fail_each_job() -> None:
    """The budget reserves an estimate before paying: a model without a base price is caught by the config check."""
    assert build("kling", model="kling-v1").misconfigured() == \
        "no price for kling-v1 in prices_usd_per_second (the budget needs an estimate)"
    assert build("kling", model="kling-v1", prices_usd_per_second={"kling-v1": 0.05}).misconfigured() is None


async def test_providers_test_makes_one_smallest_video_billed_and_reported(home: Home, clip: Path) -> None:
    """A user's first call with a new key: the estimate, then each step's result; the spend is in the ledger."""
    fake = runway_fake.FakeRunway(clip, "success")
    configure(home, {"runway": ("runway", await fake.start())})
    edit_json(home.video_config_file, lambda data: data["video_generation"]["providers"]["runway"].update(
        enabled=False))  # tested before it is switched on
    try:
        code, out, err = await cli(home, "providers", "test", "runway", "--yes", env=keys("runway"))
    finally:
        await fake.stop()
    assert code == 0, err
    [task] = fake.tasks.values()
    assert task.body["duration"] == 5 and task.body["model"] == "gen4.5", "the smallest video"
    assert "providers test runway: one 5 s video from gen4.5 (type runway), estimated $0.60" in out
    assert f"task {task.id}, ended done; estimated $0.60, charged $0.60" in out
    assert out.strip().endswith("providers test runway: OK (job 1, $0.60)"), out
    assert FakeApi.key not in out + err
    assert query(home, "SELECT kind, amount_usd FROM cost_ledger WHERE kind = 'charge'") == [("charge", 0.6)]


async def test_providers_test_sends_nothing_unconfirmed_or_without_its_key(home: Home, clip: Path) -> None:
    fake = runway_fake.FakeRunway(clip, "success")
    configure(home, {"runway": ("runway", await fake.start())})
    try:
        unconfirmed = await cli(home, "providers", "test", "runway", env=keys("runway"))  # no terminal to ask on
        keyless = await cli(home, "providers", "test", "runway", "--yes", env={"RUNWAY_API_KEY": ""})
        unknown = await cli(home, "providers", "test", "nosuch", "--yes", env=keys("runway"))
    finally:
        await fake.stop()
    assert unconfirmed[0] == 2 and "confirm with --yes (nothing was sent)" in unconfirmed[2]
    assert keyless[0] == 2 and "set RUNWAY_API_KEY in the environment or .env first" in keyless[2]
    assert unknown[0] == 2 and "no provider named 'nosuch'" in unknown[2]
    assert not fake.tasks and not any(line.startswith("POST") for line in fake.requests)


async def test_a_lost_heygen_create_is_found_by_its_title(clip: Path, tmp_path: Path) -> None:
    """HeyGen v3 has no lookup by a client id; our key is the video's title, and the title filter matches
    substrings, so only an equal title counts."""
    fake = FakeHeygen(clip, "success")
    provider = build("heygen", await fake.start())
    try:
        made = await provider.submit(request_for(tmp_path), "job3-attempt1")
        other = await provider.submit(request_for(tmp_path), "job3-attempt10")
        assert await provider.find_task("job3-attempt1") == made
        assert await provider.find_task("job3-attempt10") == other
        assert await provider.find_task("job3-attempt2") is None
    finally:
        await provider.close()
        await fake.stop()
    assert [task.body["aspect_ratio"] for task in fake.tasks.values()] == ["9:16", "9:16"]


@pytest.mark.parametrize(("params", "path", "seconds"), [
    ({"model": "veo3", "resolution": "1080p"}, "/api/v1/veo/generate", 8),
    ({"model": "runway"}, "/api/v1/runway/generate", 10),
    ({"model": "kling-2.6/text-to-video", "sound": True}, "/api/v1/jobs/createTask", 10),
    ({"model": "kling-3.0/video", "mode": "pro"}, "/api/v1/jobs/createTask", 7),
])
@pytest.mark.parametrize("scenario", ["success", "moderation"])
async def test_kie_makes_each_family_through_its_own_api(params: dict[str, Any], path: str, seconds: float,
                                                         scenario: str, clip: Path, tmp_path: Path) -> None:
    """Veo, Runway and Kling behind one KIE key: three create and record endpoints, three spellings of a state."""
    fake = FakeKie(clip, scenario)
    provider = build("kie", await fake.start(), **params)
    assert provider.misconfigured() is None
    try:
        run = await drive(provider, request_for(tmp_path, seconds), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    assert [line for line in fake.requests if line.startswith("POST")] == [f"POST {path}"]
    [task] = fake.tasks.values()
    if path.endswith("createTask"):
        assert task.body["input"]["duration"] == str(int(seconds)), "Market lengths are strings"
    if scenario == "moderation":
        assert run.error is not None and run.error.error_class == "content_violation", run.error
        return
    assert run.error is None and run.video is not None and run.video.read_bytes() == clip.read_bytes(), run.error


async def test_kie_charges_what_the_market_task_consumed(clip: Path, tmp_path: Path) -> None:
    fake = FakeKie(clip, "success")
    provider = build("kie", await fake.start(), model="kling-2.6/text-to-video")
    status = await finished(provider, request_for(tmp_path, 10), fake)
    assert status.cost_usd == pytest.approx(110 * 0.005), "creditsConsumed at $0.005 a credit"
    assert provider.estimate_cost(request_for(tmp_path, 10)) == pytest.approx(0.55)


@pytest.mark.parametrize(("scenario", "error_class"), [("success", None), ("moderation", "content_violation"),
                                                       ("credits", "billing"), ("rate_limit", "rate_limit"),
                                                       ("bad_key", "auth"), ("malformed", "temporary")])
async def test_minimax_h3_makes_portrait_reels_through_the_v2_api(scenario: str, error_class: str | None, clip: Path,
                                                                   tmp_path: Path) -> None:
    """H3 makes 9:16 natively (Hailuo's v1 models are landscape only) and fails the v2 way: real HTTP codes."""
    fake = FakeMinimax(clip, scenario)
    provider = build("minimax", await fake.start(), model="MiniMax-H3", resolution="768P",
                     letterbox_to_portrait=False)
    assert provider.cannot_make(request_for(tmp_path, 12)) is None, "one 12 s task, in portrait"
    try:
        run = await drive(provider, request_for(tmp_path, 12), tmp_path / "out.mp4")
    finally:
        await fake.stop()
    if error_class is None:
        assert run.error is None and run.video is not None and run.video.read_bytes() == clip.read_bytes(), run.error
        [task] = fake.tasks.values()
        assert (task.body["ratio"], task.body["duration"], task.body["content"]) == (
            "9:16", 12, [{"type": "text", "text": request_for(tmp_path).brief.visual_prompt}])
    else:
        assert run.error is not None and run.error.error_class == error_class, run.error
        assert run.error.ambiguous == (scenario == "malformed")
    assert build("minimax", model="MiniMax-H3", resolution="1080P").misconfigured() == \
        "MiniMax-H3 makes 768P, 2K, not 1080P"
