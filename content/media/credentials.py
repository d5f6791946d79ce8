"""C2PA content credentials: a signed manifest inside each delivered video saying what made it (this daemon, for the
persona) and how (IPTC's digital source type: AI-generated, composited, or drawn by the renderer), bound to the
file's bytes — anyone can verify it, and any edit shows.

Signing goes through c2pa-python (the Content Authenticity Initiative's library); the key and certificate are checked
when the daemon starts, so a bad pair is one line then, never a failure after a video has been paid for.
"""
from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from loguru import logger

from core.errors import ConfigError
from core.secrets import Secrets
from core.settings import ContentCredentials

GENERATOR = "ai-influencer-daemon"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCES = {"ai", "provider"}  # a scene's picture made by a video model (content/media/pictures.py)
FOOTAGE_SOURCES = {"stock", "library"}
WHERE = "config/config.json"


def digital_source_type(scenes: Sequence[dict[str, Any]]) -> str:
    """IPTC's term for how a video with these scenes was made; with no timeline, a provider made it whole."""
    sources = {str(scene.get("source", "")) for scene in scenes}
    if not scenes or sources & AI_SOURCES:
        return IPTC + "compositeWithTrainedAlgorithmicMedia"  # captions, voice and music over AI pictures
    if sources & FOOTAGE_SOURCES:
        return IPTC + "composite"  # footage with drawn scenes and captions
    return IPTC + "algorithmicMedia"  # every frame drawn by the renderer


class ContentSigner:
    """Signs videos with the configured certificate and the private key from the environment."""

    def __init__(self, settings: ContentCredentials, secrets: Secrets, home_root: Path) -> None:
        self.settings = settings
        chain = (home_root / settings.certificate).read_bytes()
        key = _private_key(secrets.get(settings.key_env), settings.key_env, home_root)
        _check_pair(chain, key, settings.key_env)
        self._info = c2pa.C2paSignerInfo(settings.algorithm, chain, key, settings.timestamp_url)

    @classmethod
    def configured(cls, settings: ContentCredentials, secrets: Secrets, home_root: Path) -> ContentSigner | None:
        """The signer when a certificate is set; a ConfigError (one line, exit 2) when its key is missing or
        does not match it."""
        return cls(settings, secrets, home_root) if settings.certificate else None

    async def sign(self, video: Path, author: str, source_type: str) -> bool:
        """Embed a signed manifest in `video`, in place (the signed copy replaces it whole). A failure is one
        warning and the video stays as it was, unsigned: a paid video is never lost to its credentials."""
        try:
            await asyncio.to_thread(self._sign, video, author, source_type)
            return True
        except (c2pa.C2paError, OSError) as exc:
            logger.warning(f"{video.name}: not signed with content credentials ({type(exc).__name__}: {exc})")
            return False

    def _sign(self, video: Path, author: str, source_type: str) -> None:
        manifest = {
            "claim_generator_info": [{"name": GENERATOR}],
            "title": video.name,
            "format": "video/mp4",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": source_type,
                 "softwareAgent": {"name": GENERATOR}, "parameters": {"description": f"made for {author}"}}]}}],
        }
        signed = video.with_name(f".{video.stem}.signing.mp4")
        try:
            with c2pa.Signer.from_info(self._info) as signer, c2pa.Builder(json.dumps(manifest)) as builder:
                builder.sign_file(video, signed, signer)
            os.replace(signed, video)
        finally:
            signed.unlink(missing_ok=True)


def manifest_of(video: Path) -> dict[str, Any] | None:
    """The video's active manifest with its validation state ("Valid", "Invalid", ...); None when it has none."""
    try:
        with c2pa.Reader(str(video)) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError:
        return None
    active = store.get("manifests", {}).get(store.get("active_manifest", ""))
    if not isinstance(active, dict):
        return None
    return {**active, "validation_state": store.get("validation_state", ""),
            "validation_status": store.get("validation_status", [])}


def _private_key(value: str | None, key_env: str, home_root: Path) -> bytes:
    if not value:
        raise ConfigError(WHERE, f"{key_env} is not set: the certificate's private key (PEM, or a PEM file's path) "
                                 "goes in the environment or .env", "content_credentials.key_env")
    if "-----BEGIN" in value:
        return value.replace("\\n", "\n").encode()
    path = Path(value) if Path(value).is_absolute() else home_root / value
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(WHERE, f"{key_env} names a key file that cannot be read ({type(exc).__name__})",
                          "content_credentials.key_env") from None


def _check_pair(chain: bytes, key_pem: bytes, key_env: str) -> None:
    """The key parses and belongs to the chain's first (leaf) certificate."""
    try:
        leaf = x509.load_pem_x509_certificates(chain)[0]
    except ValueError:
        raise ConfigError(WHERE, "the certificate file is not a readable PEM chain",
                          "content_credentials.certificate") from None
    try:
        key: PrivateKeyTypes = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(WHERE, f"{key_env} is not an unencrypted PEM private key",
                          "content_credentials.key_env") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = key.public_key().public_bytes(serialization.Encoding.DER, spki)
    if ours != leaf.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise ConfigError(WHERE, f"{key_env} is not the key of the certificate's first (leaf) certificate",
                          "content_credentials.key_env")
