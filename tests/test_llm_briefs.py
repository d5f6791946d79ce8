"""LLM briefs through the real `openai` client against a loopback OpenAI-compatible server, with the template brief
as the fallback for every failure; and the prompt policy in front of paid providers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from content.briefs.brief import BriefBuilder
from content.briefs.llm import BriefWriter
from content.briefs.prompt_policy import PromptReview, fit_prompt
from core.home import Home
from core.schema import llm_briefs, prompt_outcomes
from core.secrets import Secrets
from core.settings import LlmSettings, PromptPolicy
from core.storage import Database, utcnow
from tests.conftest import edit_json, generate_and_wait, settings_for
from tests.fakes.openai_compat import KEY, FakeChatApi
from trends.models import Trend

TREND = Trend(caption="Marathon training tip: your long run should feel easy. Slow down.", theme="fitness",
              hashtags=["running"], likes=48_000, timestamp=utcnow(), source="instagram")


async def write_brief(home: Home, db: Database, server: FakeChatApi, secrets: Secrets | None = None,
                      timeout_s: float = 5.0):
    settings = settings_for(home)
    account = settings.app.accounts[0]
    draft = BriefBuilder().build(TREND, account, settings.app.content)
    llm = LlmSettings(enabled=True, base_url=f"{server.url}/v1", model="llama3.1-8b", timeout_s=timeout_s)
    writer = BriefWriter(llm, secrets or Secrets({"OPENAI_API_KEY": KEY}), db)
    try:
        return draft, await writer.improve(draft, TREND, account, settings.app.content.prompt_style, ["halfmarathon"])
    finally:
        await writer.close()


async def test_a_valid_answer_becomes_the_brief_and_is_never_paid_twice(home: Home, db: Database) -> None:
    server = FakeChatApi("valid")
    await server.start()
    try:
        draft, brief = await write_brief(home, db, server)
        _, again = await write_brief(home, db, server)  # a restart: a new writer, the same database
    finally:
        await server.stop()
    assert brief.written_by == "llm" and brief.hook == f"The truth about {TREND.topic.lower()}"
    assert len(brief.beats) == 3 and len(brief.scene_prompts) == 3
    assert brief.scene_prompts[0] in brief.visual_prompt and brief.caption.startswith("What nobody tells you")
    assert brief.hashtags[:3] == ["running", "marathontraining", "fitness"] and "halfmarathon" in brief.hashtags
    assert (brief.topic, brief.duration_s, brief.account) == (draft.topic, draft.duration_s, draft.account)
    request = server.calls[0]
    assert request["model"] == "llama3.1-8b" and request["response_format"] == {"type": "json_object"}
    assert len(server.calls) == 1 and again == brief
    assert len(await db.fetch_all(select(llm_briefs))) == 1


@pytest.mark.slow
@pytest.mark.parametrize("scenario, reason", [("malformed", "not a valid brief"), ("refusal", "the model refused"),
                                              ("rate_limit", "rate limited (429)"), ("slow", "timed out after 1 s")])
async def test_every_failure_falls_back_to_the_template(home: Home, db: Database, caplog_loguru, scenario: str,
                                                        reason: str) -> None:
    server = FakeChatApi(scenario, slow_s=3)
    await server.start()
    try:
        draft, brief = await write_brief(home, db, server, timeout_s=1)
    finally:
        await server.stop()
    assert brief == draft and brief.written_by == "template"
    assert len(server.calls) == 1  # no client-side retries
    assert any(reason in line and "template brief is used" in line for line in caplog_loguru.lines)
    assert await db.fetch_all(select(llm_briefs)) == []  # a failure is not cached: the next cycle asks again


async def test_no_key_means_template_briefs_without_a_call(home: Home, db: Database, caplog_loguru) -> None:
    server = FakeChatApi("valid")
    await server.start()
    try:
        draft, brief = await write_brief(home, db, server, secrets=Secrets({}))
    finally:
        await server.stop()
    assert brief == draft and server.calls == []
    assert any("OPENAI_API_KEY is not set" in line for line in caplog_loguru.lines)


def test_policy_rewrites_people_and_brands_and_rejects_minors_and_banned_terms() -> None:
    review = PromptReview(PromptPolicy(banned_terms=["gore"], real_people=["Taylor Swift"], brands=["Nike"]))
    rewritten = review.review("Taylor Swift jogging in NIKE shoes at dawn")
    assert rewritten.outcome == "rewritten"
    assert rewritten.prompt == "a person jogging in a product shoes at dawn"
    assert review.review("Two kids playing football").rejected
    assert review.review("A gore scene").notes == ["banned term 'gore'"]
    assert review.review("Kidney beans in a bowl").outcome == "passed"  # whole words only
    allow = PromptReview(PromptPolicy(minors_action="allow"))
    assert allow.review("Two kids playing football").outcome == "passed"


def test_prompts_are_cut_at_a_word_boundary_to_the_providers_limit() -> None:
    assert fit_prompt("one two three four", 12) == "one two"
    assert fit_prompt("short", 1000) == "short"
    assert fit_prompt("x" * 50, 10) == "x" * 10


async def test_a_rejected_prompt_reaches_no_paid_provider_and_is_recorded(home: Home) -> None:
    """The simulated provider stands in for a paid one; the free local renderer may still make the video."""
    edit_json(home.video_config_file, lambda c: c["video_generation"].update(
        default_provider="sim", fallback_providers=["local"],
        providers={"sim": {"type": "simulated", "params": {"latency_s": 0.1}},
                   "local": {"type": "local", "params": {"preset": "ultrafast", "crf": 23}}}))
    outcome, rows = await generate_and_wait(home, "Teen runners sprinting on a track", 5, then=select(prompt_outcomes))
    assert outcome.status == "done" and outcome.provider == "local"
    assert not (home.data_dir / "simulated_submissions.jsonl").exists()  # the paid stand-in never saw it
    (row,) = rows
    assert (row.job_id, row.verdict, row.outcome, row.provider) == (outcome.job_id, "rejected", "done", "local")
    assert row.policy_notes == "minors 'teen'" and row.theme == "fitness"
