"""Provider types by name: the built-in adapters, those registered in code, and those installed packages declare.
An adapter's module is imported only when a config names its type.

A package adds a provider without touching this project by declaring an entry point:

    [project.entry-points."influencer_daemon.video_providers"]
    myprovider = "my_package.module:MyProvider"

or, in code run before the daemon starts, `VideoProviderRegistry.register_provider("myprovider", MyProvider)`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger
from pydantic import BaseModel

from content.providers.contract import VideoProvider
from core.secrets import Secrets

if TYPE_CHECKING:
    from core.settings import VideoGeneration

ENTRY_POINT_GROUP = "influencer_daemon.video_providers"
BUILT_IN = {  # type name → where its adapter lives
    "local": "content.providers.local:LocalProvider",
    "simulated": "content.providers.simulated:SimulatedProvider",
    "runway": "content.providers.runway:RunwayProvider",
    "fal": "content.providers.fal:FalProvider",
    "kling": "content.providers.kling:KlingProvider",
    "veo": "content.providers.veo:VeoProvider",
    "minimax": "content.providers.minimax:MinimaxProvider",
    "luma": "content.providers.luma:LumaProvider",
    "luma_agents": "content.providers.luma_agents:LumaAgentsProvider",
    "heygen": "content.providers.heygen:HeygenProvider",
    "replicate": "content.providers.replicate:ReplicateProvider",
    "sora": "content.providers.sora:SoraProvider",
    "kie": "content.providers.kie:KieProvider",
}


class VideoProviderRegistry:
    _types: dict[str, type[VideoProvider]] = {}
    _discovered = False

    @classmethod
    def register_provider(cls, name: str, provider: type[VideoProvider]) -> None:
        """Make `provider` the adapter for config entries of `"type": name`."""
        if not (isinstance(provider, type) and issubclass(provider, VideoProvider)):
            raise TypeError(f"provider type {name!r}: {provider!r} is not a VideoProvider subclass")
        declared = getattr(provider, "type_name", None)
        if declared is None:
            provider.type_name = name
        elif declared != name:
            raise ValueError(f"provider type {name!r}: the class says its type_name is {declared!r}")
        cls._types[name] = provider

    @classmethod
    def names(cls) -> list[str]:
        """Every known type name, installed plugins included (looked for once per process)."""
        cls._discover()
        return sorted({*BUILT_IN, *cls._types})

    @classmethod
    def get(cls, name: str) -> type[VideoProvider]:
        """The adapter of type `name`, its module imported on first use; KeyError for a type nobody provides."""
        cls._discover()
        if name not in cls._types:
            module, _, attribute = BUILT_IN[name].partition(":")
            cls.register_provider(name, getattr(import_module(module), attribute))
        return cls._types[name]

    @classmethod
    def _discover(cls) -> None:
        """Load the entry points of installed packages, once; a plugin that fails to load is logged and left out."""
        if cls._discovered:
            return
        cls._discovered = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls.register_provider(point.name, point.load())
            except Exception as exc:  # a broken plugin must not stop the daemon
                logger.warning(f"provider plugin {point.name!r} ({point.value}) not loaded: "
                               f"{type(exc).__name__}: {exc}")


class ParamsModels(Mapping[str, type[BaseModel]]):
    """Each provider type's params model, for config validation: a type's adapter is imported when it is looked up."""

    def __getitem__(self, name: str) -> type[BaseModel]:
        if name not in VideoProviderRegistry.names():
            raise KeyError(name)
        return VideoProviderRegistry.get(name).params_model

    def __iter__(self) -> Iterator[str]:
        return iter(VideoProviderRegistry.names())

    def __len__(self) -> int:
        return len(VideoProviderRegistry.names())


def provider_params() -> ParamsModels:
    return ParamsModels()


def build_providers(video: VideoGeneration, secrets: Secrets, data_dir: Path) -> dict[str, VideoProvider]:
    """Every configured provider entry, enabled or not, keyed by its user-chosen name."""
    built: dict[str, VideoProvider] = {}
    for name, entry in video.providers.items():
        cls = VideoProviderRegistry.get(entry.type)
        built[name] = cls(name, cls.params_model.model_validate(entry.params), secrets, data_dir)
    return built
