"""Numbers from outside are bounded (issue 17 §2): a Retry-After, a poll hint, a progress or a charge of `inf`, `nan`,
`1e20`, a negative or garbage becomes a sane number (or none), never a crash or an endless wait."""
from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.providers import TaskStatus
from core.bounds import MAX_WAIT_S, as_number, retry_after
from core.errors import ProviderError
from core.home import Home
from core.progress import NullProgress
from core.schema import provider_state
from core.secrets import Secrets
from core.storage import Database, as_utc, database_url, utcnow
from tests.conftest import daemon_for, settings_for
from tests.fakes.runway import FakeRunway
from tests.fakes.sora import FakeSora
from tests.test_providers import build, configure, keys, request_for

FAR_FUTURE = "Fri, 31 Dec 9999 23:59:59 GMT"


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"Retry-After": "inf"}, MAX_WAIT_S), ({"Retry-After": "1e20"}, MAX_WAIT_S), ({"Retry-After": "-5"}, 0.0),
    ({"Retry-After": "nan"}, None), ({"Retry-After": "½ a minute"}, None), ({"Retry-After": FAR_FUTURE}, MAX_WAIT_S),
    ({"retry-after-ms": "inf"}, MAX_WAIT_S), ({"retry-after-ms": "1e20"}, MAX_WAIT_S),
    ({"retry-after-ms": "-5"}, 0.0), ({"retry-after-ms": "nan"}, None),
    ({"retry-after-ms": "soon", "Retry-After": "3"}, 3.0)])
def test_a_poison_retry_after_is_a_bounded_wait(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(headers) == seconds


def test_the_contract_bounds_every_number_a_provider_hands_the_engine() -> None:
    """Whatever an adapter (or a plugin) reads from an answer, the engine gets it within range."""
    assert [ProviderError("x", "rate_limit", retry_after_s=s).retry_after_s
            for s in (math.inf, 1e20, -1.0, math.nan, 30.0)] == [MAX_WAIT_S, MAX_WAIT_S, 0.0, None, 30.0]
    assert [TaskStatus("running", progress=p).progress for p in (math.inf, -0.5, 7.0, math.nan, 0.4)] == \
        [1.0, 0.0, 1.0, None, 0.4]
    assert [TaskStatus("running", poll_after_s=s).poll_after_s for s in (math.inf, -3.0, math.nan)] == \
        [MAX_WAIT_S, 0.0, None]
    assert [TaskStatus("succeeded", cost_usd=c).cost_usd for c in (math.inf, -2.0, math.nan, 1.25)] == \
        [None, None, None, 1.25], "an impossible charge is ignored: the estimate counts"
    assert [as_number(v) for v in (10 ** 400, True, "5", 5)] == [None, None, None, 5.0]


@pytest.mark.parametrize(("hint", "seconds"), [("inf", MAX_WAIT_S), ("1e20", MAX_WAIT_S), ("soon", None)])
async def test_a_poison_poll_hint_neither_crashes_nor_stalls_polling(hint: str, seconds: float | None,
                                                                     clip: Path, tmp_path: Path) -> None:  # noqa: F811
    fake = FakeSora(clip, "slow")
    fake.answer_headers = {"openai-poll-after-ms": hint}
    provider = build("sora", await fake.start())
    try:
        task_id = await provider.submit(request_for(tmp_path), "job1-attempt1")
        status = await provider.poll(task_id)
    finally:
        await provider.close()
        await fake.stop()
    assert status.state == "running" and status.poll_after_s == seconds


async def test_a_retry_after_of_inf_pauses_the_provider_for_the_bound_and_the_job_goes_on(
        home: Home, clip: Path) -> None:  # noqa: F811
    limited, working = FakeRunway(clip, "rate_limit"), FakeRunway(clip, "success")
    limited.answer_headers = {"Retry-After": "inf"}
    configure(home, {"limited": ("runway", await limited.start()), "working": ("runway", await working.start())})
    db = await Database.open(database_url(home, Secrets({})))
    daemon = daemon_for(home, settings_for(home), db, Secrets(keys("runway")))
    try:
        job_id = await daemon.planner.enqueue_prompt("Morning light over a quiet harbour", None, 0, "standard", 5)
        before = utcnow()
        outcome = await daemon.worker.run_job(job_id, NullProgress())  # waits through the pause, on to the fallback
        after = utcnow()
        paused = await db.fetch_all(select(provider_state.c.paused_until).where(provider_state.c.provider == "limited"))
    finally:
        await daemon.close()
        await db.close()
        await limited.stop()
        await working.stop()
    bound = timedelta(seconds=MAX_WAIT_S)
    assert before + bound <= as_utc(paused[0].paused_until) <= after + bound
    assert outcome.status == "done" and outcome.provider == "working", outcome.error
