"""Slack client rules that need no network: URL checks, backoff, Retry-After parsing."""

from __future__ import annotations

import pytest

from lambdas.notifier.adapters.slack_client import RetryPolicy, _retry_after, check_slack_url
from lambdas.notifier.errors import SlackDeliveryError


@pytest.mark.parametrize(
    "url", ["https://hooks.slack.com/services/T/B/X", "http://127.0.0.1:8080/webhook/x", "http://localhost:1/api"]
)
def test_https_and_loopback_urls_are_allowed(url: str) -> None:
    assert check_slack_url(url) == url


@pytest.mark.parametrize("url", ["http://hooks.slack.com/x", "file:///etc/passwd", "ftp://x/y", "not a url"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(SlackDeliveryError):
        check_slack_url(url)


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=3)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("headers", "seconds"), [({"Retry-After": "7"}, 7.0), ({}, 1.0), ({"Retry-After": "soon"}, 1.0), (None, 1.0)]
)
def test_retry_after_is_honoured_or_defaults_to_a_second(headers: dict[str, str] | None, seconds: float) -> None:
    assert _retry_after(headers) == seconds
