"""Settings of the webhook receiver, checked at cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import Field, ValidationError

from lambdas.core.config import ConfigError
from lambdas.ledger.settings import LedgerSettings


class WebhookSettings(LedgerSettings):
    webhook_secret: str = Field(alias="TOLLGATE_GITHUB_WEBHOOK_SECRET", min_length=1)


@cache
def webhook_settings() -> WebhookSettings:
    try:
        return WebhookSettings.model_validate(dict(os.environ))
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ConfigError(f"webhook settings: missing or invalid environment variables: {missing}") from error
