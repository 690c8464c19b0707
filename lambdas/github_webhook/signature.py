"""GitHub's webhook signature (pure): ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``.

https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries — compare in constant
time (``hmac.compare_digest``), over the exact bytes received, before parsing anything.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())
