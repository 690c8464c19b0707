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
from tests.functional.rollback.scenario import CallRecorder
from tests.fuzz import answer_is_json, run_fuzz
from tollgate.embedded_aws.seed import create_deployment_of
from tollgate.local.github_webhook import function_url_event, workflow_run_payload

SECRET = "hook-secret"  # what ledger_world stores as tollgate/staging/github-webhook
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from lambdas.core import aws  # noqa: PLC0415

    webhook_handler._secret.cache_clear()
    with ledger_world(monkeypatch) as created:
        aws.reset()
        recorder = CallRecorder()
        recorder.install()
        yield created, recorder
        recorder.uninstall()
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
