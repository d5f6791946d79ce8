"""The generator's failover and money handling, with stand-in providers that return synthetic clips."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from content.briefs.brief import BriefBuilder
from content.media.ffmpeg import ProgressCallback
from content.providers import GenerationRequest, TaskStatus, VideoProvider
from content.providers.contract import NoParams
from core.engine import queue
from core.engine.ledger import Ledger
from core.engine.runner import JobRunner
from core.errors import MediaError, ProviderError
from core.home import Home
from core.schema import attempts, cost_ledger
from core.secrets import Secrets
from core.storage import Database
from tests.conftest import claim, edit_json, generate_and_wait, make_clip, settings_for
from trends.file_source import read_trend_folder
from trends.store import save_trends, unused_trends


class ClipProvider(VideoProvider):
    """Returns a copy of a prepared clip, or fails, at a set price."""

    type_name = "local"

    def __init__(self, name: str, clip: Path | None, price: float) -> None:
        super().__init__(name, NoParams(), Secrets({}))
        self.clip, self.price, self.calls = clip, price, 0

    def estimate_cost(self, request: GenerationRequest) -> float:
        return self.price

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        self.calls += 1
        if self.clip is None:
            raise ProviderError(f"{self.name}: service unavailable", "temporary")
        return "task-1"

    async def poll(self, task_id: str) -> TaskStatus:
        return TaskStatus("succeeded", 1.0, self.price)

    async def download(self, task_id: str, destination: Path) -> Path:
        assert self.clip is not None
        shutil.copy(self.clip, destination)
        return destination


@pytest.fixture
async def setup(home: Home, tmp_path: Path):
    def providers(d):
        d["video_generation"]["providers"] = {"first": {"type": "local", "priority": 1},
                                              "second": {"type": "local", "priority": 2}}
        d["video_generation"]["default_provider"] = "first"
        d["video_generation"]["budget"]["per_video_limit_usd"] = 2.0
        d["video_generation"]["retry"] = {"max_retries": 1, "backoff_base_s": 0}

    edit_json(home.video_config_file, providers)
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    await save_trends(db, read_trend_folder(home.data_dir / "trends"))
    trend_id, trend = (await unused_trends(db))[0]
    account = next(a for a in settings.app.accounts if trend.theme in a.niches)
    brief = BriefBuilder().build(trend, account, settings.app.content)
    await queue.enqueue(db, trend_id, trend.dedup_key, brief, "instagram_reels")
    job = await claim(db, "test-worker", 60)

    def generator(first: ClipProvider, second: ClipProvider) -> JobRunner:
        ledger = Ledger(db, settings.video.budget)
        return JobRunner(home, settings, ledger, {"first": first, "second": second})

    yield db, job, generator, tmp_path
    await db.close()


async def ledger_kinds(db: Database) -> list[tuple[str, str, float]]:
    rows = await db.fetch_all(select(cost_ledger).order_by(cost_ledger.c.id))
    return [(r.provider, r.kind, r.amount_usd) for r in rows]


@pytest.mark.slow
async def test_fails_over_to_the_next_provider(setup) -> None:
    db, job, generator, tmp = setup
    first, second = ClipProvider("first", None, 0.5), ClipProvider("second", make_clip(tmp / "a.mp4"), 0.75)
    made = generator(first, second)
    steps: list[str] = []
    advance = made.ledger.advance

    async def record(attempt, state, guard=None, **fields):  # every state is written before its step is taken
        steps.append(state)
        await advance(attempt, state, guard, **fields)

    made.ledger.advance = record  # type: ignore[method-assign]
    outcome = await made.run(job)
    assert outcome.status == "done" and outcome.provider == "second" and outcome.cost_usd == 0.75
    assert outcome.path and outcome.path.exists() and outcome.thumbnail and outcome.thumbnail.exists()
    states = [(r.provider, r.state) for r in await db.fetch_all(select(attempts).order_by(attempts.c.id))]
    assert steps == ["submitting", "submitting", "submitting", "submitted", "polling", "downloading", "optimizing"]
    assert states == [("first", "failed"), ("second", "done")]
    assert first.calls == 2, "a temporary error is retried once (max_retries 1) before failing over"
    assert await ledger_kinds(db) == [("first", "reserve", 0.5), ("first", "release", -0.5),
                                      ("second", "reserve", 0.75), ("second", "release", -0.75),
                                      ("second", "charge", 0.75)]


async def test_over_the_cap_nothing_is_called_and_the_job_waits(setup) -> None:
    db, job, generator, tmp = setup
    first, second = ClipProvider("first", make_clip(tmp / "a.mp4"), 3.0), ClipProvider("second", None, 2.5)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "waiting_budget"
    assert first.calls == second.calls == 0
    assert await ledger_kinds(db) == []


async def test_an_unusable_delivery_is_charged_once_and_not_paid_again_elsewhere(setup) -> None:
    db, job, generator, tmp = setup
    too_short = make_clip(tmp / "short.mp4", seconds=1)
    first, second = ClipProvider("first", too_short, 0.5), ClipProvider("second", make_clip(tmp / "b.mp4"), 0.5)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "failed" and "outside instagram_reels" in (outcome.error or "")
    assert second.calls == 0
    assert sum(amount for _, _, amount in await ledger_kinds(db)) == pytest.approx(0.5)
    assert not [path for path in Home.at(tmp).work_dir.rglob("*") if path.is_file()], "the download is not kept"


class LostDownload(ClipProvider):
    """The task succeeds (and is billed), but its video cannot be fetched."""

    async def download(self, task_id: str, destination: Path) -> Path:
        raise ProviderError(f"{self.name}: the download kept breaking off", "temporary")


async def test_a_paid_video_that_cannot_be_downloaded_is_charged_and_not_paid_again_elsewhere(setup) -> None:
    db, job, generator, tmp = setup
    first, second = LostDownload("first", make_clip(tmp / "a.mp4"), 0.5), ClipProvider("second", None, 0.5)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "failed" and "download kept breaking off" in (outcome.error or "")
    assert second.calls == 0
    assert await ledger_kinds(db) == [("first", "reserve", 0.5), ("first", "release", -0.5), ("first", "charge", 0.5)]


class TimeoutOnCreate(ClipProvider):
    """The create call reaches the provider, but the answer is lost (a timeout): the task exists all the same."""

    def __init__(self, name: str, clip: Path, price: float, can_look_up: bool) -> None:
        super().__init__(name, clip, price)
        self.can_find_tasks = can_look_up
        self.created: dict[str, str] = {}

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        self.calls += 1
        self.created[idempotency_key] = f"task-{self.calls}"
        raise ProviderError(f"{self.name}: timed out waiting for the create call", "temporary", ambiguous=True)

    async def find_task(self, idempotency_key: str) -> str | None:
        return self.created.get(idempotency_key) if self.can_find_tasks else None


class LookupDown(TimeoutOnCreate):
    """The create's answer is lost, and the lookup that should settle it fails too."""

    async def find_task(self, idempotency_key: str) -> str | None:
        raise ProviderError(f"{self.name}: HTTP 503", "temporary")


@pytest.mark.slow
async def test_an_ambiguous_create_whose_lookup_fails_counts_as_spent(setup) -> None:
    db, job, generator, tmp = setup
    first = LookupDown("first", make_clip(tmp / "a.mp4"), 0.5, can_look_up=True)
    second = ClipProvider("second", make_clip(tmp / "b.mp4"), 0.75)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "done" and outcome.provider == "second"
    assert first.calls == 1, "never re-sent while nobody knows whether it was made"
    assert ("first", "charge", 0.5) in await ledger_kinds(db)


@pytest.mark.slow
async def test_an_ambiguous_create_is_found_by_its_key_not_sent_again(setup) -> None:
    db, job, generator, tmp = setup
    first = TimeoutOnCreate("first", make_clip(tmp / "a.mp4"), 0.5, can_look_up=True)
    second = ClipProvider("second", make_clip(tmp / "b.mp4"), 0.5)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "done" and outcome.provider == "first"
    assert first.calls == 1 and second.calls == 0, "found the task the timed-out call created; no second create"
    assert await ledger_kinds(db) == [("first", "reserve", 0.5), ("first", "release", -0.5),
                                      ("first", "charge", 0.5)]


@pytest.mark.slow
async def test_an_ambiguous_create_that_cannot_be_looked_up_counts_as_spent(setup) -> None:
    db, job, generator, tmp = setup
    first = TimeoutOnCreate("first", make_clip(tmp / "a.mp4"), 0.5, can_look_up=False)
    second = ClipProvider("second", make_clip(tmp / "b.mp4"), 0.75)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "done" and outcome.provider == "second"
    assert first.calls == 1, "never re-sent: it may have been created and billed"
    assert await ledger_kinds(db) == [("first", "reserve", 0.5), ("first", "release", -0.5),
                                      ("first", "charge", 0.5), ("second", "reserve", 0.75),
                                      ("second", "release", -0.75), ("second", "charge", 0.75)]


class FailsWith(ClipProvider):
    def __init__(self, name: str, error_class: str) -> None:
        super().__init__(name, None, 0.5)
        self.error_class = error_class

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        self.calls += 1
        raise ProviderError(f"{self.name}: {self.error_class}", self.error_class)


@pytest.mark.slow
@pytest.mark.parametrize(("error_class", "calls"), [("unknown", 2), ("invalid_request", 1), ("auth", 1)])
async def test_each_error_class_gets_its_retries_then_fails_over(setup, error_class: str, calls: int) -> None:
    db, job, generator, tmp = setup
    first, second = FailsWith("first", error_class), ClipProvider("second", make_clip(tmp / "b.mp4"), 0.5)
    outcome = await generator(first, second).run(job)
    assert outcome.status == "done" and outcome.provider == "second"
    assert first.calls == calls
    rows = await db.fetch_all(select(attempts.c.provider, attempts.c.error_class).order_by(attempts.c.id))
    assert [tuple(r) for r in rows] == [("first", error_class), ("second", None)]


@pytest.mark.slow
async def test_a_delivered_video_has_its_post_beside_it(home: Home) -> None:
    outcome, _ = await generate_and_wait(home, "Three stretches for desk workers", 5)
    assert outcome.status == "done" and outcome.path is not None
    post = json.loads(outcome.path.with_suffix(".json").read_text(encoding="utf-8"))
    assert post["video"] == outcome.path.name
    assert (post["topic"], post["account"], post["provider"]) == ("Three stretches for desk workers", "mia_moves",
                                                                  "local")
    assert post["cost_usd"] == outcome.cost_usd and "miamoves" in post["hashtags"]
    assert post["caption"].splitlines()[0].endswith("Three stretches for desk workers")  # the hook opens it
    text = outcome.path.with_suffix(".txt").read_text(encoding="utf-8")
    assert text.startswith(post["caption"] + "\n\n#") and "#miamoves" in text
    assert "account: mia_moves" in text and "provider: local" in text and "cost: $" in text
    assert not list(outcome.path.parent.glob(".*"))  # no partial file left


@pytest.mark.slow
async def test_a_delivery_that_fails_at_its_last_step_leaves_no_file(home: Home,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_sheet(video: Path, duration_s: float) -> Path:
        raise MediaError("the disk is full")

    monkeypatch.setattr("core.engine.runner.contact_sheet", no_sheet)
    outcome, _ = await generate_and_wait(home, "Three stretches for desk workers", 5)
    assert outcome.status == "failed" and "the disk is full" in (outcome.error or "")
    assert [path for path in home.videos_dir.rglob("*") if path.is_file()] == []
