"""Slack button clicks with fakes: signed or refused (401), stale, unknown user refused and recorded, the
request put on the bus exactly as the CLI's, and the buttons the living message offers."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from lambdas.core.config import load_environment
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.notifier.living_message import DeploymentStatus, button_set, render
from lambdas.slack_actions.clicks import handle_click
from lambdas.slack_actions.signature import sign
from tests.unit.notifier.factories import with_bot_token
from tollgate.local.slack_receiver import block_kit_problems

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
RELEASE_MANAGER = "U0RELEASE1"


def _config() -> Any:
    raw = with_bot_token(load_environment("production")).model_dump(mode="json")
    raw["alerts"]["slack_signing_secret"] = "tollgate/production/slack-signing-secret"
    raw["alerts"]["slack_approvers"] = {RELEASE_MANAGER: "release-manager"}
    return type(load_environment("production")).model_validate(raw)


CONFIG = _config()


@dataclass
class FakePorts:
    put_requests: list[tuple[DetailType, dict[str, Any]]] = field(default_factory=list)
    announced: list[TollgateEvent] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)

    def signing_secret(self) -> str:
        return SECRET

    def put(self, detail_type: DetailType, detail: Mapping[str, Any]) -> None:
        self.put_requests.append((detail_type, dict(detail)))

    def announce(self, event: TollgateEvent) -> None:
        self.announced.append(event)

    def reply(self, response_url: str, text: str) -> None:
        self.replies.append((response_url, text))


def click_body(action_id: str = "tollgate_approve", user: str = RELEASE_MANAGER) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "rita"},
        "response_url": "https://hooks.slack.com/actions/T0/1/xyz",
        "actions": [
            {"action_id": action_id, "value": json.dumps({"deployment_id": "d-PROD0001", "service": "backend"})}
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_event(body: bytes, *, at: datetime = NOW, secret: str = SECRET) -> dict[str, Any]:
    timestamp = str(int(at.timestamp()))
    return {
        "headers": {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(secret, timestamp, body)},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def test_a_signed_approve_is_put_on_the_bus_as_the_clis_request_by_the_mapped_approver() -> None:
    ports = FakePorts()
    answer = handle_click(signed_event(click_body()), CONFIG, ports, NOW)
    assert answer.status == 200
    [(detail_type, detail)] = ports.put_requests
    assert detail_type is DetailType.APPROVE_REQUESTED
    assert (detail["deployment_id"], detail["by"], detail["environment"]) == (
        "d-PROD0001",
        "release-manager",
        "production",
    )
    assert "Approve requested" in ports.replies[0][1]


@pytest.mark.parametrize(
    ("action", "detail_type"),
    [
        ("tollgate_reject", DetailType.REJECT_REQUESTED),
        ("tollgate_promote", DetailType.CANARY_PROMOTE_REQUESTED),
        ("tollgate_abort", DetailType.CANARY_ABORT_REQUESTED),
    ],
)
def test_each_button_is_its_request(action: str, detail_type: DetailType) -> None:
    ports = FakePorts()
    handle_click(signed_event(click_body(action)), CONFIG, ports, NOW)
    assert [(t, d["service"]) for t, d in ports.put_requests] == [(detail_type, "backend")]


@pytest.mark.parametrize(
    "forge",
    ["wrong secret", "body changed", "no signature", "stale timestamp", "future timestamp", "timestamp not a number"],
)
def test_a_forged_or_stale_request_is_401_and_does_nothing(forge: str) -> None:
    body = click_body()
    event = signed_event(body, secret="not-the-secret" if forge == "wrong secret" else SECRET)
    if forge == "body changed":
        event["body"] = click_body("tollgate_abort").decode()
    if forge == "no signature":
        del event["headers"]["X-Slack-Signature"]
    if forge in ("stale timestamp", "future timestamp"):
        event = signed_event(body, at=NOW + timedelta(seconds=-301 if forge == "stale timestamp" else 301))
    if forge == "timestamp not a number":
        event["headers"]["X-Slack-Request-Timestamp"] = "soon"
    ports = FakePorts()
    assert handle_click(event, CONFIG, ports, NOW).status == 401
    assert ports.put_requests == [] and ports.announced == [] and ports.replies == []


def test_a_request_four_minutes_old_is_still_accepted() -> None:
    ports = FakePorts()
    assert handle_click(signed_event(click_body(), at=NOW - timedelta(minutes=4)), CONFIG, ports, NOW).status == 200
    assert len(ports.put_requests) == 1


def test_an_unknown_slack_user_is_refused_ephemerally_and_the_refusal_recorded() -> None:
    ports = FakePorts()
    answer = handle_click(signed_event(click_body(user="U0STRANGER")), CONFIG, ports, NOW)
    assert answer.status == 200
    assert ports.put_requests == []
    [refused] = ports.announced
    assert (refused.detail_type, refused.deployment_id) == (DetailType.APPROVAL_REFUSED, "d-PROD0001")
    assert refused.evidence["slack_user"] == "U0STRANGER"
    [(url, text)] = ports.replies
    assert url.startswith("https://hooks.slack.com/") and "may not approve" in text


def test_a_double_click_is_two_identical_requests_that_the_request_function_records_once() -> None:
    # The request function records each decision once (only_if_absent, lambdas/canary/requests.py):
    # here, both clicks carry the same deployment and approver, so they are the same decision.
    ports = FakePorts()
    for _ in range(2):
        handle_click(signed_event(click_body()), CONFIG, ports, NOW)
    assert len({json.dumps(d, sort_keys=True) for _, d in ports.put_requests}) == 1


def test_base64_bodies_are_verified_on_their_bytes() -> None:
    body = click_body()
    event = signed_event(body)
    event.update({"body": base64.b64encode(body).decode(), "isBase64Encoded": True})
    ports = FakePorts()
    assert handle_click(event, CONFIG, ports, NOW).status == 200
    assert len(ports.put_requests) == 1


def test_the_living_message_offers_approve_reject_then_promote_abort_then_nothing() -> None:
    waiting = DeploymentStatus(
        deployment_id="d-PROD0001", environment="production", service="backend", approval="waiting"
    )
    canary = waiting.model_copy(update={"approval": "approved by release-manager", "phase": "Canary at 10%"})
    done = canary.model_copy(update={"outcome": "Succeeded"})
    assert [button_set(s) for s in (waiting, canary, done)] == ["approval", "canary", None]
    actions = [b for b in render(waiting, buttons=True).blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["tollgate_approve", "tollgate_reject"]
    assert json.loads(actions[0]["elements"][0]["value"]) == {"deployment_id": "d-PROD0001", "service": "backend"}
    assert not [b for b in render(waiting).blocks if b["type"] == "actions"]
    assert block_kit_problems(render(canary, buttons=True).payload()) == []
