"""The webhook receiver on the embedded AWS: 401 and nothing written, one record per delivery, 413."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from lambdas.github_webhook import handler as webhook_handler
from lambdas.github_webhook.signature import sign
from lambdas.ledger.adapters.table import LedgerTable
from tests.functional.ledger.ledger_world import LEDGER_TABLE, LedgerWorld, ledger_world
from tollgate.local.github_webhook import function_url_event, workflow_run_payload

SECRET = "hook-secret"  # what ledger_world stores as tollgate/staging/github-webhook


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    webhook_handler._secret.cache_clear()
    with ledger_world(monkeypatch) as created:
        yield created
    webhook_handler._secret.cache_clear()


def _delivery(delivery_id: str = "d1-0001", conclusion: str = "success", secret: str = SECRET) -> dict[str, Any]:
    payload = workflow_run_payload(
        run_id=30433642,
        conclusion=conclusion,
        started="2026-03-12T14:12:05Z",
        completed="2026-03-12T14:20:29Z",
        sha="9fceb02d0ae598e95dc970b74767f19372d61af8",
    )
    return function_url_event(payload, delivery_id=delivery_id, secret=secret)


def _builds(world: LedgerWorld) -> list[dict[str, Any]]:
    return [i for i in world.items() if i["kind"]["S"] in ("build", "delivery")]


def test_a_signed_delivery_records_one_build(world: LedgerWorld) -> None:
    # When GitHub delivers a completed run with the right signature
    answer = webhook_handler.handler(_delivery(), world.context())
    # Then 201 and the build is in the ledger with its duration
    assert answer["statusCode"] == 201
    from datetime import UTC, datetime  # noqa: PLC0415

    builds = LedgerTable(LEDGER_TABLE).builds(
        "staging", datetime(2026, 3, 12, tzinfo=UTC), datetime(2026, 3, 13, tzinfo=UTC)
    )
    assert [(b.run_id, b.conclusion, b.duration_seconds, b.actor) for b in builds] == [
        (30433642, "success", 504.0, "octocat")
    ]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e["headers"].pop("x-hub-signature-256"),
        lambda e: e["headers"].update({"x-hub-signature-256": sign("not-the-secret", e["body"].encode())}),
        lambda e: e["headers"].update({"x-hub-signature-256": "sha1=0123"}),
        lambda e: e.update({"body": e["body"].replace('"success"', '"failure"')}),  # body changed after signing
    ],
    ids=["missing", "wrong-secret", "wrong-scheme", "altered-body"],
)
def test_a_wrong_or_missing_signature_is_401_and_nothing_is_recorded(world: LedgerWorld, tamper: Any) -> None:
    # Given a delivery whose signature does not match
    event = _delivery()
    tamper(event)
    # When it arrives
    answer = webhook_handler.handler(event, world.context())
    # Then 401 and the ledger is untouched
    assert answer["statusCode"] == 401
    assert _builds(world) == []


def test_a_replayed_delivery_makes_no_second_record(world: LedgerWorld) -> None:
    # Given a delivery already recorded
    event = _delivery()
    assert webhook_handler.handler(event, world.context())["statusCode"] == 201
    before = _builds(world)
    # When the same X-GitHub-Delivery arrives again (a redelivery or a replay by someone who captured it)
    again = webhook_handler.handler(copy.deepcopy(event), world.context())
    # Then 200 duplicate, and still one build and one delivery
    assert (again["statusCode"], again["decision"]) == (200, "duplicate")
    assert _builds(world) == before and len(before) == 2


def test_an_oversized_body_is_413_before_anything_else(world: LedgerWorld) -> None:
    # Given a correctly signed body over the configured cap (256 KB), base64-encoded as function URLs may send it
    cap = world.config.records.webhook_max_body_bytes
    body = json.dumps({"action": "completed", "padding": "x" * cap}).encode()
    event = _delivery()
    event.update(body=base64.b64encode(body).decode(), isBase64Encoded=True)
    event["headers"]["x-hub-signature-256"] = sign(SECRET, body)
    # When it arrives
    answer = webhook_handler.handler(event, world.context())
    # Then 413 and nothing recorded
    assert answer["statusCode"] == 413
    assert _builds(world) == []


def test_events_other_than_completed_runs_are_acknowledged_not_recorded(world: LedgerWorld) -> None:
    # Given a signed ping and a signed in-progress run
    ping = function_url_event({"zen": "Keep it logically awesome."}, delivery_id="p-1", secret=SECRET, event="ping")
    running = _delivery("d1-0002")
    payload = json.loads(running["body"]) | {"action": "in_progress"}
    running = function_url_event(payload, delivery_id="d1-0002", secret=SECRET)
    # When they arrive, Then each is answered 2xx and nothing is recorded
    assert webhook_handler.handler(ping, world.context())["statusCode"] == 200
    assert webhook_handler.handler(running, world.context())["statusCode"] == 202
    assert _builds(world) == []
