"""The notifier on the embedded AWS under faults: each AWS call site x {throttle, AccessDenied, 5xx, timeout},
each step boundary x kill, then Lambda's retries; and Slack answering 500, 429 or something unreadable.

Invariant: the alert reaches email at least once and each Slack channel at most once; the deployment's
living message is posted at most once (a retry that lost its ts finds it by its metadata) and the event's
reply in its thread at most once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from lambdas.core.state_table import StateTable
from lambdas.notifier.adapters.living_messages import StateTableLivingMessages
from lambdas.notifier.adapters.slack_client import RetryPolicy
from lambdas.notifier.adapters.wiring import SystemClock, aws_ports
from lambdas.notifier.errors import NotificationDeliveryError
from lambdas.notifier.handler import process_event
from lambdas.notifier.settings import notifier_settings
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.notifier.conftest import NotifierWorld
from tollgate.local.context import LocalLambdaContext

FAST = RetryPolicy(max_attempts=2, base_delay_seconds=0.01)
LAMBDA_RETRIES = 2  # asynchronous invocations: two retries after the first attempt


class _Later(SystemClock):
    """Lambda retries an asynchronous invocation a minute or more later: by then the leases ran out."""

    def __init__(self, seconds: float) -> None:
        self._shift = timedelta(seconds=seconds)

    def now(self) -> Any:
        return super().now() + self._shift


def _attempt(event: dict[str, Any], retry: int, *, cold: bool = False) -> None:
    """One invocation; ``cold``: in a new container, which knows no living record yet (it reads it first)."""
    settings = notifier_settings()
    ports = dataclasses.replace(aws_ports(settings, FAST), clock=_Later(120 * retry))
    if cold:
        ports = dataclasses.replace(ports, living=StateTableLivingMessages(StateTable(settings.state_table)))
    with contextlib.suppress(NotificationDeliveryError, SimulatedKill):
        process_event(event, LocalLambdaContext(f"notifier-{retry}"), ports=ports)


def _fault_then_retries(
    event: dict[str, Any], operation: str, kind: FaultKind, *, nth: int = 1, cold: bool = False
) -> None:
    """The fault hits ``operation``'s ``nth`` call on the first attempt; Lambda then retries the event."""
    with injected_faults() as faults:
        faults.inject(operation, kind, nth=nth)
        _attempt(event, 0, cold=cold)
        assert faults.hit() == 1, faults.operations
    for retry in range(1, LAMBDA_RETRIES + 1):
        _attempt(event, retry)


def _at_most_once_per_channel(world: NotifierWorld) -> None:
    receiver = world.receiver
    assert len(receiver.top_level("#lms-prod-alerts")) <= 1
    living = receiver.top_level("#lms-releases")
    # Exactly once: the update is at least once (chat.update is idempotent), its creation at most once
    assert len(living) == 1, f"the deployment's living message was posted {len(living)} times"
    assert "Stopped" in str(living[0].payload["blocks"])
    for parent in living:
        assert len(receiver.replies(parent.ts)) <= 1


# (call site, operation, nth): the notifier's AWS calls for a production STOP with a bot token, in order:
# GetDeployment; email: PutItem (claim), Publish, UpdateItem (complete); Slack: GetSecretValue, GetItem
# (thread), PutItem (claim), the post, UpdateItem (complete), PutItem (thread); the living message
# (#lms-releases): PutItem (claim), GetItem (its record), PutItem (creation lease), chat.postMessage,
# UpdateItem (record its ts), the thread reply, UpdateItem (complete).
CALL_SITES = [
    ("codedeploy GetDeployment", "codedeploy:GetDeployment", 1),
    ("email claim", "dynamodb:PutItem", 1),
    ("SNS Publish", "sns:Publish", 1),
    ("email complete", "dynamodb:UpdateItem", 1),
    ("GetSecretValue", "secretsmanager:GetSecretValue", 1),
    ("thread lookup", "dynamodb:GetItem", 1),
    ("Slack claim", "dynamodb:PutItem", 2),
    ("Slack complete", "dynamodb:UpdateItem", 2),
    ("thread record", "dynamodb:PutItem", 3),
    ("living claim", "dynamodb:PutItem", 4),
    ("living record read", "dynamodb:GetItem", 2),
    ("living creation lease", "dynamodb:PutItem", 5),
    ("living record ts", "dynamodb:UpdateItem", 3),
    ("living complete", "dynamodb:UpdateItem", 4),
]
CASES = [(site, op, nth, kind) for site, op, nth in CALL_SITES for kind in (*CALL_FAULTS, *KILLS)]


@pytest.mark.parametrize(
    ("site", "operation", "nth", "kind"),
    CASES,
    ids=[f"{site}-{kind.value}".replace(" ", "_") for site, _, _, kind in CASES],
)
def test_each_call_site_and_kill_keeps_email_at_least_once_and_slack_at_most_once(  # noqa: PLR0917
    notifier_world: NotifierWorld, load_event: Any, site: str, operation: str, nth: int, kind: FaultKind
) -> None:
    # Given production's notifier (bot token: threads) and a STOP (Slack and email)
    notifier_world.use_environment("production", bot_token=True)
    event = load_event("codedeploy-deployment-stop.json")
    # When the fault hits the call site on the first attempt, and Lambda retries
    _fault_then_retries(event, operation, kind, nth=nth)
    # Then email at least once, Slack at most once per channel, the living message posted at most once
    assert len(notifier_world.emails()) >= 1
    _at_most_once_per_channel(notifier_world)


# Kinds shown only in the living message (START, alarms) take no delivery claim: the record's seen ids and
# conditional save, and the creation lease, keep them once. START creating the message: GetDeployment,
# GetSecretValue, GetItem (record), PutItem (creation lease), chat.postMessage, UpdateItem (record its ts).
# An alarm on it: GetItem (record), UpdateItem (save the status), chat.update.
UPDATE_ONLY_SITES = [
    ("start", "codedeploy GetDeployment", "codedeploy:GetDeployment"),
    ("start", "GetSecretValue", "secretsmanager:GetSecretValue"),
    ("start", "living record read", "dynamodb:GetItem"),
    ("start", "living creation lease", "dynamodb:PutItem"),
    ("start", "living record ts", "dynamodb:UpdateItem"),
    # A container that handled the START saves the alarm on the record it knows; a new one reads it first.
    ("alarm", "living status save", "dynamodb:UpdateItem"),
    ("cold alarm", "living record read", "dynamodb:GetItem"),
    ("cold alarm", "living status save", "dynamodb:UpdateItem"),
]
UPDATE_ONLY_CASES = [
    (event, site, op, kind) for event, site, op in UPDATE_ONLY_SITES for kind in (*CALL_FAULTS, *KILLS)
]


def _alarm_on(start: dict[str, Any]) -> dict[str, Any]:
    """What lambdas/rollback announces for an alarm on the deployment (info: nobody is paged)."""
    return {
        "version": "0",
        "id": "00000000-0000-4000-9000-000000000020",
        "detail-type": "Alarm Announced",
        "source": "tollgate",
        "account": start["account"],
        "time": start["time"],
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "environment": "production",
            "severity": "info",
            "service": "backend",
            "deployment_id": start["detail"]["deploymentId"],
            "occurred_at": "2026-03-12T14:00:04+00:00",
            "summary": "Alarm on backend in production",
            "reason": "",
            "evidence": {"alarm_name": "lms-production-backend-p99", "alarm_state": "ALARM"},
        },
    }


@pytest.mark.parametrize(
    ("subject", "site", "operation", "kind"),
    UPDATE_ONLY_CASES,
    ids=[f"{subject}-{site}-{kind.value}".replace(" ", "_") for subject, site, _, kind in UPDATE_ONLY_CASES],
)
def test_an_event_shown_only_in_the_message_is_shown_once_through_each_call_site_and_kill(  # noqa: PLR0917
    notifier_world: NotifierWorld, load_event: Any, subject: str, site: str, operation: str, kind: FaultKind
) -> None:
    # Given production's notifier with a bot token; for the alarm, the deployment's message posted by its START
    notifier_world.use_environment("production", bot_token=True)
    start = load_event("codedeploy-deployment-start.json")
    event = start if subject == "start" else _alarm_on(start)
    if subject != "start":
        _attempt(start, 0)
    # When the fault hits the call site on the first attempt, and Lambda retries
    _fault_then_retries(event, operation, kind, cold=subject == "cold alarm")
    # Then one message, showing the event once, and no delivery claim written for it
    [living] = notifier_world.receiver.top_level("#lms-releases")
    assert notifier_world.receiver.replies(living.ts) == []
    shown = str(living.payload["blocks"])
    assert ("lms-production-backend-p99*: ALARM (\u00d71" in shown) == (subject != "start"), shown
    record = notifier_world.living_record(start["detail"]["deploymentId"])
    assert record is not None and record["ts"]["S"] == living.ts
    assert json.loads(record["status_json"]["S"])["seen"] == [
        start["id"],
        *([event["id"]] if subject != "start" else []),
    ]
    assert notifier_world.delivery_records(event["id"]) == {}


@pytest.mark.parametrize("answer", ["500", "429"])
def test_slack_failing_for_the_whole_first_attempt_is_posted_once_by_the_retry(
    notifier_world: NotifierWorld, load_event: Any, answer: str
) -> None:
    notifier_world.use_environment("production", bot_token=True)
    if answer == "429":
        notifier_world.receiver.rate_limit_next(2, retry_after=0)
    else:
        notifier_world.receiver.fail_next(2, status=500)
    event = load_event("codedeploy-deployment-stop.json")
    _attempt(event, 0)
    assert len(notifier_world.receiver.top_level("#lms-prod-alerts")) == 0
    assert len(notifier_world.emails()) == 1
    _attempt(event, 1)
    # The alert channel's post and the living message (posted once, its reply once)
    assert len(notifier_world.receiver.top_level("#lms-prod-alerts")) == 1
    [living] = notifier_world.receiver.top_level("#lms-releases")
    assert len(notifier_world.receiver.replies(living.ts)) == 1
    assert len(notifier_world.emails()) == 1


# -- a Slack that answers something unreadable ------------------------------------------------------------
_ANSWERS = {
    "bad-status-line": b"HTTP/1.1 abc\r\n\r\n",
    "garbage": b"\x00\x01 not http at all\r\n\r\n",
    "truncated-body": b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ok": tr',
    "not-json": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\nnot json!",
    "disconnect": b"",
}


class _BrokenSlack:
    """A loopback server that reads each request and answers with raw bytes (or hangs up)."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.requests = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        data += connection.recv(65536)
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = next(
                        (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")),
                        0,
                    )
                    while len(body) < length:
                        body += connection.recv(65536)
                except OSError:
                    continue
                self.requests += 1
                if self.answer:
                    connection.sendall(self.answer)

    def close(self) -> None:
        self._server.close()


@pytest.fixture(params=list(_ANSWERS))
def broken_slack(request: pytest.FixtureRequest) -> Iterator[tuple[str, _BrokenSlack]]:
    server = _BrokenSlack(_ANSWERS[request.param])
    yield request.param, server
    server.close()


@pytest.mark.parametrize("via", ["webhook", "chat.postMessage"])
def test_an_unreadable_slack_answer_never_stops_the_email_and_is_never_posted_twice(
    notifier_world: NotifierWorld,
    load_event: Any,
    broken_slack: tuple[str, _BrokenSlack],
    via: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given Slack answering something unreadable (issue 9: it escaped the client and stopped the email)
    name, server = broken_slack
    notifier_world.use_environment("production", bot_token=via == "chat.postMessage")
    if via == "webhook":
        boto3.client("secretsmanager").put_secret_value(
            SecretId="tollgate/production/slack-webhook", SecretString=f"{server.url}/webhook/x"
        )
    else:
        monkeypatch.setenv("TOLLGATE_SLACK_API_URL", f"{server.url}/api")
    event = load_event("codedeploy-deployment-stop.json")
    # When the STOP is handled, then retried by Lambda
    result = process_event(event, LocalLambdaContext("notifier"), slack_retry=FAST)
    _attempt(event, 1)
    # Then no exception escaped, the email went out once, and Slack was asked once per message that may
    # have been posted (the alert channel's post and, with a bot token, the living message's creation)
    statuses = {d["channel"]: d["status"] for d in result["deliveries"]}
    # A webhook's 200 body is not read as JSON: "not json!" is a plain success there
    slack = "sent" if (name, via) == ("not-json", "webhook") else "unconfirmed"
    expected = {"slack": slack, "email": "sent"}
    if via == "chat.postMessage":
        expected["slack_living"] = "unconfirmed"
    assert statuses == expected, name
    assert len(notifier_world.emails()) == 1
    # (the retry finds both deliveries done: the next event of the deployment takes the living message's
    # creation lease over and looks for the message by its metadata before posting)
    assert server.requests == (1 if via == "webhook" else 2), name
