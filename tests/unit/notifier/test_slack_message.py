"""Block Kit: valid block types, Slack's length limits, truncation that keeps a link, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.core.config import Severity
from lambdas.notifier.notification import NotificationKind
from lambdas.notifier.slack_message import (
    BLOCKS_LIMIT,
    FIELD_TEXT_LIMIT,
    FIELDS_LIMIT,
    HEADER_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    build_slack_message,
    fit_text,
    slack_length,
)
from tests.unit.notifier.factories import notification

BLOCK_TYPES = {"header", "section", "actions", "context"}


def _texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(block type, text) of every text object in the message."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append((block["type"], block["text"]["text"]))
        found += [("field", f["text"]) for f in block.get("fields", [])]
        found += [("context", e["text"]) for e in block.get("elements", []) if block["type"] == "context"]
    return found


def assert_within_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= BLOCKS_LIMIT
    for block in blocks:
        assert block["type"] in BLOCK_TYPES
        if block["type"] == "section":
            assert "text" in block or block["fields"]
            assert len(block.get("fields", [])) <= FIELDS_LIMIT
    for kind, text in _texts(blocks):
        limit = {"header": HEADER_TEXT_LIMIT, "field": FIELD_TEXT_LIMIT}.get(kind, SECTION_TEXT_LIMIT)
        assert slack_length(text) <= limit, (kind, slack_length(text))


def test_message_reads_top_down_header_facts_reason_evidence_button() -> None:
    # Given a failed production deployment
    subject = notification()
    # When it becomes a Slack message
    message = build_slack_message(subject)
    # Then the header says what and where, the fields hold the facts, and a button opens the console
    types = [b["type"] for b in message.blocks]
    assert types == ["header", "section", "section", "section", "actions", "context"]
    header = message.blocks[0]["text"]
    assert header["type"] == "plain_text"
    assert "Deployment failed" in header["text"]
    assert "production" in header["text"]
    fields = [f["text"] for f in message.blocks[1]["fields"]]
    for expected in ("*Environment*\nproduction", "*Service*\nbackend", "*Version*\nlms-production-backend:42"):
        assert expected in fields
    assert "*Deployment*\nd-ABCDEF123" in fields
    assert "CodeDeploy reported FAILURE." in message.blocks[2]["text"]["text"]
    assert "lms-production-5xx" in message.blocks[3]["text"]["text"]
    button = message.blocks[4]["elements"][0]
    assert (button["type"], button["url"]) == ("button", subject.console_url)
    assert message.text.endswith(subject.summary())
    assert_within_limits(message.blocks)


def test_without_reason_evidence_or_link_those_blocks_are_left_out() -> None:
    message = build_slack_message(notification(reason="", evidence={}, console_url=None))
    assert [b["type"] for b in message.blocks] == ["header", "section", "context"]


def test_unknown_facts_are_said_to_be_unknown() -> None:
    message = build_slack_message(notification(service=None, version=None, deployment_id=None))
    fields = [f["text"] for f in message.blocks[1]["fields"]]
    assert "*Service*\nunknown" in fields
    assert "*Deployment*\nnone" in fields


def test_user_text_is_escaped_so_it_cannot_ping_or_link() -> None:
    message = build_slack_message(notification(reason="<!channel> & <https://evil|click>"))
    reason = message.blocks[2]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in reason
    assert "<!channel>" not in reason


def test_an_overlong_reason_is_truncated_with_a_link_to_the_console() -> None:
    # Given a reason far over a section's 3000 characters
    subject = notification(reason="x" * 10_000)
    # When
    reason = build_slack_message(subject).blocks[2]["text"]["text"]
    # Then it is cut to the limit and ends pointing at the console
    assert slack_length(reason) <= SECTION_TEXT_LIMIT
    assert reason.startswith("*Reason*\nxxxx")
    assert reason.endswith(f"<{subject.console_url}|AWS console>)")


def test_an_overlong_header_is_cut_with_an_ellipsis() -> None:
    header = build_slack_message(notification(title="T" * 400)).blocks[0]["text"]["text"]
    assert slack_length(header) == HEADER_TEXT_LIMIT
    assert header.endswith("\u2026")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("abcdefghij", 5, "abcd\u2026"),
        ("a &amp; b", 6, "a \u2026"),  # a cut entity is dropped, not shown in half
    ],
)
def test_fit_text(text: str, limit: int, expected: str) -> None:
    assert fit_text(text, limit) == expected


def test_emoji_count_as_two_so_slack_never_counts_more_than_we_do() -> None:
    assert slack_length("\U0001f534") == 2
    assert slack_length(fit_text("\U0001f534" * 100, 11, mrkdwn=False)) <= 11


_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6000)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(min_size=1, max_size=600),
    reason=_TEXT,
    evidence=st.dictionaries(st.text(max_size=50), st.text(max_size=3000), max_size=8),
    service=st.one_of(st.none(), st.text(max_size=2500)),
    severity=st.sampled_from(list(Severity)),
    kind=st.sampled_from(list(NotificationKind)),
)
def test_any_notification_fits_slack_limits_and_keeps_its_blocks(
    *,
    title: str,
    reason: str,
    evidence: dict[str, str],
    service: str | None,
    severity: Severity,
    kind: NotificationKind,
) -> None:
    # Given any content, however long
    subject = notification(title=title, reason=reason, evidence=evidence, service=service, severity=severity, kind=kind)
    # When built
    message = build_slack_message(subject)
    # Then every limit holds and nothing is dropped: header and facts always, reason/evidence when present
    assert_within_limits(message.blocks)
    types = [b["type"] for b in message.blocks]
    assert types[:2] == ["header", "section"]
    assert types.count("section") == 1 + bool(reason) + bool(evidence)
    assert message.text
