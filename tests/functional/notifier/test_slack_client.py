"""The Slack client against the local receiver: what is retried, what is not, and chat.postMessage answers."""

from __future__ import annotations

import socket
import time

import pytest

from lambdas.notifier.adapters import slack_client
from lambdas.notifier.adapters.slack_client import (
    HISTORY_PAGE_SIZE,
    RetryPolicy,
    SlackBotSender,
    SlackHttp,
    SlackWebhookSender,
)
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


# -- the Web API the living message uses, against the local Slack over HTTP ---------------------------------
CHANNEL = "C0STAGING01"


def _bot(receiver: SlackReceiver, token: str | None = None) -> SlackBotSender:
    receiver.register_channel("#lms-staging-deploys", CHANNEL)
    return SlackBotSender(_http(), token or receiver.bot_token, receiver.api_url)


def test_chat_update_replaces_the_message_in_place_keeping_its_thread_and_metadata(
    slack_receiver: SlackReceiver,
) -> None:
    sender = _bot(slack_receiver)
    meta = {"event_type": "tollgate_deployment", "event_payload": {"deployment_id": "d-1"}}
    ts = sender.post_message(CHANNEL, MESSAGE, metadata=meta)
    sender.post_message(CHANNEL, MESSAGE, thread_ts=ts)
    newer = SlackMessage(
        text="Deployment succeeded", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "y"}}]
    )
    sender.update(CHANNEL, ts, newer)
    [parent] = slack_receiver.top_level("#lms-staging-deploys")
    assert (parent.ts, parent.text, parent.updates, parent.metadata) == (ts, "Deployment succeeded", 1, meta)
    assert parent.edits[0]["text"] == "Deployment failed"
    assert [r.thread_ts for r in slack_receiver.replies(ts)] == [ts]


def test_conversations_history_finds_the_message_by_its_metadata(slack_receiver: SlackReceiver) -> None:
    sender = _bot(slack_receiver)
    sender.post_message(CHANNEL, MESSAGE)  # another message, no metadata
    meta = {"event_type": "tollgate_deployment", "event_payload": {"deployment_id": "d-2"}}
    ts = sender.post_message(CHANNEL, MESSAGE, metadata=meta)
    found = sender.find_message(CHANNEL, event_type="tollgate_deployment", deployment_id="d-2", oldest=0)
    missing = sender.find_message(CHANNEL, event_type="tollgate_deployment", deployment_id="d-3", oldest=0)
    later = sender.find_message(CHANNEL, event_type="tollgate_deployment", deployment_id="d-2", oldest=4e9)
    assert (found, missing, later) == (ts, None, None)


def test_chat_delete_takes_the_bots_message_back_and_a_gone_one_is_no_error(slack_receiver: SlackReceiver) -> None:
    sender = _bot(slack_receiver)
    kept, taken_back = sender.post_message(CHANNEL, MESSAGE), sender.post_message(CHANNEL, MESSAGE)
    sender.delete(CHANNEL, taken_back)
    sender.delete(CHANNEL, taken_back)  # already gone: message_not_found is the wanted state
    assert [m.ts for m in slack_receiver.messages] == [kept]
    with pytest.raises(SlackDeliveryError, match="channel_not_found"):
        sender.delete("C0NOSUCHCHAN", kept)


def test_the_history_is_paged_so_a_busy_channel_does_not_hide_the_message(slack_receiver: SlackReceiver) -> None:
    # Given the deployment's message, then more messages than one page holds
    sender = _bot(slack_receiver)
    meta = {"event_type": "tollgate_deployment", "event_payload": {"deployment_id": "d-busy"}}
    ts = sender.post_message(CHANNEL, MESSAGE, metadata=meta)
    for _ in range(HISTORY_PAGE_SIZE + 5):
        sender.post_message(CHANNEL, MESSAGE)
    before = len(slack_receiver.requests)
    # When it is looked for
    found = sender.find_message(CHANNEL, event_type="tollgate_deployment", deployment_id="d-busy", oldest=0)
    # Then the second page has it
    assert found == ts
    assert len(slack_receiver.requests) - before == 2


def test_a_history_longer_than_the_search_gives_up_without_an_error(
    slack_receiver: SlackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_client, "HISTORY_PAGE_SIZE", 2)
    sender = _bot(slack_receiver)
    meta = {"event_type": "tollgate_deployment", "event_payload": {"deployment_id": "d-deep"}}
    sender.post_message(CHANNEL, MESSAGE, metadata=meta)
    for _ in range(2 * slack_client.HISTORY_PAGES):
        sender.post_message(CHANNEL, MESSAGE)
    before = len(slack_receiver.requests)
    assert sender.find_message(CHANNEL, event_type="tollgate_deployment", deployment_id="d-deep", oldest=0) is None
    assert len(slack_receiver.requests) - before == slack_client.HISTORY_PAGES


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("update unknown ts", "message_not_found"),
        ("update by name", "channel_not_found"),
        ("post unknown id", "channel_not_found"),
        ("reply to nothing", "thread_not_found"),
        ("wrong token", "invalid_auth"),
        ("history wrong token", "invalid_auth"),
    ],
)
def test_web_api_errors_are_ok_false_with_slacks_codes_and_raised(
    slack_receiver: SlackReceiver, call: str, error: str
) -> None:
    sender = _bot(slack_receiver)
    wrong = _bot(slack_receiver, token="xoxb-wrong")
    ts = sender.post_message(CHANNEL, MESSAGE)
    actions = {
        "update unknown ts": lambda: sender.update(CHANNEL, "1.000001", MESSAGE),
        "update by name": lambda: sender.update("#lms-staging-deploys", ts, MESSAGE),
        "post unknown id": lambda: sender.post_message("C0NOSUCHONE", MESSAGE),
        "reply to nothing": lambda: sender.post_message(CHANNEL, MESSAGE, thread_ts="1.000001"),
        "wrong token": lambda: wrong.update(CHANNEL, ts, MESSAGE),
        "history wrong token": lambda: wrong.find_message(CHANNEL, event_type="x", deployment_id="d", oldest=0),
    }
    with pytest.raises(SlackDeliveryError, match=error):
        actions[call]()
    # Slack answers these with HTTP 200 and ok: false; nothing changed
    assert all(status == 200 for _, status in slack_receiver.requests)
    assert [m.updates for m in slack_receiver.messages] == [0]


def test_chat_update_rate_limited_waits_and_lands_once(slack_receiver: SlackReceiver) -> None:
    sender = _bot(slack_receiver)
    ts = sender.post_message(CHANNEL, MESSAGE)
    slack_receiver.rate_limit_next(1, retry_after=0)
    sender.update(CHANNEL, ts, MESSAGE)
    assert [s for _, s in slack_receiver.requests] == [200, 429, 200]
    assert slack_receiver.messages[0].updates == 1
