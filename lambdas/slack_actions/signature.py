"""Is a request from Slack (pure): ``v0`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret,
compared in constant time; a timestamp more than five minutes from now is refused (a replay)
(https://api.slack.com/authentication/verifying-requests-from-slack)."""

from __future__ import annotations

import hashlib
import hmac

MAX_AGE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def refusal(secret: str, *, timestamp: str | None, signature: str | None, body: bytes, now: float) -> str | None:
    """Why the request is not Slack's (None when it is)."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number"
    if abs(now - sent) > MAX_AGE_SECONDS:
        return "request timestamp more than five minutes from now"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        return "signature does not match"
    return None
