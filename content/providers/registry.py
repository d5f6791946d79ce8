"""Provider types by name: the built-in adapters, those registered in code, and those installed packages declare.

A package adds a provider without touching this project by declaring an entry point:

    [project.entry-points."influencer_daemon.video_providers"]
    myprovider = "my_package.module:MyProvider"

or, in code run before the daemon starts, `VideoProviderRegistry.register_provider("myprovider", MyProvider)`.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from loguru import logger

from content.providers.contract import VideoProvider

ENTRY_POINT_GROUP = "influencer_daemon.video_providers"


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
    def types(cls) -> dict[str, type[VideoProvider]]:
        """Every known type, installed plugins included (looked for once per process)."""
        if not cls._discovered:
            cls.discover()
        return dict(cls._types)

    @classmethod
    def discover(cls) -> None:
        """Load the entry points of installed packages; a plugin that fails to load is logged and left out."""
        cls._discovered = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls.register_provider(point.name, point.load())
            except Exception as exc:  # a broken plugin must not stop the daemon
                logger.warning(f"provider plugin {point.name!r} ({point.value}) not loaded: "
                               f"{type(exc).__name__}: {exc}")
