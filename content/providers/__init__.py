"""Provider adapters by type name; a config entry's `type` picks one."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider
from content.providers.fal import FalProvider
from content.providers.heygen import HeygenProvider
from content.providers.kling import KlingProvider
from content.providers.local import LocalProvider
from content.providers.luma import LumaProvider
from content.providers.minimax import MinimaxProvider
from content.providers.registry import VideoProviderRegistry
from content.providers.replicate import ReplicateProvider
from content.providers.runway import RunwayProvider
from content.providers.simulated import SimulatedProvider
from content.providers.sora import SoraProvider
from content.providers.veo import VeoProvider
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
