"""Plain-text emails that stand alone: someone reading only the email knows what happened and where to look."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lambdas.notifier.notification import Notification
from lambdas.notifier.presentation import evidence_lines, facts

# The message attribute naming an email's recipients; each email subscription filters on it.
RECIPIENT_ATTRIBUTE = "recipient"
# SNS Publish: a subject is under 100 characters, with no line breaks or control characters.
SUBJECT_LIMIT = 99
# SNS messages may be 256 KiB of UTF-8 (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, with the
# attributes counted in); an email this long is already unreadable, so the body is cut at 64 KiB of UTF-8.
BODY_LIMIT = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    body: str


def build_email(notification: Notification) -> EmailMessage:
    return EmailMessage(subject=email_subject(notification), body=email_body(notification))


def email_subject(notification: Notification) -> str:
    service = f" ({notification.service})" if notification.service else ""
    raw = f"[{notification.severity.value.upper()}] LMS {notification.environment}: {notification.title}{service}"
    # ASCII only: mail clients and SNS agree on it, and the subject is for scanning, not detail.
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    single_line = _CONTROL.sub(" ", ascii_text).strip()
    if len(single_line) <= SUBJECT_LIMIT:
        return single_line
    return single_line[: SUBJECT_LIMIT - 3].rstrip() + "..."


def email_body(notification: Notification) -> str:
    width = max(len(label) for label, _ in facts(notification)) + 2
    lines = [f"{notification.title} - LMS {notification.environment}", ""]
    lines += [f"{label + ':':<{width}}{value}" for label, value in facts(notification)]
    lines += ["", "Reason:", _indent(notification.reason or "(none given)")]
    if notification.evidence:
        lines += ["", "Evidence:"]
        lines += [_indent(f"{label}: {value}") for label, value in evidence_lines(notification.evidence)]
    footer = ["", f"AWS console: {notification.console_url}" if notification.console_url else "AWS console: (no link)"]
    footer += [
        "",
        f"Sent by Tollgate for event {notification.event_id} ({notification.kind.value}).",
        f"You receive this as a member of the {notification.environment} alert route for "
        f"{notification.severity.value} notifications.",
    ]
    body = "\n".join(lines)
    tail = "\n" + "\n".join(footer) + "\n"
    if _utf8(body) + _utf8(tail) > BODY_LIMIT:
        marker = "\n  ... (truncated; see the AWS console)"
        budget = BODY_LIMIT - _utf8(tail) - _utf8(marker)
        body = body.encode("utf-8")[:budget].decode("utf-8", "ignore") + marker
    return body + tail


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines() or [""])
