"""Hostile input (tests/fuzz.py) through the ledger writer and the GitHub webhook receiver on the embedded AWS:
no exception escapes, every answer is JSON, and what is ignored or rejected writes nothing to the ledger."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.github_webhook import handler as webhook_handler
from lambdas.ledger import handler as ledger_handler
from tests.conftest import EVENTS_DIR
from tests.functional.ledger.ledger_world import LedgerWorld, ledger_world
from tests.fuzz import answer_is_json, run_fuzz
from tollgate.embedded_aws.seed import create_deployment_of
from tollgate.local.github_webhook import function_url_event, workflow_run_payload
from tollgate.local.recorder import CallRecorder

SECRET = "hook-secret"  # what ledger_world stores as tollgate/staging/github-webhook
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    webhook_handler._secret.cache_clear()
    with ledger_world(monkeypatch) as created:
        recorder = CallRecorder()
        recorder.attach()
        yield created, recorder
        recorder.detach()
    webhook_handler._secret.cache_clear()


def _writes(recorder: CallRecorder) -> list[str]:
    return [c.operation for c in recorder.calls if c.operation in WRITES]


def test_hostile_events_never_crash_the_ledger(world: tuple[LedgerWorld, CallRecorder]) -> None:
    ledger, recorder = world
    t = datetime.now(UTC) - timedelta(hours=1)
    deployment = create_deployment_of(ledger.config, "backend", description="tollgate version=1.2.3")
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EVENTS_DIR.glob("*.json"))]
    samples = [s for s in samples if s.get("source") in ("aws.codedeploy", "aws.ecs", "tollgate")]
    samples += [
        ledger.codedeploy_event(deployment, "START", t),
        ledger.codedeploy_event(deployment, "SUCCESS", t + timedelta(minutes=5)),
        ledger.announcement("Hook Verdict", t, service="backend", deployment_id=deployment),
        ledger.announcement("Rollback Started", t, service="backend", deployment_id=deployment, severity="critical"),
    ]

    def check(event: Any) -> str:
        recorder.clear()
        answer = ledger_handler.handler(copy.deepcopy(event), ledger.context())
        answer_is_json(answer)
        if answer["decision"] == "ignored":
            assert _writes(recorder) == [], answer
        return str(answer["decision"])

    seen = run_fuzz("ledger", samples, check)
    assert seen["decision:ignored"] > 0 and seen["decision:recorded"] > 0


def _signed(payload: Any) -> dict[str, Any]:
    """GitHub (or anyone holding the secret) signing whatever it sends: the signature holds, the body is odd."""
    return function_url_event(payload, delivery_id=str(uuid.uuid4()), secret=SECRET)


def test_hostile_deliveries_never_crash_the_webhook(world: tuple[LedgerWorld, CallRecorder]) -> None:
    ledger, recorder = world
    payload = workflow_run_payload(
        run_id=30433642,
        conclusion="success",
        started="2026-03-12T14:12:05Z",
        completed="2026-03-12T14:20:29Z",
        sha="9fceb02d0ae598e95dc970b74767f19372d61af8",
    )
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EVENTS_DIR.glob("github-*.json"))]
    samples.append(_signed(payload))
    samples.append({"signed payload": payload})  # mutated below, then signed

    def check(event: Any) -> str:
        if isinstance(event, dict) and "signed payload" in event:
            try:
                event = _signed(event["signed payload"])
            except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
                return "unsignable"  # json.dumps refused it: GitHub could not have sent it either
        recorder.clear()
        answer = webhook_handler.handler(copy.deepcopy(event), ledger.context())
        answer_is_json(answer)
        assert isinstance(answer["statusCode"], int)
        if answer["statusCode"] >= 300 or answer["decision"] == "ignored":
            assert _writes(recorder) == [], answer
        return str(answer["decision"])

    seen = run_fuzz("github_webhook", samples, check)
    assert seen["decision:rejected"] > 0


def _deep(depth: int = 200) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("id", _deep()),  # the fuzz's find: stringified into a sort key over DynamoDB's 1,024 bytes
        ("id", "e" * 2000),
        ("id", "\ud800"),
        ("deploymentId", "d-" + "9" * 3000),
        ("deploymentId", ["d-1"]),
        ("announced deployment_id", "d-" + "9" * 3000),
    ],
)
def test_ids_that_cannot_key_a_record_are_ignored_not_a_crash(
    world: tuple[LedgerWorld, CallRecorder], where: str, value: Any
) -> None:
    # Given an event whose id (or deployment id) is not an id at all
    ledger, recorder = world
    t = datetime.now(UTC)
    if where == "announced deployment_id":
        event = ledger.announcement("Hook Verdict", t, service="backend", deployment_id=value)
    else:
        event = ledger.codedeploy_event("d-ABCDEF123", "START", t)
        if where == "id":
            event["id"] = value
        else:
            event["detail"]["deploymentId"] = value
    recorder.clear()
    # When the ledger gets it, Then it is ignored with a reason and nothing is written (it used to raise)
    answer = ledger_handler.handler(event, ledger.context())
    assert answer["decision"] == "ignored"
    assert _writes(recorder) == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p["workflow_run"]["actor"].update(login=_deep()),  # the fuzz's find: a 500 from the ledger write
        lambda p: p["workflow_run"].update(triggering_actor={"login": 5}),
        lambda p: p["repository"].update(full_name="r" * 5000),
        lambda p: p["repository"].update(full_name=["acme/lms"]),
        lambda p: p["workflow_run"].update(name="\ud800", head_branch=7, html_url={"a": 1}),
        lambda p: p.update(workflow=["not", "an", "object"]),
        lambda p: p["workflow_run"].update(id=True),
    ],
)
def test_signed_deliveries_of_odd_shape_are_answered_not_a_crash(
    world: tuple[LedgerWorld, CallRecorder], tamper: Any
) -> None:
    # Given a delivery GitHub signed (whoever holds the secret) whose fields have odd types or sizes
    ledger, recorder = world
    payload = workflow_run_payload(
        run_id=1, conclusion="success", started="2026-03-12T14:12:05Z", completed="2026-03-12T14:20:29Z", sha="abc"
    )
    tamper(payload)
    recorder.clear()
    # When it arrives, Then it is recorded with only what is well-formed, or ignored: never a 500
    answer = webhook_handler.handler(_signed(payload), ledger.context())
    assert answer["statusCode"] in (201, 202), answer
    if answer["statusCode"] == 202:
        assert _writes(recorder) == []


@pytest.mark.parametrize("delivery_id", ["g" * 5000, "\u202e-guid", "a b\n"])
def test_a_delivery_id_that_is_not_an_id_is_rejected(world: tuple[LedgerWorld, CallRecorder], delivery_id: str) -> None:
    ledger, recorder = world
    payload = workflow_run_payload(
        run_id=1, conclusion="success", started="2026-03-12T14:12:05Z", completed="2026-03-12T14:20:29Z", sha="abc"
    )
    event = function_url_event(payload, delivery_id=delivery_id, secret=SECRET)
    recorder.clear()
    answer = webhook_handler.handler(event, ledger.context())
    assert answer["statusCode"] == 400
    assert _writes(recorder) == []
