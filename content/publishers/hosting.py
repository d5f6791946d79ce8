"""Media hosting: a delivered video put in S3-compatible object storage (AWS S3, Cloudflare R2, MinIO, Backblaze B2)
and handed out as a presigned, expiring link, for a platform that fetches the video itself (Instagram's `video_url`).

boto3 does the work (its calls are blocking: each runs in a thread). The keys come from the environment or `.env`
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); boto3's own lookups (~/.aws, instance roles) are not used, so what
the daemon can reach is what its environment says. An object already stored whole is not sent again.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from content.publishers.contract import PublishError
from core.errors import ErrorClass
from core.secrets import Secrets
from core.settings import MediaHosting

KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken"}
RETRY_CODES = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "503", "500"}


class MediaHost:
    def __init__(self, settings: MediaHosting, secrets: Secrets) -> None:
        self.settings = settings
        self.secrets = secrets
        self._client: Any = None

    def missing_requirements(self) -> list[str]:
        missing = [] if self.settings.bucket else ["media_hosting.bucket in config/config.json"]
        return missing + [key for key in KEYS if not self.secrets.has(key)]

    def key_of(self, name: str) -> str:
        return f"{self.settings.prefix}{name}"

    async def link(self, file: Path, name: str, content_type: str) -> str:
        """`file` stored as `name` (once), and a link that fetches it until it expires."""
        return await asyncio.to_thread(self._link, file, self.key_of(name), content_type)

    async def remove(self, name: str) -> None:
        await asyncio.to_thread(self._call, "delete_object", Bucket=self.settings.bucket, Key=self.key_of(name))

    def _link(self, file: Path, key: str, content_type: str) -> str:
        if self._stored_size(key) != file.stat().st_size:
            self._call("upload_file", str(file), self.settings.bucket, key, ExtraArgs={"ContentType": content_type})
        return str(self._call("generate_presigned_url", "get_object",
                              Params={"Bucket": self.settings.bucket, "Key": key},
                              ExpiresIn=self.settings.link_expiry_s))

    def _stored_size(self, key: str) -> int | None:
        try:
            return int(self.client().head_object(Bucket=self.settings.bucket, Key=key)["ContentLength"])
        except Exception as exc:  # botocore's ClientError, or one of its connection errors
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("head_object", exc) from None

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.client(), operation)(*args, **kwargs)
        except Exception as exc:
            raise self._error(operation, exc) from None

    def _error(self, operation: str, exc: Exception) -> PublishError:
        """A storage failure in the engine's classes: bad keys disable, a throttle or a dropped connection retry."""
        code = _code(exc)
        where = f"media hosting ({self.settings.bucket}): {operation} failed"
        detail = self.secrets.redact(" ".join(str(exc).split())[:200])
        if code in AUTH_CODES:
            return PublishError(f"{where}: the storage refused the keys ({code})", ErrorClass.AUTH)
        if code in RETRY_CODES or not code:
            return PublishError(f"{where}: {detail}", ErrorClass.TEMPORARY)
        return PublishError(f"{where}: {detail}", ErrorClass.INVALID_REQUEST)

    def client(self) -> Any:
        if self._client is None:
            import boto3  # loaded when a video is hosted, not at every start
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.settings.endpoint_url, region_name=self.settings.region,
                aws_access_key_id=self.secrets.get(KEYS[0]), aws_secret_access_key=self.secrets.get(KEYS[1]),
                config=Config(signature_version="s3v4", retries={"max_attempts": 2, "mode": "standard"},
                              connect_timeout=15, read_timeout=60))
        return self._client


def _code(exc: Exception) -> str:
    """The S3 error code of a botocore ClientError (empty for a connection failure)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
