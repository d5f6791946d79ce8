"""Telling people what the daemon did: signed webhooks and a Telegram bot, behind one contract."""
