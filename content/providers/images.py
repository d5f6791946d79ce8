"""An image sent inside a request body (the persona's reference photo): read once per request, base64 encoded."""
from __future__ import annotations

import base64
from pathlib import Path

MIME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def inline_image(path: Path) -> dict[str, str]:
    """Google's inline image: `{"bytesBase64Encoded", "mimeType"}`."""
    return {"bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode("ascii"),
            "mimeType": MIME_TYPES[path.suffix.lower()]}
