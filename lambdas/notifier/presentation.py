"""Wording shared by the Slack and email messages (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lambdas.core.config import Severity
from lambdas.notifier.notification import Notification, NotificationKind

_GOOD_NEWS = {
    NotificationKind.DEPLOYMENT_SUCCEEDED: "\u2705",  # check mark
    NotificationKind.CANARY_STEP_PASSED: "\u2705",
    NotificationKind.DEPLOYMENT_STARTED: "\U0001f680",  # rocket
    NotificationKind.APPROVAL_NEEDED: "\u270b",  # raised hand
}
_BY_SEVERITY = {
    Severity.INFO: "\u2139\ufe0f",  # information
    Severity.WARNING: "\u26a0\ufe0f",  # warning sign
    Severity.CRITICAL: "\U0001f534",  # red circle
}


def emoji_for(notification: Notification) -> str:
    """A glyph that says good/bad before a word is read; severity wins over good news."""
    if notification.severity is Severity.INFO and notification.kind in _GOOD_NEWS:
        return _GOOD_NEWS[notification.kind]
    return _BY_SEVERITY[notification.severity]


def when_text(moment: datetime) -> str:
    """A notification's time as people read it: UTC, to the second."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def evidence_lines(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Evidence as (label, value) pairs; nested values as compact JSON."""
    lines = []
    for key, value in evidence.items():
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        lines.append((str(key), text))
    return lines


def facts(notification: Notification) -> list[tuple[str, str]]:
    """The fields a reader scans for first, in reading order; unknown ones are said to be unknown."""
    return [
        ("Environment", notification.environment),
        ("Service", notification.service or "unknown"),
        ("Version", notification.version or "unknown"),
        ("Deployment", notification.deployment_id or "none"),
        ("Severity", notification.severity.value),
        ("When", when_text(notification.occurred_at)),
    ]
