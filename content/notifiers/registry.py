"""The notifiers the configuration asks for."""
from __future__ import annotations

from content.notifiers.contract import Notifier
from content.notifiers.telegram import TelegramNotifier
from content.notifiers.webhook import WebhookNotifier
from core.secrets import Secrets
from core.settings import Notifications


def notifiers_of(settings: Notifications, secrets: Secrets) -> list[Notifier]:
    found: list[Notifier] = [WebhookNotifier(webhook, secrets) for webhook in settings.webhooks]
    if settings.telegram.enabled:
        found.append(TelegramNotifier(settings.telegram, secrets))
    return found
