"""The Slack client against the local receiver: what is retried, what is not, and chat.postMessage answers."""

from __future__ import annotations

import socket
import time

import pytest

from lambdas.notifier.adapters.slack_client import RetryPolicy, SlackBotSender, SlackHttp, SlackWebhookSender
from lambdas.notifier.errors import SlackDeliveryError
from lambdas.notifier.slack_message import SlackMessage
from tollgate.local.slack_receiver import SlackReceiver

FAST = RetryPolicy(max_attempts=3, base_delay_seconds=0.01)
MESSAGE = SlackMessage(text="Deployment failed", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}])


def _http(seconds: float = 10) -> SlackHttp:
    return SlackHttp(deadline=time.monotonic() + seconds, retry=FAST)


def test_a_4xx_is_permanent_and_not_retried(slack_receiver: SlackReceiver) -> None:
    slack_receiver.fail_next(5, status=404)
    sender = SlackWebhookSender(_http(), {"*": slack_receiver.webhook_url("#x")})
    with pytest.raises(SlackDeliveryError, match="HTTP 404"):
        sender.post("#x", MESSAGE)
    assert len(slack_receiver.requests) == 1


def test_5xx_gives_up_after_the_policy_attempts(slack_receiver: SlackReceiver) -> None:
    slack_receiver.fail_next(5, status=503)
    sender = SlackWebhookSender(_http(), {"#x": slack_receiver.webhook_url("#x")})
    with pytest.raises(SlackDeliveryError, match=r"server error \(503\) after 3 attempts"):
        sender.post("#x", MESSAGE)
    assert [s for _, s in slack_receiver.requests] == [503, 503, 503]


def test_an_unreachable_slack_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SlackWebhookSender(_http(), {"*": f"http://127.0.0.1:{port}/webhook/x"})
    with pytest.raises(SlackDeliveryError, match="unreachable"):
        sender.post("#x", MESSAGE)


def test_a_channel_without_a_webhook_is_an_error() -> None:
    with pytest.raises(SlackDeliveryError, match="no Slack webhook configured for #y"):
        SlackWebhookSender(_http(), {"#x": "https://hooks.slack.com/services/x"}).post("#y", MESSAGE)


def test_the_receiver_rejects_what_slack_would(slack_receiver: SlackReceiver) -> None:
    oversized = SlackMessage(text="t", blocks=[{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}])
    with pytest.raises(SlackDeliveryError, match="HTTP 400 invalid_blocks"):
        SlackWebhookSender(_http(), {"*": slack_receiver.webhook_url("#x")}).post("#x", oversized)


def test_chat_post_message_returns_the_ts_and_threads(slack_receiver: SlackReceiver) -> None:
    sender = SlackBotSender(_http(), slack_receiver.bot_token, slack_receiver.api_url)
    parent = sender.post("#x", MESSAGE)
    reply = sender.post("#x", MESSAGE, thread_ts=parent, broadcast=True)
    first, second = slack_receiver.messages
    assert (parent, reply) == (first.ts, second.ts)
    assert second.thread_ts == parent
    assert second.payload["reply_broadcast"] is True


def test_chat_post_message_errors_are_raised(slack_receiver: SlackReceiver) -> None:
    sender = SlackBotSender(_http(), "xoxb-wrong", slack_receiver.api_url)
    with pytest.raises(SlackDeliveryError, match="invalid_auth"):
        sender.post("#x", MESSAGE)
    assert slack_receiver.messages == []


def test_the_receiver_answers_429_with_retry_after(slack_receiver: SlackReceiver) -> None:
    slack_receiver.rate_limit_next(1, retry_after=0.2)
    started = time.monotonic()
    SlackBotSender(_http(), slack_receiver.bot_token, slack_receiver.api_url).post("#x", MESSAGE)
    assert time.monotonic() - started >= 0.2
    assert [s for _, s in slack_receiver.requests] == [429, 200]
