"""Hostile input (tests/fuzz.py) through both rollback functions on the embedded AWS, with a deployment in
flight: no exception escapes, every answer is JSON, and what the function ignores changes nothing in the
LMS and announces nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

from lambdas.rollback.alarms import AlarmKind
from lambdas.rollback.operator import OperatorRollbackRequest, RollbackType
from tests.conftest import EVENTS_DIR
from tests.functional.rollback.scenario import RollbackScenario
from tests.fuzz import answer_is_json, run_fuzz
from tollgate.local.context import LocalLambdaContext


def _samples(prefixes: tuple[str, ...], scenario: RollbackScenario) -> list[dict[str, Any]]:
    """The events/ samples, as the seeded account sends them."""
    out = []
    for path in sorted(EVENTS_DIR.glob("*.json")):
        if path.name.startswith(prefixes):
            sample = json.loads(path.read_text(encoding="utf-8"))
            out.append({**sample, "account": scenario.seeded.account_id})
    return out


def _assert_quiet_when_ignored(scenario: RollbackScenario, answer: dict[str, Any]) -> str:
    answer_is_json(answer)
    decision = str(answer["decision"])
    if decision == "ignored":
        assert scenario.recorder.mutating() == [], answer
        assert scenario.announcements() == [], answer
    return decision


def test_hostile_events_never_crash_the_alarm_rollback(production: RollbackScenario) -> None:
    # Given a backend deployment in flight, guarded by its alarms
    production.in_flight_deployment("backend")
    samples = _samples(("cloudwatch-alarm-", "codedeploy-deployment-", "ecs-"), production) + [
        production.alarm_event(service, kind) for service in ("backend", "frontend") for kind in AlarmKind
    ]

    def check(event: Any) -> str:
        production.recorder.clear()
        return _assert_quiet_when_ignored(production, production.handle(copy.deepcopy(event)))

    # When hostile events arrive, Then each is answered, and the ignored ones change nothing
    seen = run_fuzz("rollback (alarm)", samples, check)
    assert seen["decision:ignored"] > 0
    assert len([k for k in seen if k.startswith("decision:")]) > 1  # some events were still understood


def test_hostile_events_never_crash_the_operator_rollback(production: RollbackScenario) -> None:
    # Given a finished backend release and a frontend one in flight
    production.finished_deployment("backend")
    production.in_flight_deployment("frontend")
    samples = _samples(("tollgate-operator-rollback-",), production)
    samples += [{**s, "detail": {**s["detail"], "environment": "production"}} for s in samples]
    request = OperatorRollbackRequest(
        environment="production", type=RollbackType.SERVICE, services=("frontend",), requested_by="ana"
    )
    samples.append({"request": request.model_dump(mode="json")})
    context = LocalLambdaContext(function_name="tollgate-operator-rollback", account=production.seeded.account_id)

    def check(event: Any) -> str:
        from lambdas.rollback.operator_handler import handler  # noqa: PLC0415 - after the env vars are set

        production.recorder.clear()
        answer = handler(copy.deepcopy(event), context)
        decision = _assert_quiet_when_ignored(production, answer)
        if decision == "refused":
            assert production.recorder.mutating() == [], answer
        return decision

    seen = run_fuzz("rollback (operator)", samples, check)
    assert seen["decision:ignored"] > 0
