"""The webhook use case over fakes: cap, signature, event type, one record per delivery."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.github_webhook.ports import SecretUnavailableError
from lambdas.github_webhook.receive import Delivery, receive
from lambdas.github_webhook.signature import sign, verify
from tests.unit.ledger.fakes import FakeLedger
from tollgate.local.github_webhook import function_url_event, workflow_run_payload


class Secret:
    def __init__(self, value: str | None) -> None:
        self._value = value

    def value(self) -> str:
        if self._value is None:
            raise SecretUnavailableError("AccessDeniedException")
        return self._value


def _event() -> dict[str, object]:
    payload = workflow_run_payload(
        run_id=7, conclusion="failure", started="2026-03-12T14:00:00Z", completed="2026-03-12T14:03:00Z", sha="a" * 40
    )
    return function_url_event(payload, delivery_id="x-1", secret="s")


def _receive(event: object, key: str | None = "s", ledger: FakeLedger | None = None) -> tuple[int, FakeLedger]:
    ledger = ledger or FakeLedger()
    answer = receive(
        Delivery.from_function_url(event),
        secret=Secret(key),
        builds=ledger,
        environment="staging",
        max_body_bytes=65_536,
    )
    return answer.status, ledger


def test_recorded_once_then_duplicate() -> None:
    status, ledger = _receive(_event())
    again, _ = _receive(_event(), ledger=ledger)
    assert (status, again, len(ledger.built)) == (201, 200, 1)


def test_secret_unavailable_is_500_and_nothing_recorded() -> None:
    status, ledger = _receive(_event(), key=None)
    assert status == 500 and not ledger.built


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.text(max_size=80))
def test_only_the_exact_signature_verifies(body: bytes, header: str) -> None:
    assert verify("k", body, sign("k", body))
    assert verify("k", body, header) == (header.strip() == sign("k", body))


@pytest.mark.parametrize(
    "event", [None, [], "x", {"headers": "no"}, {"body": 5}, {"body": "%%%", "isBase64Encoded": True}]
)
def test_hostile_requests_never_record(event: object) -> None:
    status, ledger = _receive(event)
    assert status in (400, 401) and not ledger.built


def test_unsigned_garbage_json_is_401_before_parsing() -> None:
    event = _event()
    event["body"] = "{not json"
    assert _receive(event)[0] == 401
    event["headers"]["x-hub-signature-256"] = sign("s", b"{not json")  # type: ignore[index]
    assert _receive(event)[0] == 202  # signed but not a run: acknowledged, ignored
    assert json.loads(str(_event()["body"]))["action"] == "completed"
