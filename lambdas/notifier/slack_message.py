"""Block Kit messages a person reads in two seconds (pure).

Layout: a header (what happened, where), the facts as section fields, the reason, the evidence,
a button to the AWS console and a context line. Slack rejects a message that breaks a Block Kit
limit (https://api.slack.com/reference/block-kit/blocks), so every text is fitted to its limit here:
a text too long is cut and ends with a link to the console, so the message is never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambdas.notifier.notification import Notification
from lambdas.notifier.presentation import emoji_for, evidence_lines, facts

HEADER_TEXT_LIMIT = 150
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
FIELDS_LIMIT = 10
BLOCKS_LIMIT = 50
BUTTON_TEXT_LIMIT = 75
URL_LIMIT = 3000
# The fallback ``text`` shows in notifications; Slack truncates it at 40,000, people at far less.
FALLBACK_TEXT_LIMIT = 3000

_ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class SlackMessage:
    """``text`` is the notification fallback; ``blocks`` what people see."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def slack_length(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units): never under-counts emoji."""
    return len(text.encode("utf-16-le")) // 2


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit_text(text: str, limit: int, *, link: str | None = None, mrkdwn: bool = True) -> str:
    """``text`` if it fits in ``limit``, else its start followed by a marker (and the link in mrkdwn)."""
    if slack_length(text) <= limit:
        return text
    marker = f"{_ELLIPSIS} (truncated; full details in the <{link}|AWS console>)" if mrkdwn and link else _ELLIPSIS
    if slack_length(marker) >= limit:
        marker = _ELLIPSIS
    budget = limit - slack_length(marker)
    cut = _cut_to(text, budget)
    if mrkdwn:
        cut = _without_broken_entity(cut)
    return cut + marker


def build_slack_message(notification: Notification) -> SlackMessage:
    link = notification.console_url if notification.console_url and len(notification.console_url) <= URL_LIMIT else None
    header = f"{emoji_for(notification)} {notification.title} \u00b7 {notification.environment}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit_text(header, HEADER_TEXT_LIMIT, mrkdwn=False)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": fit_text(f"*{label}*\n{escape_mrkdwn(value)}", FIELD_TEXT_LIMIT, link=link)}
                for label, value in facts(notification)[:FIELDS_LIMIT]
            ],
        },
    ]
    if notification.reason:
        blocks.append(_text_section(f"*Reason*\n{escape_mrkdwn(notification.reason)}", link))
    if notification.evidence:
        lines = "\n".join(
            f"\u2022 *{escape_mrkdwn(k)}*: {escape_mrkdwn(v)}" for k, v in evidence_lines(notification.evidence)
        )
        blocks.append(_text_section(f"*Evidence*\n{lines}", link))
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in AWS console"[:BUTTON_TEXT_LIMIT]},
                        "url": link,
                        "action_id": "open_console",
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": fit_text(
                        f"Tollgate \u00b7 {notification.kind.value} \u00b7 "
                        f"event {escape_mrkdwn(notification.event_id)}",
                        SECTION_TEXT_LIMIT,
                    ),
                }
            ],
        }
    )
    # The fallback text is mrkdwn too: escaped, so an announced "<!channel>" never pings anyone.
    fallback = f"{emoji_for(notification)} {escape_mrkdwn(notification.summary())}"
    return SlackMessage(text=fit_text(fallback, FALLBACK_TEXT_LIMIT), blocks=blocks[:BLOCKS_LIMIT])


def _text_section(text: str, link: str | None) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text, SECTION_TEXT_LIMIT, link=link)}}


def _cut_to(text: str, budget: int) -> str:
    """The longest prefix of ``text`` whose Slack length is at most ``budget``."""
    used = 0
    for index, char in enumerate(text):
        used += slack_length(char)
        if used > budget:
            return text[:index]
    return text


def _without_broken_entity(text: str) -> str:
    """Drop a trailing, cut-off ``&amp;``-style entity so Slack does not show half of it."""
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:]:
        return text[:amp]
    return text
