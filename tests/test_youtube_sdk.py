"""Google's own client (google-api-python-client, google-auth) driven against the YouTube fake
(tests/fakes/youtube.py): its token refresh, resumable upload in chunks and `videos.list` must all work, so the fake
our publisher is tested against speaks the protocol Google's library speaks."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload

from tests.fakes.youtube import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube

CHUNK = 256 * 1024  # the SDK's chunks are multiples of 256 KiB


def upload_with_the_sdk(url: str, video: Path) -> tuple[dict[str, Any], int]:
    """What Google's upload sample does: videos.insert with a resumable MediaFileUpload, chunk by chunk."""
    credentials = Credentials(None, refresh_token=REFRESH_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              token_uri=f"{url}/token")
    youtube = build("youtube", "v3", credentials=credentials, static_discovery=True,
                    client_options={"api_endpoint": url})
    body = {"snippet": {"title": "A Short from the SDK", "description": "#shorts", "categoryId": "22"},
            "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False,
                       "containsSyntheticMedia": True}}
    request = youtube.videos().insert(part="snippet,status", body=body,
                                      media_body=MediaFileUpload(str(video), mimetype="video/mp4", chunksize=CHUNK,
                                                                 resumable=True))
    request.uri = request.uri.replace("https://", "http://", 1)  # the SDK writes https for uploads; loopback is http
    response, chunks = None, 0
    while response is None:
        _, response = request.next_chunk(num_retries=3)
        chunks += 1
    return response, chunks


async def test_googles_client_uploads_to_the_fake_in_chunks_and_reads_statistics(tmp_path: Path) -> None:
    video = tmp_path / "short.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(3 * CHUNK + 1234))
    fake = FakeYouTube()
    await fake.start()
    try:
        response, chunks = await asyncio.to_thread(upload_with_the_sdk, fake.url, video)
        assert chunks == 4 and response["status"]["uploadStatus"] == "uploaded"
        [session] = fake.sessions.values()
        assert bytes(session.data) == video.read_bytes()
        fake.statistics[response["id"]] = {"viewCount": "77", "likeCount": "5", "commentCount": "1"}

        def statistics() -> dict[str, Any]:
            credentials = Credentials(None, refresh_token=REFRESH_TOKEN, client_id=CLIENT_ID,
                                      client_secret=CLIENT_SECRET, token_uri=f"{fake.url}/token")
            youtube = build("youtube", "v3", credentials=credentials, static_discovery=True,
                            client_options={"api_endpoint": fake.url})
            return dict(youtube.videos().list(part="statistics", id=response["id"]).execute())

        listed = await asyncio.to_thread(statistics)
        assert listed["items"][0]["statistics"]["viewCount"] == "77"

        fake.scenario = "quota"  # the SDK sees the API's own error shape
        try:
            await asyncio.to_thread(upload_with_the_sdk, fake.url, video)
        except HttpError as exc:
            assert exc.status_code == 403 and exc.error_details[0]["reason"] == "quotaExceeded"
        else:
            raise AssertionError("the quota error did not reach the SDK")
    finally:
        await fake.stop()
