"""The shared HTTP adapter base under its earlier name (content/providers/http.py now), for installed plugins."""
from __future__ import annotations

from content.providers.http import HttpParams, HttpProvider

__all__ = ["HttpParams", "HttpProvider"]
