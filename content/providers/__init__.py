"""Video providers: the contract every adapter implements (contract.py), one module per adapter, and the registry
that finds an adapter by a config entry's `type` (registry.py). Importing this package loads no adapter."""
from __future__ import annotations

from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider
from content.providers.registry import VideoProviderRegistry, build_providers, provider_params

__all__ = ["GenerationRequest", "TaskStatus", "VideoProvider", "VideoProviderRegistry", "build_providers",
           "provider_params"]
