"""The provider package under its earlier name (content/providers/ now), kept so that installed provider plugins written
against it still load; it warns once and re-exports the contract and the registry."""
from __future__ import annotations

import warnings

from content.providers import GenerationRequest, TaskStatus, VideoProvider, VideoProviderRegistry

warnings.warn("content.video_providers is content.providers now", DeprecationWarning, stacklevel=2)

__all__ = ["GenerationRequest", "TaskStatus", "VideoProvider", "VideoProviderRegistry"]
