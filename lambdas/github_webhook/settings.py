"""Settings of the webhook receiver, checked at cold start."""

from __future__ import annotations

from pydantic import Field

from lambdas.ledger.settings import LedgerSettings, load_settings


class WebhookSettings(LedgerSettings):
    webhook_secret: str = Field(alias="TOLLGATE_GITHUB_WEBHOOK_SECRET", min_length=1)


def webhook_settings() -> WebhookSettings:
    return load_settings(WebhookSettings, "webhook")
