"""Provider adapters by type name; a config entry's `type` picks one."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from content.video_providers.base import GenerationRequest, TaskStatus, VideoProvider
from content.video_providers.fal import FalProvider
from content.video_providers.heygen import HeygenProvider
from content.video_providers.kling import KlingProvider
from content.video_providers.local import LocalProvider
from content.video_providers.luma import LumaProvider
from content.video_providers.minimax import MinimaxProvider
from content.video_providers.registry import VideoProviderRegistry
from content.video_providers.replicate import ReplicateProvider
from content.video_providers.runway import RunwayProvider
from content.video_providers.simulated import SimulatedProvider
from content.video_providers.sora import SoraProvider
from content.video_providers.veo import VeoProvider
from core.secrets import Secrets
from core.settings import VideoGeneration

BUILT_IN = (LocalProvider, SimulatedProvider, RunwayProvider, FalProvider, KlingProvider, VeoProvider, MinimaxProvider,
            LumaProvider, HeygenProvider, ReplicateProvider, SoraProvider)
for _adapter in BUILT_IN:
    VideoProviderRegistry.register_provider(_adapter.type_name, _adapter)

__all__ = ["GenerationRequest", "TaskStatus", "VideoProvider", "VideoProviderRegistry", "build_providers",
           "provider_params"]


def provider_params() -> dict[str, type[BaseModel]]:
    """Each type's params model, for config validation."""
    return {name: cls.params_model for name, cls in VideoProviderRegistry.types().items()}


def build_providers(video: VideoGeneration, secrets: Secrets, data_dir: Path) -> dict[str, VideoProvider]:
    """Every configured provider entry, enabled or not, keyed by its user-chosen name."""
    built: dict[str, VideoProvider] = {}
    types = VideoProviderRegistry.types()
    for name, entry in video.providers.items():
        cls = types[entry.type]
        built[name] = cls(name, cls.params_model.model_validate(entry.params), secrets, data_dir)
    return built
