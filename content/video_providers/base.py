"""The provider contract under its earlier name (content/providers/contract.py now), for installed plugins."""
from __future__ import annotations

from content.providers.contract import GenerationRequest, TaskStatus, VideoProvider

__all__ = ["GenerationRequest", "TaskStatus", "VideoProvider"]
