"""The issue's two promises, end to end: with every network source failing, a cycle still makes videos from the file
source and its report lists the failures; with the fakes up, the ranked list merges sources and briefs come from the
LLM."""
from __future__ import annotations

import json
import pickle
import socket

import pytest
from sqlalchemy import select

from core.home import Home
from core.schema import briefs, video_jobs
from core.secrets import Secrets
from core.storage import Database
from tests.conftest import daemon_for, edit_json, run_cli, settings_for
from tests.fakes.feeds import FeedServer
from tests.fakes.instagram import FakeInstagram, route_instaloader, session_cookies
from tests.fakes.openai_compat import KEY, FakeChatApi


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def enable_sources(home: Home, feeds_url: str, llm_url: str | None = None) -> None:
    def change(config: dict) -> None:
        sources = config["trends"]["sources"]
        sources["google_trends_rss"].update(enabled=True, url=f"{feeds_url}/trending/rss", regions=["US"],
                                            timeout_s=5)
        sources["rss"].update(enabled=True, feeds=[{"url": f"{feeds_url}/feeds/fitness_blog.xml",
                                                    "theme": "fitness"}], timeout_s=5)
        sources["instagram"].update(enabled=True, hashtags=["running"], username="scraper_bot", polite_sleep=False,
                                    max_wait_s=1, timeout_s=30)
        config["trends"]["top_n"] = 1
        config["content"]["default_duration_s"] = 5
        if llm_url:
            config["briefs"]["llm"].update(enabled=True, base_url=f"{llm_url}/v1", model="qwen2.5-7b-instruct")

    edit_json(home.config_file, change)


@pytest.mark.slow
def test_with_every_network_source_down_the_cycle_still_makes_videos(home: Home) -> None:
    enable_sources(home, f"http://127.0.0.1:{closed_port()}")
    result = run_cli(home.root, "once", "--json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert len(output["videos"]) == 1 and output["failed"] == []
    report = json.loads((home.reports_dir / output["report"].split("/")[-2] / "report.json").read_text())
    failed = {run["source"]: run["error"] for run in report["trend_source_failures"]}
    assert set(failed) == {"google_trends_rss", "rss", "instagram"}
    assert "ClientConnectorError" in failed["google_trends_rss"] and "no session" in failed["instagram"]
    html = (home.reports_dir / output["report"].split("/")[-2] / "report.html").read_text()
    assert "Trend sources that failed" in html and "google_trends_rss" in html
    assert "traceback" not in result.stderr.lower()


async def test_with_the_fakes_up_sources_merge_and_the_llm_writes_the_briefs(home: Home,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    feeds, instagram, llm = FeedServer(), FakeInstagram(), FakeChatApi("valid")
    route_instaloader(monkeypatch, await instagram.start())
    enable_sources(home, await feeds.start(), await llm.start())
    (home.data_dir / "instagram.session").write_bytes(pickle.dumps(session_cookies()))
    settings = settings_for(home)
    db = await Database.open(f"sqlite:///{home.database_file}")
    daemon = daemon_for(home, settings, db, Secrets({"OPENAI_API_KEY": KEY}))
    try:
        collection = await daemon.planner.collect_trends()
        candidates = await daemon.planner.candidates()
        planned = await daemon.planner.plan_batch()
        rows = await db.fetch_all(select(briefs.c.content).join(video_jobs, video_jobs.c.brief_id == briefs.c.id))
    finally:
        await daemon.close()
        await db.close()
        for server in (feeds, instagram, llm):
            await server.stop()
    assert all(run.ok for run in collection.runs) and len(collection.runs) == 4
    best = candidates[0]
    assert set(best.trend.sources) >= {"google_trends_rss", "rss", "instagram"}
    assert best.factors.agreement >= 3 and best.account is not None and best.account.name == "mia_moves"
    assert len(planned) == 1 and rows[0].content["written_by"] == "llm"
    assert rows[0].content["topic"] == best.trend.topic and len(llm.calls) == 1
    assert (home.data_dir / "reports" / "trends").is_dir()
