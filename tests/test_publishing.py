"""Publishing a finished Reel as a user does (`approve`, `publish`, `posts`, `enable`, `insights pull`, `cleanup`):
to Instagram against the Graph API's fake (tests/fakes/instagram_graph.py), which fetches the video from its
presigned link on moto's S3 server, and to YouTube against the Data API's (tests/fakes/youtube.py). The post is made
once, whatever fails — the quota, a rate limit, the token, an expired container, a cut upload — and whenever the
process is killed."""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import update

from content.publishers.contract import ContainerState, PublishError, Reel
from content.publishers.tiktok import CHUNK, TikTokPublisher
from core.daemon.cli import init_home
from core.engine.publishing import Publishing
from core.home import Home
from core.schema import posts, video_jobs
from core.secrets import Secrets
from core.settings import TikTokPublishing
from core.storage import Database, as_utc, database_url, utcnow
from tests.conftest import (
    DIALECTS,
    ROOT,
    daemon_for,
    edit_json,
    fresh_database,
    run_cli,
    settings_for,
    unnarrated,
)
from tests.fakes import tiktok
from tests.fakes.instagram_graph import TOKEN, USER_ID, FakeGraph
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube
from tests.test_providers import cli

S3_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAFAKEID1234", "AWS_SECRET_ACCESS_KEY": "fake-secret-access-key-789"}
ACCOUNT = "mia_moves"  # the sample config's first persona: `generate` makes its videos


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one finished Reel (rendered once for the module; each test works on a copy of the home)."""
    root = tmp_path_factory.mktemp("rendered")
    with contextlib.redirect_stdout(io.StringIO()):
        assert init_home(Home.at(root)) == 0
    edit_json(Home.at(root).video_config_file, lambda d: d["video_generation"]["providers"]["local"].setdefault(
        "params", {}).update(preset="ultrafast"))
    edit_json(Home.at(root).config_file, unnarrated)
    made = run_cli(root, "generate", "Three stretches for stiff shoulders", "--duration", "5", "--wait", "--json")
    assert made.returncode == 0, made.stderr
    return root


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server on loopback (a real implementation of the protocol, from PyPI)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def ready(rendered: Path, tmp_path: Path, s3: str, graph: FakeGraph) -> Home:
    """A copy of the rendered home whose persona publishes to Instagram (the fake), its videos hosted on S3."""
    home = Home.at(shutil.copytree(rendered, tmp_path / "home"))
    bucket = f"reels-{uuid.uuid4().hex[:10]}"
    s3_client(s3).create_bucket(Bucket=bucket)

    def publish_to_the_fake(data: dict) -> None:  # type: ignore[type-arg]
        data["accounts"][0]["publishing"] = {"instagram": {"enabled": True, "user_id": USER_ID,
                                                           "base_url": graph.url, "poll_interval_s": 0.05}}
        data["media_hosting"] = {"bucket": bucket, "endpoint_url": s3}

    edit_json(home.config_file, publish_to_the_fake)
    edit_json(home.video_config_file, lambda d: d["video_generation"].update(lease_s=3))
    home.env_file.write_text("".join(f"{k}={v}\n" for k, v in {"INSTAGRAM_ACCESS_TOKEN": TOKEN, **S3_KEYS}.items()))
    return home


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["ok", "cut_upload"])
async def test_with_facebook_login_the_file_itself_is_sent_to_meta_and_posted_once_without_hosting(
        rendered: Path, tmp_path: Path, graph: FakeGraph, scenario: str) -> None:
    """upload "direct": no media hosting; the container is resumable and the file goes to its upload URI. An upload
    cut off is tried again on a new container; the one left unuploaded is never posted."""
    graph.scenario = scenario
    home = Home.at(shutil.copytree(rendered, tmp_path / "home"))
    edit_json(home.config_file, lambda d: d["accounts"][0].update(publishing={"instagram": {
        "enabled": True, "login": "facebook", "upload": "direct", "user_id": USER_ID, "base_url": graph.url,
        "poll_interval_s": 0.05}}))
    home.env_file.write_text(f"INSTAGRAM_ACCESS_TOKEN={TOKEN}\n")
    code, out, err = await cli(home, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    [media] = graph.media
    assert post["state"] == "published" and post["media_id"] == media["id"] and graph.publish_calls == 1
    video = next((home.data_dir / "videos" / ACCOUNT).glob("*.mp4"))
    published = graph.containers[media["container"]]
    assert published.video_size == video.stat().st_size and published.ai_generated
    assert graph.uploads == (2 if scenario == "cut_upload" else 1)
    assert len(graph.containers) == graph.uploads, "a cut upload's container is left, unposted"
    assert not any(request.startswith("GET /reels") for request in graph.requests)
    assert_no_secret_written(home, out, err)


def test_direct_upload_needs_facebook_login(home: Home, cli_in_process: Any) -> None:
    edit_json(home.config_file, lambda d: d["accounts"][0]["publishing"].update(instagram={
        "enabled": True, "upload": "direct"}))
    made = cli_in_process(home.root, "config", "check")
    assert made.returncode == 2 and "Facebook Login only" in made.stderr and "Traceback" not in made.stderr


def s3_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"])


def stored(home: Home) -> list[str]:
    hosting = json.loads(home.config_file.read_text())["media_hosting"]
    listed = s3_client(hosting["endpoint_url"]).list_objects_v2(Bucket=hosting["bucket"])
    return [item["Key"] for item in listed.get("Contents", [])]


async def db_write(home: Home, statement: Any) -> None:
    db = await Database.open(database_url(home, Secrets.load(home.env_file)))
    try:
        await db.write((statement, {}))
    finally:
        await db.close()


async def posts_of(home: Home) -> list[dict]:  # type: ignore[type-arg]
    code, out, err = await cli(home, "posts", "--json", env={})
    assert code == 0, err
    return list(json.loads(out)["posts"])


def assert_no_secret_written(home: Home, *outputs: str) -> None:
    written = "".join(path.read_text(errors="replace") for path in home.logs_dir.rglob("*") if path.is_file())
    for secret in (TOKEN, S3_KEYS["AWS_SECRET_ACCESS_KEY"]):
        assert secret not in written and not any(secret in output for output in outputs)


@pytest.mark.slow
async def test_publish_posts_the_reel_once_from_its_hosted_file_with_caption_cover_and_ai_label(
        ready: Home, graph: FakeGraph) -> None:
    code, out, err = await cli(ready, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    assert post["state"] == "published" and post["platform"] == "instagram"
    assert len(graph.media) == 1 and post["media_id"] == graph.media[0]["id"]
    assert post["permalink"] == graph.media[0]["permalink"]
    [container] = graph.containers.values()
    sidecar = json.loads(next((ready.data_dir / "videos" / ACCOUNT).glob("*.json")).read_text())
    assert container.caption.startswith(sidecar["caption"])
    assert container.caption.endswith(" ".join(f"#{tag}" for tag in sidecar["hashtags"]))
    assert container.ai_generated and container.share_to_feed and container.cover_url
    video = next((ready.data_dir / "videos" / ACCOUNT).glob("*.mp4"))
    assert container.video_size == video.stat().st_size, "Meta fetched the whole file from its link"
    assert sorted(stored(ready)) == ["reels/1-instagram.jpg", "reels/1-instagram.mp4"]

    again_code, again, again_err = await cli(ready, "publish", "1", "--json", env={})
    assert again_code == 0, again_err
    assert json.loads(again)["posts"] == [post], "a published video is not posted again"
    assert graph.publish_calls == 1 and len(graph.containers) == 1
    assert [p["state"] for p in await posts_of(ready)] == ["published"]
    assert_no_secret_written(ready, out, err, again, again_err)


@pytest.mark.slow
async def test_approve_schedules_at_the_personas_next_slot_and_calls_nothing(ready: Home, graph: FakeGraph) -> None:
    edit_json(ready.config_file, lambda d: d["accounts"][0]["publishing"].update(slots=["06:30", "21:15"]))
    code, out, err = await cli(ready, "approve", "1", env={})
    assert code == 0, err
    [post] = await posts_of(ready)
    when = datetime.fromisoformat(post["not_before"])
    assert post["state"] == "scheduled" and (when.hour, when.minute) in ((6, 30), (21, 15))  # schedule.timezone UTC
    assert (when - datetime.now(when.tzinfo)).total_seconds() < 86_400
    assert "scheduled for" in out and graph.requests == []
    code, _, err = await cli(ready, "approve", "2", env={})
    assert code == 2 and err == "error: no job 2\n"


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["expire_first", "rate_limit"])
async def test_an_expired_container_or_a_rate_limit_still_makes_exactly_one_post(
        ready: Home, graph: FakeGraph, scenario: str) -> None:
    graph.scenario = scenario
    code, out, err = await cli(ready, "publish", "1", "--timeout", "60", env={})
    assert code == 0, err
    assert len(graph.media) == 1 and graph.publish_calls == 1
    assert len(graph.containers) == (2 if scenario == "expire_first" else 1)
    assert "published on instagram" in out


@pytest.mark.slow
async def test_the_51st_post_of_a_day_waits_for_the_window_and_is_posted_when_it_rolls(
        ready: Home, graph: FakeGraph) -> None:
    graph.seed_posts(50, age_s=20 * 3600)  # today's 50: the quota content_publishing_limit reports is full
    code, _, err = await cli(ready, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and "50 of 50 posts in 24 h used" in err.splitlines()[-1], err
    assert graph.containers == {} and len(graph.media) == 50, "nothing handed to Meta while the quota is full"
    [post] = await posts_of(ready)
    wait = (datetime.fromisoformat(post["not_before"]) - datetime.now(timezone.utc)).total_seconds()
    assert post["state"] == "scheduled" and 3000 < wait <= 3600, "it looks again in an hour"
    for media in graph.media:
        media["published_at"] -= 5 * 3600  # the window rolls past them
    code, _, err = await cli(ready, "enable", "instagram:mia_moves", env={})  # rather than wait the hour
    assert code == 0, err
    code, _, err = await cli(ready, "publish", "1", env={})
    assert code == 0, err
    assert len(graph.media) == 51 and graph.publish_calls == 1


@pytest.mark.slow
@pytest.mark.parametrize("scenario, says", [
    ("garbage_usage_header", "Application request limit reached"),  # an unreadable wait: the default pause
    ("cannot_process", "could not process the video"),
])
async def test_what_cannot_be_posted_now_waits_or_fails_alone_with_one_line(
        ready: Home, graph: FakeGraph, scenario: str, says: str) -> None:
    graph.scenario = scenario
    code, _, err = await cli(ready, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and says in err.splitlines()[-1] and "Traceback" not in err, err  # the last line sums it up
    [post] = await posts_of(ready)
    assert post["state"] == ("failed" if scenario == "cannot_process" else "scheduled")
    assert graph.media == [] and graph.publish_calls == 0


@pytest.mark.slow
@pytest.mark.parametrize("scenario, says", [("bad_token", "Invalid OAuth access token"),
                                            ("expired_token", "Session has expired")])
async def test_a_refused_or_expired_token_disables_publishing_until_enable(
        ready: Home, graph: FakeGraph, scenario: str, says: str) -> None:
    graph.scenario = scenario
    code, _, err = await cli(ready, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and "enable instagram:mia_moves" in err and says in err
    graph.scenario = "ok"  # the operator fixed the token
    code, _, err = await cli(ready, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and "disabled until" in err and graph.media == [], "still disabled: nothing tried"
    code, out, err = await cli(ready, "enable", "instagram:mia_moves", env={})
    assert code == 0, err
    code, out, err = await cli(ready, "publish", "1", env={})
    assert code == 0, err
    assert len(graph.media) == 1
    assert_no_secret_written(ready, out, err)


async def started_publish(home: Home) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--home", str(home.root), "publish", "1", cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def kill_when(process: asyncio.subprocess.Process, happened: object) -> None:
    for _ in range(1200):
        if callable(happened) and happened():
            process.send_signal(signal.SIGKILL)
            await process.wait()
            return
        await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("the moment to kill never came")


@pytest.mark.slow
@pytest.mark.parametrize("kind", DIALECTS)
async def test_sigkill_between_container_and_publish_and_after_a_publish_lands_posts_once(
        ready: Home, graph: FakeGraph, kind: str, tmp_path: Path) -> None:
    with fresh_database(kind, tmp_path) as url:
        if kind == "postgresql":  # the video made again, into a database of its own on the server
            with ready.env_file.open("a") as env:
                env.write(f"DATABASE_URL={url}\n")
            code, _, err = await cli(ready, "generate", "Three stretches for stiff shoulders", "--duration", "5",
                                     "--wait", env={})
            assert code == 0, err
        await sigkill_thrice_and_publish(ready, graph)


async def sigkill_thrice_and_publish(ready: Home, graph: FakeGraph) -> None:
    graph.hold_processing = True  # Meta is still processing: the worker polls the container
    await kill_when(await started_publish(ready), lambda: len(graph.containers) == 1 and graph.requests[-1].startswith(
        "GET"))
    graph.hold_processing = False
    graph.publish_delay_s = 60.0  # the post is made; its answer never comes back to this worker
    await kill_when(await started_publish(ready), lambda: len(graph.media) == 1)
    graph.publish_delay_s = 0.0
    graph.list_delay_s = 60.0  # the next worker looks for the post that may have landed: killed while it looks
    looked = len([r for r in graph.requests if r == f"GET /{USER_ID}/media"])
    await kill_when(await started_publish(ready), lambda: len(
        [r for r in graph.requests if r == f"GET /{USER_ID}/media"]) > looked)
    graph.list_delay_s = 0.0
    code, out, err = await cli(ready, "publish", "1", env={})
    assert code == 0, err
    assert len(graph.containers) == 1, "the container made before the kill was used, not a new one"
    assert len(graph.media) == 1 and graph.publish_calls == 1, "the post that landed was found, not made again"
    [post] = await posts_of(ready)
    assert post["state"] == "published" and post["media_id"] == graph.media[0]["id"]


@pytest.mark.slow
async def test_a_worker_stalled_past_its_lease_publishes_nothing_once_another_took_the_post_over(
        ready: Home, graph: FakeGraph) -> None:
    """Worker A stalls on a look at the container (Meta answers late) past its 3 s lease; worker B takes the post
    over and publishes it. When A's answer comes, every write it tries is refused: it never posts."""
    secrets = Secrets.load(ready.env_file)
    settings = settings_for(ready)
    db = await Database.open(database_url(ready, secrets))
    stalled, other = Publishing(settings, db, secrets, ready), Publishing(settings, db, secrets, ready)
    try:
        await stalled.approve(1, now=True)
        graph.hold_next_look_s = settings.video.lease_s + 5.0
        first = asyncio.create_task(stalled.advance(1))
        while not any(request.startswith("GET /") and request[5:] in graph.containers for request in graph.requests):
            await asyncio.sleep(0.02)
        assert await other.advance(1) is None, "the lease still holds: B waits"
        await asyncio.sleep(settings.video.lease_s + 0.5)
        taken = await other.advance(1)
        while taken is not None and taken.state == "processing":  # B looks again as the daemon's loop does
            await asyncio.sleep(0.06)
            taken = await other.advance(1)
        assert taken is not None and taken.state == "published" and graph.publish_calls == 1
        assert not first.done(), "A is still waiting for its answer"
        left = await first
        assert left is not None and left.state == "published" and left.media_id == taken.media_id
        assert graph.publish_calls == 1 and len(graph.media) == 1 and len(graph.containers) == 1
    finally:
        await asyncio.gather(stalled.close(), other.close())
        await db.close()


@pytest.mark.slow
async def test_auto_publish_schedules_each_new_video_once_at_the_next_slot_and_posts_it_when_due(
        ready: Home, graph: FakeGraph) -> None:
    edit_json(ready.config_file, lambda d: d["accounts"][0]["publishing"].update(auto_publish=True))
    db = await Database.open(database_url(ready, Secrets.load(ready.env_file)))
    daemon = daemon_for(ready, settings_for(ready), db, Secrets.load(ready.env_file))
    try:
        await daemon.publish_due()
        await daemon.publish_due()  # the next tick: scheduled once, and not due before its slot
        [post] = await daemon.publishing.all_posts()
        assert post.state == "scheduled" and post.not_before > utcnow() and graph.requests == []
        await db.write((update(posts).values(not_before=utcnow()), {}))  # the slot comes
        for _ in range(50):
            await daemon.publish_due()
            if (await daemon.publishing.post(post.id)).state == "published":
                break
            await asyncio.sleep(0.05)
        assert (await daemon.publishing.post(post.id)).permalink == graph.media[0]["permalink"]
        assert len(graph.media) == 1
    finally:
        await daemon.close()
        await db.close()


@pytest.mark.slow
async def test_insights_of_published_posts_fill_the_roi_report(ready: Home, graph: FakeGraph) -> None:
    code, _, err = await cli(ready, "publish", "1", env={})
    assert code == 0, err
    code, out, err = await cli(ready, "insights", "pull", env={})
    assert code == 0 and "insights read for 0 post(s)" in out, "too few viewers yet: nothing, and no error"
    graph.media[0]["insights"] = {"views": 12_400, "reach": 9_100, "likes": 830, "comments": 41, "saved": 122,
                                  "shares": 57}
    code, out, err = await cli(ready, "insights", "pull", env={})
    assert code == 0 and "insights read for 1 post(s)" in out, err
    code, out, err = await cli(ready, "report", "--format", "json", env={})
    assert code == 0, err
    roi = json.loads(next(ready.reports_dir.rglob("report.json")).read_text())["roi"]
    assert roi["videos_with_metrics"] == 1 and roi["total_views"] == 12_400 and roi["estimated_value"] > 0


@pytest.mark.slow
async def test_run_takes_a_trend_to_a_published_reel_and_a_day_later_the_roi_report_has_its_metrics(
        ready: Home, graph: FakeGraph) -> None:
    def every_persona_posts_at_once(data: dict) -> None:  # type: ignore[type-arg]
        data["trends"]["top_n"] = 1
        for account in data["accounts"]:
            account["publishing"] = {**data["accounts"][0]["publishing"], "auto_publish": True, "slots": []}

    edit_json(ready.config_file, every_persona_posts_at_once)
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "main.py"), "--home", str(ready.root), "run", cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        for _ in range(1200):  # the trend's Reel is made, then posted with the one made before (the same day)
            if len(graph.media) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, log = await asyncio.wait_for(daemon.communicate(), 120)
    assert daemon.returncode == 0 and "stopped cleanly" in log.decode(), log.decode()[-3000:]
    published = await posts_of(ready)
    assert sorted(p["job_id"] for p in published) == [1, 2] and {p["state"] for p in published} == {"published"}
    assert len(graph.media) == 2 and graph.publish_calls == 2, "each video posted once"

    for media, views in zip(graph.media, (25_000, 4_000)):  # a day later, Meta counts
        media["insights"] = {"views": views, "reach": views * 3 // 4, "likes": views // 20, "comments": views // 400,
                             "saved": views // 100, "shares": views // 200}
    code, out, err = await cli(ready, "insights", "pull", env={})
    assert code == 0 and "insights read for 2 post(s)" in out, err
    code, out, err = await cli(ready, "report", "--format", "json", env={})
    assert code == 0, err
    roi = json.loads(next(ready.reports_dir.rglob("report.json")).read_text())["roi"]
    assert roi["videos_with_metrics"] == 2 and roi["total_views"] == 29_000
    assert roi["estimated_value"] > 0 and {v["job_id"] for v in roi["per_video"]} == {1, 2}


@pytest.mark.slow
async def test_the_token_is_renewed_into_env_once_a_week_and_used_at_once(ready: Home, graph: FakeGraph) -> None:
    secrets = Secrets.load(ready.env_file)
    db = await Database.open(database_url(ready, secrets))
    daemon = daemon_for(ready, settings_for(ready), db, secrets)
    try:
        await daemon.publishing.refresh_tokens()
        renewed = Secrets.load(ready.env_file).get("INSTAGRAM_ACCESS_TOKEN")
        assert renewed is not None and renewed != TOKEN and renewed in graph.tokens
        assert (ready.env_file.read_text().count("AWS_SECRET_ACCESS_KEY=") == 1), "the rest of .env kept"
        await daemon.publishing.refresh_tokens()  # within the week: not again
        assert len(graph.tokens) == 2
        graph.tokens.discard(TOKEN)  # the old token has run out: only the renewed one works
        [post] = await daemon.publishing.publish_now(1)
        assert post.state == "published"
        assert renewed not in secrets.redact(f"token {renewed}"), "the renewed token is masked like the old"
    finally:
        await daemon.close()
        await db.close()
    assert_no_secret_written(ready)
    written = "".join(path.read_text(errors="replace") for path in ready.logs_dir.rglob("*") if path.is_file())
    assert renewed not in written


@pytest.mark.slow
async def test_a_posted_videos_files_go_after_retention_days_an_unposted_ones_stay(
        ready: Home, graph: FakeGraph) -> None:
    video = next((ready.data_dir / "videos" / ACCOUNT).glob("*.mp4"))
    eight_days_ago = utcnow() - timedelta(days=8)
    await db_write(ready, update(video_jobs).values(  # this copy's files, not the module's rendered ones
        updated_at=eight_days_ago, output_path=str(video), thumbnail_path=str(video.with_suffix(".jpg"))))
    code, out, err = await cli(ready, "cleanup", env={})
    assert code == 0 and "0 video(s) past retention (7 days)" in out and video.is_file(), "never posted: kept"

    code, _, err = await cli(ready, "publish", "1", env={})
    assert code == 0, err
    await db_write(ready, update(posts).values(published_at=eight_days_ago))
    code, out, err = await cli(ready, "cleanup", "--dry-run", env={})
    assert code == 0 and "job 1: would remove" in out and "hosted 1-instagram.mp4" in out and video.is_file()
    code, out, err = await cli(ready, "cleanup", env={})
    assert code == 0 and "1 video(s) past retention" in out, err
    assert not video.exists() and not video.with_suffix(".jpg").exists()
    assert video.with_suffix(".json").is_file() and video.with_suffix(".txt").is_file(), "the post's record stays"
    assert stored(ready) == [], "the hosted copies go with it"
    [post] = await posts_of(ready)
    assert post["state"] == "published"


# ---- YouTube Shorts -------------------------------------------------------------------------------------------------

YOUTUBE_KEYS = {"YOUTUBE_CLIENT_ID": CLIENT_ID, "YOUTUBE_CLIENT_SECRET": CLIENT_SECRET,
                "YOUTUBE_REFRESH_TOKEN": REFRESH_TOKEN}


@pytest.fixture
async def youtube() -> AsyncIterator[FakeYouTube]:
    fake = FakeYouTube()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def on_youtube(rendered: Path, tmp_path: Path, youtube: FakeYouTube) -> Home:
    """A copy of the rendered home whose persona posts Shorts to YouTube (the fake), uploading the file itself."""
    home = Home.at(shutil.copytree(rendered, tmp_path / "home"))
    edit_json(home.config_file, lambda d: d["accounts"][0].update(publishing={"youtube": {
        "enabled": True, "base_url": youtube.url, "token_url": f"{youtube.url}/token"}}))
    home.env_file.write_text("".join(f"{k}={v}\n" for k, v in YOUTUBE_KEYS.items()))
    return home


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["ok", "cut_upload"])
async def test_a_short_is_uploaded_once_whole_even_when_the_upload_is_cut_off(
        on_youtube: Home, youtube: FakeYouTube, scenario: str) -> None:
    youtube.scenario = scenario
    code, out, err = await cli(on_youtube, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    [(video_id, resource)] = youtube.videos.items()
    assert post["state"] == "published" and post["media_id"] == video_id
    assert post["permalink"] == f"https://www.youtube.com/shorts/{video_id}"
    [session] = youtube.sessions.values()
    video = next((on_youtube.data_dir / "videos" / ACCOUNT).glob("*.mp4"))
    assert bytes(session.data) == video.read_bytes(), "the file arrived whole, resumed where it was cut"
    assert resource["status"]["containsSyntheticMedia"] is True and resource["status"]["privacyStatus"] == "public"
    assert resource["status"]["selfDeclaredMadeForKids"] is False and 0 < len(resource["snippet"]["title"]) <= 100
    code, again, err = await cli(on_youtube, "publish", "1", "--json", env={})
    assert code == 0 and json.loads(again)["posts"] == [post] and len(youtube.sessions) == 1
    assert_no_secret_written(on_youtube, out, err)
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, *youtube.access_tokens):
        assert secret not in out + err + "".join(p.read_text() for p in on_youtube.logs_dir.rglob("*.log"))


@pytest.mark.slow
@pytest.mark.parametrize("scenario, says, state", [
    ("quota", "exceeded your quota", "scheduled"),
    ("revoked", "enable youtube:mia_moves", "scheduled"),
])
async def test_youtube_quota_waits_for_its_day_and_a_revoked_token_disables(
        on_youtube: Home, youtube: FakeYouTube, scenario: str, says: str, state: str) -> None:
    youtube.scenario = scenario
    code, _, err = await cli(on_youtube, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and says in err.splitlines()[-1] and "Traceback" not in err, err
    [post] = await posts_of(on_youtube)
    assert post["state"] == state and youtube.videos == {}


@pytest.mark.slow
async def test_youtube_statistics_come_back_as_insights(on_youtube: Home, youtube: FakeYouTube) -> None:
    code, _, err = await cli(on_youtube, "publish", "1", env={})
    assert code == 0, err
    [video_id] = youtube.videos
    youtube.statistics[video_id] = {"viewCount": "3100", "likeCount": "220", "commentCount": "12",
                                    "favoriteCount": "0"}
    code, out, err = await cli(on_youtube, "insights", "pull", env={})
    assert code == 0 and "insights read for 1 post(s)" in out, err
    code, _, err = await cli(on_youtube, "report", "--format", "json", env={})
    roi = json.loads(next(on_youtube.reports_dir.rglob("report.json")).read_text())["roi"]
    assert roi["total_views"] == 3100


@pytest.mark.slow
async def test_a_scheduled_short_is_uploaded_at_once_and_youtube_makes_it_public_at_its_slot(
        on_youtube: Home, youtube: FakeYouTube) -> None:
    edit_json(on_youtube.config_file, lambda d: d["accounts"][0]["publishing"].update(
        slots=["06:30", "21:15"], youtube={**d["accounts"][0]["publishing"]["youtube"], "publish_at": True}))
    code, out, err = await cli(on_youtube, "approve", "1", env={})
    assert code == 0 and "uploaded now; youtube makes it public then" in out, err
    [post] = await posts_of(on_youtube)
    slot = datetime.fromisoformat(post["publish_at"])
    assert (slot.hour, slot.minute) in ((6, 30), (21, 15)) and slot > datetime.now(timezone.utc)
    assert datetime.fromisoformat(post["not_before"]) <= datetime.now(timezone.utc)  # due now: uploaded now
    settings, secrets = settings_for(on_youtube), Secrets.load(on_youtube.env_file)
    db = await Database.open(database_url(on_youtube, secrets))
    daemon = daemon_for(on_youtube, settings, db, secrets)
    try:
        [published] = await daemon.publishing.run_due()  # what the daemon's minute does
        assert published.state == "published"
        row = (await db.fetch_all(posts.select()))[0]
    finally:
        await daemon.close()
        await db.close()
    [(video_id, resource)] = youtube.videos.items()
    assert published.media_id == video_id and resource["status"]["privacyStatus"] == "private"
    assert resource["status"]["publishAt"] == slot.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert abs((as_utc(row.published_at) - slot).total_seconds()) < 1  # its insights count from its slot


def test_publish_at_needs_a_public_privacy(home: Home, cli_in_process: Any) -> None:
    edit_json(home.config_file, lambda d: d["accounts"][0]["publishing"].update(youtube={
        "enabled": True, "publish_at": True, "privacy": "unlisted"}))
    made = cli_in_process(home.root, "config", "check")
    assert made.returncode == 2 and "privacy must be \"public\"" in made.stderr and "Traceback" not in made.stderr


@pytest.mark.slow
async def test_sigkill_after_a_short_is_uploaded_but_before_its_answer_uploads_it_once(
        on_youtube: Home, youtube: FakeYouTube) -> None:
    youtube.complete_delay_s = 60.0
    await kill_when(await started_publish(on_youtube), lambda: len(youtube.videos) == 1)
    youtube.complete_delay_s = 0.0
    code, out, err = await cli(on_youtube, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    assert list(youtube.videos) == [post["media_id"]] and len(youtube.sessions) == 1, "found, not uploaded again"


# ---- TikTok -------------------------------------------------------------------------------------------------------

TIKTOK_KEYS = {"TIKTOK_CLIENT_KEY": tiktok.CLIENT_KEY, "TIKTOK_CLIENT_SECRET": tiktok.CLIENT_SECRET,
               "TIKTOK_REFRESH_TOKEN": tiktok.REFRESH_TOKEN}


@pytest.fixture
async def on_tiktok() -> AsyncIterator[FakeTikTok]:
    fake = FakeTikTok()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def posts_to_tiktok(rendered: Path, tmp_path: Path, on_tiktok: FakeTikTok) -> Home:
    """A copy of the rendered home whose persona posts to TikTok (the fake), uploading the file in chunks."""
    home = Home.at(shutil.copytree(rendered, tmp_path / "home"))
    edit_json(home.config_file, lambda d: d["accounts"][0].update(publishing={"tiktok": {
        "enabled": True, "base_url": on_tiktok.url}}))
    home.env_file.write_text("".join(f"{k}={v}\n" for k, v in TIKTOK_KEYS.items()))
    return home


async def test_a_cut_tiktok_upload_resumes_from_its_last_whole_chunk_and_posts_once(tmp_path: Path) -> None:
    """25 MB in chunks of 10 (the last 15): the second chunk is lost on its way; the next try asks TikTok how much
    it holds and sends the rest, and the post is made once, private (an unaudited app), labelled AI-generated."""
    video = tmp_path / "reel.mp4"
    video.write_bytes(os.urandom(25 * 1024 * 1024))
    fake = FakeTikTok("cut_upload")
    await fake.start()
    publisher = TikTokPublisher(TikTokPublishing(enabled=True, base_url=fake.url), Secrets(TIKTOK_KEYS))
    reel = Reel(video, None, "Three stretches for stiff shoulders #mobility")
    try:
        container = await publisher.create(reel)
        assert (await publisher.state(container)).state == ContainerState.READY
        with pytest.raises(PublishError) as cut:
            await publisher.publish(container, reel)
        held = (await publisher.state(container)).state
        media_id = await publisher.publish(container, reel)
        found = await publisher.find(container, reel)
        posted = await publisher.posted(media_id)
        assert await publisher.insights(media_id) is None  # a private post has no public statistics
    finally:
        await publisher.close()
        await fake.stop()
    assert cut.value.error_class == "temporary" and held == ContainerState.READY
    [post] = fake.posts.values()
    assert bytes(post.data) == video.read_bytes() and post.chunk == CHUNK and post.chunks == 2
    assert media_id == found == post.publish_id and posted.permalink == ""
    assert post.post_info["privacy_level"] == "SELF_ONLY" and post.post_info["is_aigc"] is True
    assert post.post_info["title"] == reel.caption


@pytest.mark.slow
async def test_a_tiktok_post_is_made_once_and_its_statistics_come_back(
        posts_to_tiktok: Home, on_tiktok: FakeTikTok) -> None:
    on_tiktok.audited = True
    edit_json(posts_to_tiktok.config_file, lambda d: d["accounts"][0]["publishing"]["tiktok"].update(
        privacy="PUBLIC_TO_EVERYONE"))
    code, out, err = await cli(posts_to_tiktok, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    [made] = on_tiktok.complete
    assert post["state"] == "published" and post["media_id"] == made.post_id
    assert post["permalink"] == f"https://www.tiktok.com/@{tiktok.USERNAME}/video/{made.post_id}"
    video = next((posts_to_tiktok.data_dir / "videos" / ACCOUNT).glob("*.mp4"))
    assert bytes(made.data) == video.read_bytes()
    code, again, err = await cli(posts_to_tiktok, "publish", "1", "--json", env={})
    assert code == 0 and json.loads(again)["posts"] == [post] and len(on_tiktok.posts) == 1
    on_tiktok.statistics[str(made.post_id)] = {"view_count": 5200, "like_count": 410, "comment_count": 33,
                                               "share_count": 21}
    code, pulled, err = await cli(posts_to_tiktok, "insights", "pull", env={})
    assert code == 0 and "insights read for 1 post(s)" in pulled, err
    code, _, err = await cli(posts_to_tiktok, "report", "--format", "json", env={})
    assert json.loads(next(posts_to_tiktok.reports_dir.rglob("report.json")).read_text())["roi"]["total_views"] == 5200
    written = out + err + "".join(p.read_text() for p in posts_to_tiktok.logs_dir.rglob("*.log"))
    for secret in (tiktok.CLIENT_SECRET, tiktok.REFRESH_TOKEN, *on_tiktok.access_tokens):
        assert secret not in written


@pytest.mark.slow
@pytest.mark.parametrize("scenario, says", [
    ("daily_cap", "spam_risk_too_many_posts"),
    ("rate_limit", "rate_limit_exceeded"),
    ("revoked", "enable tiktok:mia_moves"),
])
async def test_tiktok_limits_wait_and_a_refused_token_disables(
        posts_to_tiktok: Home, on_tiktok: FakeTikTok, scenario: str, says: str) -> None:
    on_tiktok.scenario = scenario
    code, _, err = await cli(posts_to_tiktok, "publish", "1", "--timeout", "3", env={})
    assert code == 1 and says in err.splitlines()[-1] and "Traceback" not in err, err
    [post] = await posts_of(posts_to_tiktok)
    assert post["state"] == "scheduled" and on_tiktok.complete == []


@pytest.mark.slow
async def test_a_rotated_tiktok_refresh_token_is_written_to_env_and_used(
        posts_to_tiktok: Home, on_tiktok: FakeTikTok) -> None:
    on_tiktok.scenario = "rotates"
    settings = settings_for(posts_to_tiktok)
    db = await Database.open(database_url(posts_to_tiktok, Secrets.load(posts_to_tiktok.env_file)))
    daemon = daemon_for(posts_to_tiktok, settings, db, Secrets.load(posts_to_tiktok.env_file))
    try:
        await daemon.publishing.refresh_tokens()
    finally:
        await daemon.close()
        await db.close()
    [rotated] = on_tiktok.refresh_tokens
    assert rotated != tiktok.REFRESH_TOKEN and f"TIKTOK_REFRESH_TOKEN={rotated}" in posts_to_tiktok.env_file.read_text()
    on_tiktok.scenario = "ok"
    code, _, err = await cli(posts_to_tiktok, "publish", "1", env={})  # the old one no longer works
    assert code == 0, err


@pytest.mark.slow
async def test_sigkill_after_the_last_tiktok_chunk_but_before_its_answer_posts_once(
        posts_to_tiktok: Home, on_tiktok: FakeTikTok) -> None:
    on_tiktok.complete_delay_s = 60.0
    await kill_when(await started_publish(posts_to_tiktok), lambda: len(on_tiktok.complete) == 1)
    on_tiktok.complete_delay_s = 0.0
    code, out, err = await cli(posts_to_tiktok, "publish", "1", "--json", env={})
    assert code == 0, err
    [post] = json.loads(out)["posts"]
    assert len(on_tiktok.posts) == 1 and post["media_id"] == next(iter(on_tiktok.posts)), "found, not sent again"
