"""What the webhook receiver needs: the shared secret and a place to record builds once."""

from __future__ import annotations

from typing import Protocol

from lambdas.ledger.ports import BuildWriter


class WebhookSecret(Protocol):
    def value(self) -> str:
        """The webhook's shared secret (raises SecretUnavailableError when it cannot be read)."""
        ...


class SecretUnavailableError(Exception):
    """The secret could not be read: answer 500 so GitHub shows a failed delivery that can be redelivered."""


__all__ = ["BuildWriter", "SecretUnavailableError", "WebhookSecret"]
