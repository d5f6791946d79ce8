"""Each vendor's own Python SDK driven against our fake of its API: it must create a task, poll it to the end, read
the result and download the video. Our adapters are tested against the same fakes, so a fake that drifted from the
protocol the vendor's SDK speaks (a field it needs, a status it knows, a path, a header) fails here first."""
from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.base import SLOW_STEPS, FakeApi
from tests.fakes.fal import MODEL as PIKA
from tests.fakes.fal import RAY_FLASH, FakeFal
from tests.fakes.luma import FakeLuma
from tests.fakes.luma_agents import FakeLumaAgents
from tests.fakes.replicate import MODEL as VEO_ON_REPLICATE
from tests.fakes.replicate import FakeReplicate
from tests.fakes.runway import FakeRunway
from tests.fakes.sora import FakeSora
from tests.fakes.veo import FakeVeo

PROMPT = "Morning light over a quiet harbour, a gull lifting off a mooring post"


def fetched(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:  # the media link, as a user of the SDK downloads it
        return bytes(answer.read())


async def with_sdk(fake: FakeApi, use: Callable[[str], bytes]) -> bytes:
    """`use(base_url)` in a thread (the SDKs are blocking; the fake serves on this loop), the fake stopped after."""
    url = await fake.start()
    try:
        return await asyncio.to_thread(use, url)
    finally:
        await fake.stop()


def until(done: Callable[[], Any], poll: Callable[[], Any]) -> Any:
    """Poll as the SDK's own docs do, until `done(answer)`; a fake that never finishes fails, not hangs."""
    for _ in range(50):
        answer = poll()
        if done(answer):
            return answer
        time.sleep(0.01)
    raise AssertionError(f"still not done: {answer}")


@pytest.mark.parametrize("scenario", ["success", "slow"])
async def test_runwayml_creates_waits_and_downloads(scenario: str, clip: Path) -> None:
    from runwayml import RunwayML

    seen: list[str] = []

    def use(url: str) -> bytes:
        client = RunwayML(api_key=FakeApi.key, base_url=url, max_retries=0)
        created = client.text_to_video.create(model="gen4.5", prompt_text=PROMPT, ratio="720:1280", duration=5)

        def retrieved() -> Any:
            task = client.tasks.retrieve(created.id)
            seen.append(task.status)
            return task
        task = until(lambda task: task.status in ("SUCCEEDED", "FAILED"), retrieved)
        assert task.status == "SUCCEEDED", task
        assert task.cost is not None and task.cost.credits == 60, "12 credits a second for gen4.5"
        return fetched(task.output[0])

    fake = FakeRunway(clip, scenario)
    assert await with_sdk(fake, use) == clip.read_bytes()
    expected = ["THROTTLED", *["RUNNING"] * SLOW_STEPS] if scenario == "slow" else ["PENDING"]
    assert seen == [*expected, "SUCCEEDED"]


async def test_lumaai_creates_polls_and_downloads(clip: Path) -> None:
    from lumaai import LumaAI

    def use(url: str) -> bytes:
        client = LumaAI(auth_token=FakeApi.key, base_url=url, max_retries=0)
        created = client.generations.video.create(model="ray-2", prompt=PROMPT, aspect_ratio="9:16", duration="5s",
                                                  resolution="720p")
        done = until(lambda g: g.state in ("completed", "failed"), lambda: client.generations.get(str(created.id)))
        assert done.state == "completed" and done.assets is not None, done
        client.generations.delete(str(created.id))
        return fetched(str(done.assets.video))

    fake = FakeLuma(clip)
    assert await with_sdk(fake, use) == clip.read_bytes()
    assert [task.cancelled for task in fake.tasks.values()] == [True]


async def test_lumaai_is_refused_the_model_its_sdk_dropped(clip: Path) -> None:
    """ray-1-6 left lumaai in 1.19: the fake refuses it as the API would, so no test passes on a retired model."""
    from lumaai import BadRequestError, LumaAI

    def use(url: str) -> bytes:
        client = LumaAI(auth_token=FakeApi.key, base_url=url, max_retries=0)
        with pytest.raises(BadRequestError):
            client.generations.video.create(model="ray-1-6", prompt=PROMPT, aspect_ratio="9:16")
        return b""

    fake = FakeLuma(clip)
    await with_sdk(fake, use)
    assert not fake.tasks


async def test_luma_agents_creates_polls_and_downloads_a_ray_3_2_video(clip: Path) -> None:
    from luma_agents import Luma

    def use(url: str) -> bytes:
        client = Luma(auth_token=FakeApi.key, base_url=f"{url}/v1", max_retries=0)
        created = client.generations.create(model="ray-3.2", type="video", prompt=PROMPT, aspect_ratio="9:16",
                                            video={"resolution": "720p", "duration": "5s"})
        done = until(lambda g: g.state in ("completed", "failed"), lambda: client.generations.get(created.id))
        assert done.state == "completed" and done.output, done
        return fetched(done.output[0].url)

    assert await with_sdk(FakeLumaAgents(clip, "slow"), use) == clip.read_bytes()


async def test_replicate_creates_waits_and_reads_the_output(clip: Path) -> None:
    import replicate

    def use(url: str) -> bytes:
        client = replicate.Client(api_token=FakeApi.key, base_url=url)
        client.poll_interval = 0.01
        prediction = client.predictions.create(model=VEO_ON_REPLICATE, input={
            "prompt": PROMPT, "aspect_ratio": "9:16", "duration": 6, "generate_audio": False})
        prediction.wait()
        assert prediction.status == "succeeded", prediction.error
        return fetched(str(prediction.output))

    assert await with_sdk(FakeReplicate(clip), use) == clip.read_bytes()


@pytest.mark.parametrize(("model", "duration"), [(PIKA, 5), (RAY_FLASH, "5s")])
async def test_fal_client_submits_reads_status_with_logs_and_the_result(model: str, duration: Any, clip: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import fal_client
    import fal_client.client

    def use(url: str) -> bytes:
        monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", f"{url}/")  # the SDK writes https://queue.fal.run
        client = fal_client.SyncClient(key=FakeApi.key)
        handle = client.submit(model, arguments={"prompt": PROMPT, "aspect_ratio": "9:16", "duration": duration})
        until(lambda status: isinstance(status, fal_client.Completed), lambda: handle.status(with_logs=True))
        return fetched(handle.get()["video"]["url"])

    assert await with_sdk(FakeFal(clip, "slow"), use) == clip.read_bytes()


@pytest.mark.filterwarnings("ignore:The Sora API is scheduled:DeprecationWarning")  # as the README says
async def test_openai_creates_retrieves_and_downloads_a_sora_video(clip: Path) -> None:
    from openai import OpenAI

    def use(url: str) -> bytes:
        client = OpenAI(api_key=FakeApi.key, base_url=url, max_retries=0)
        video = client.videos.create(model="sora-2-pro", prompt=PROMPT, seconds="8", size="1024x1792")
        video = until(lambda v: v.status in ("completed", "failed"), lambda: client.videos.retrieve(video.id))
        assert video.status == "completed", video.error
        content = client.videos.download_content(video.id).read()
        client.videos.delete(video.id)
        return content

    assert await with_sdk(FakeSora(clip), use) == clip.read_bytes()


async def test_google_genai_generates_polls_and_downloads_a_veo_video(clip: Path) -> None:
    """google-genai 2.34, the last release that drives Veo through the Gemini API's key (3.x: Vertex AI only)."""
    from google import genai
    from google.genai import types

    def use(url: str) -> bytes:
        client = genai.Client(api_key=FakeApi.key, http_options=types.HttpOptions(base_url=url))
        operation = client.models.generate_videos(
            model="veo-3.1-fast-generate-preview", source=types.GenerateVideosSource(prompt=PROMPT),
            config=types.GenerateVideosConfig(aspect_ratio="9:16", duration_seconds=8, resolution="1080p"))
        operation = until(lambda op: op.done, lambda: client.operations.get(operation))
        assert operation.response is not None and operation.response.generated_videos, operation
        video = operation.response.generated_videos[0].video
        assert video is not None and video.uri is not None
        video.uri = video.uri.replace("http://", "https://", 1)  # the SDK reads the file's name from an https link
        return bytes(client.files.download(file=video))

    assert await with_sdk(FakeVeo(clip), use) == clip.read_bytes()
