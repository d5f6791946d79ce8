"""Users add provider types without editing the project: in code, or as an installed package's entry point."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from content.media.ffmpeg import ProgressCallback
from content.providers import GenerationRequest, TaskStatus, VideoProvider, VideoProviderRegistry
from core.home import Home
from tests.conftest import edit_json, generate_and_wait, make_clip, run_cli


class ClipBack(VideoProvider):
    """A user's own provider: hands back a prepared clip."""

    clip: Path

    def estimate_cost(self, request: GenerationRequest) -> float:
        return 0.0

    async def submit(self, request: GenerationRequest, idempotency_key: str,
                     on_progress: ProgressCallback | None = None) -> str:
        return idempotency_key

    async def poll(self, task_id: str) -> TaskStatus:
        return TaskStatus("succeeded", 1.0, 0.0)

    async def download(self, task_id: str, destination: Path) -> Path:
        shutil.copy(self.clip, destination)
        return destination


def use_type(home: Home, kind: str) -> None:
    def change(data: dict) -> None:
        data["video_generation"]["providers"] = {"mine": {"type": kind}}
        data["video_generation"]["default_provider"] = "mine"

    edit_json(home.video_config_file, change)


@pytest.mark.slow
async def test_a_provider_registered_in_code_makes_videos(home: Home, tmp_path: Path) -> None:
    ClipBack.clip = make_clip(tmp_path / "clip.mp4", size="720x1280", seconds=5)
    VideoProviderRegistry.register_provider("clip_back", ClipBack)
    use_type(home, "clip_back")
    outcome, _ = await generate_and_wait(home, "Waves at dusk", 5)
    assert outcome.status == "done" and outcome.provider == "mine", outcome.error


def test_registering_a_class_under_another_name_is_refused() -> None:
    VideoProviderRegistry.register_provider("clip_back", ClipBack)  # again: the same name is fine
    with pytest.raises(ValueError, match="type_name is 'clip_back'"):
        VideoProviderRegistry.register_provider("other_name", ClipBack)
    with pytest.raises(TypeError, match="not a VideoProvider subclass"):
        VideoProviderRegistry.register_provider("nothing", dict)  # type: ignore[arg-type]


@pytest.mark.slow
def test_an_installed_package_adds_a_type_through_its_entry_point(home: Home, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "echo_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "echo_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\n"
                                                                 "Version: 1.0\n")
    (site / "echo_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[influencer_daemon.video_providers]\necho = echo_plugin:EchoProvider\n"
        "broken = echo_plugin:Missing\n")
    (site / "echo_plugin.py").write_text(textwrap.dedent('''
        from tests.test_plugins import ClipBack

        class EchoProvider(ClipBack):
            type_name = "echo"
            required_env = ("ECHO_TOKEN",)
    '''))
    use_type(home, "echo")
    env = {"PYTHONPATH": f"{site}"}
    missing = run_cli(home.root, "config", "check", env=env)
    assert missing.returncode == 2, missing.stderr  # its only enabled provider lacks its key
    assert "mine (type echo): missing ECHO_TOKEN" in missing.stdout
    assert "provider plugin 'broken' (echo_plugin:Missing) not loaded" in missing.stderr
    ready = run_cli(home.root, "config", "check", env={**env, "ECHO_TOKEN": "t0k3n-value"})
    assert ready.returncode == 0 and "mine (type echo): ready" in ready.stdout
    assert "t0k3n-value" not in ready.stdout + ready.stderr
    unknown = run_cli(home.root, "config", "check")  # without the package, the type is unknown: one clear line
    assert unknown.returncode == 2 and "unknown provider type 'echo'" in unknown.stderr
