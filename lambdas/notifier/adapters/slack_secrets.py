"""Adapter: Slack credentials from Secrets Manager, cached by Powertools parameters, never logged.

The webhook secret is either one webhook URL (every channel) or a JSON object mapping channels to
URLs (``{"#lms-releases": "https://hooks.slack.com/...", "*": "..."}``): an incoming webhook posts to
the one channel it was created for, so routes to several channels need several webhooks.
The bot token secret is the ``xoxb-`` token as plain text.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from lambdas.core import aws
from lambdas.notifier.errors import SlackSecretError

SECRET_MAX_AGE_SECONDS = 300

_provider: SecretsProvider | None = None
_provider_client: Any = None


def webhook_urls(secret_name: str) -> dict[str, str]:
    value = _secret(secret_name).strip()
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError as error:
            raise SlackSecretError(f"secret {secret_name} is neither a URL nor a JSON object") from error
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise SlackSecretError(f"secret {secret_name} must map channels to webhook URLs")
        return {str(k): v for k, v in parsed.items()}
    return {"*": value}


def bot_token(secret_name: str) -> str:
    return _secret(secret_name).strip()


def _secret(name: str) -> str:
    try:
        value = _secrets_provider().get(name, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError as error:
        raise SlackSecretError(f"cannot read secret {name}") from error
    if not isinstance(value, str) or not value.strip():
        raise SlackSecretError(f"secret {name} has no text value")
    return value


def _secrets_provider() -> SecretsProvider:
    """One provider per shared client: it uses Tollgate's client, so local tooling sees the call."""
    global _provider, _provider_client
    current = aws.client("secretsmanager")
    if _provider is None or _provider_client is not current:
        _provider, _provider_client = SecretsProvider(boto3_client=current), current
    return _provider
