"""An image sent inside a request body (the persona's reference photo): read once per request, base64 encoded."""
from __future__ import annotations

import base64
from pathlib import Path

MIME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def inline_image(path: Path) -> dict[str, str]:
    """Google's inline image: `{"bytesBase64Encoded", "mimeType"}`."""
    return {"bytesBase64Encoded": _base64(path), "mimeType": MIME_TYPES[path.suffix.lower()]}


def data_uri(path: Path) -> str:
    """The image as a `data:` URI, for APIs that take an inline image where they take a URL."""
    return f"data:{MIME_TYPES[path.suffix.lower()]};base64,{_base64(path)}"


def _base64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")
