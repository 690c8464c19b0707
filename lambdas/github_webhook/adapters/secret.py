"""Adapter: the webhook secret from Secrets Manager, cached a few minutes per container."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.github_webhook.ports import SecretUnavailableError

CACHE_SECONDS = 300  # a rotated secret is picked up within five minutes


class SecretsManagerSecret:
    def __init__(self, name: str, *, client: Any | None = None) -> None:
        self._name, self._client = name, client
        self._cached: tuple[float, str] | None = None

    def value(self) -> str:
        now = time.monotonic()
        if self._cached and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        client = self._client or aws.client("secretsmanager")
        try:
            secret = str(client.get_secret_value(SecretId=self._name)["SecretString"])
        except (ClientError, BotoCoreError, KeyError) as error:
            raise SecretUnavailableError(f"{self._name}: {describe(error)}") from error
        self._cached = (now, secret)
        return secret
