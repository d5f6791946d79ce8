"""The publishers a persona posts through, from its `publishing` settings: the engine asks for them by account and
knows no platform's name."""
from __future__ import annotations

from content.publishers.contract import Publisher
from content.publishers.instagram import InstagramPublisher
from content.publishers.tiktok import TikTokPublisher
from content.publishers.youtube import YouTubePublisher
from core.secrets import Secrets
from core.settings import Account


def publishers_of(account: Account, secrets: Secrets) -> list[Publisher]:
    """One publisher for each platform the account has switched on."""
    settings = account.publishing
    made: list[Publisher] = []
    if settings.instagram.enabled:
        made.append(InstagramPublisher(settings.instagram, secrets))
    if settings.youtube.enabled:
        made.append(YouTubePublisher(settings.youtube, secrets))
    if settings.tiktok.enabled:
        made.append(TikTokPublisher(settings.tiktok, secrets))
    return made
