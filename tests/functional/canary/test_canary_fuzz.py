"""Hostile input (tests/fuzz.py) through the canary functions on the embedded AWS (production, a canary
deployment waiting at BeforeAllowTraffic):

* the BeforeAllowTraffic starter and the operator-request handler: no exception escapes, every answer
  is JSON, and what they ignore starts nothing, reports nothing and announces nothing;
* the state machine's task: a malformed task input is a task error on purpose (Step Functions' Catch
  takes the one reporting path), raised before any AWS call; nothing else escapes but the controller's
  own errors, and the hook execution is reported at most once.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from lambdas.canary import handler as task_handler
from lambdas.canary import request_handler, start_handler
from lambdas.canary.adapters.elbv2 import TrafficError
from lambdas.canary.controller import CanaryStateError
from lambdas.core.tollgate_events import DetailType
from lambdas.hooks.errors import ReportError
from tests.conftest import EVENTS_DIR
from tests.functional.rollback.scenario import RollbackScenario
from tests.fuzz import answer_is_json, run_fuzz
from tollgate.embedded_aws import extensions
from tollgate.local.context import LocalLambdaContext

ANNOUNCE_OR_ACT = ("PutEvents", "PutLifecycleEventHookExecutionStatus", "StartExecution", "ModifyRule")


def _context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=name, timeout_seconds=30)


def _acted(scenario: RollbackScenario) -> list[str]:
    return [c.operation for c in scenario.recorder.calls if c.operation in ANNOUNCE_OR_ACT]


def _accepted_reports(deployment_id: str) -> int:
    return len([r for r in extensions.reported_hook_statuses(deployment_id) if r.accepted])


def test_hostile_invocations_never_crash_the_canary_starter(canary_world: tuple[RollbackScenario, str, str]) -> None:
    scenario, deployment_id, _ = canary_world
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EVENTS_DIR.glob("codedeploy-hook-*.json"))]

    def check(event: Any) -> str:
        scenario.recorder.clear()
        answer = start_handler.handler(copy.deepcopy(event), _context("tollgate-production-canary-start"))
        answer_is_json(answer)
        if answer["decision"] in ("ignored", "unreported"):
            assert _acted(scenario) == [], answer
        return str(answer["decision"])

    seen = run_fuzz("canary start", samples, check)
    assert seen["decision:ignored"] > 0
    assert _accepted_reports(deployment_id) == 0


def _request(detail_type: DetailType, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0d4f1e7a-55f1-4c8e-9a57-1f3c2b9e8d10",
        "detail-type": detail_type.value,
        "source": "tollgate",
        "account": "123456789012",
        "time": "2026-03-12T15:02:11Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {"by": "release-manager", "reason": "looks good", **detail},
    }


def test_hostile_requests_never_crash_the_canary_request_handler(
    canary_world: tuple[RollbackScenario, str, str],
) -> None:
    scenario, deployment_id, _ = canary_world
    samples = [
        _request(DetailType.APPROVE_REQUESTED, deployment_id=deployment_id),
        _request(DetailType.REJECT_REQUESTED, deployment_id=deployment_id),
        _request(DetailType.CANARY_PROMOTE_REQUESTED, service="backend"),
        _request(DetailType.CANARY_ABORT_REQUESTED, service="backend"),
    ]

    def check(event: Any) -> str:
        scenario.recorder.clear()
        answer = request_handler.handler(copy.deepcopy(event), _context("tollgate-production-canary-requests"))
        answer_is_json(answer)
        if answer["decision"] == "ignored":
            assert _acted(scenario) == [], answer
            assert scenario.recorder.mutating() == [], answer
        return str(answer["decision"])

    seen = run_fuzz("canary requests", samples, check)
    assert seen["decision:ignored"] > 0


def test_hostile_task_inputs_are_task_errors_or_answers(canary_world: tuple[RollbackScenario, str, str]) -> None:
    scenario, deployment_id, execution_id = canary_world
    base = {"deployment_id": deployment_id, "hook_execution_id": execution_id, "service": "backend"}
    samples = [
        {**base, "action": "await_approval", "task_token": "token-1"},
        {**base, "action": "shift", "step_percent": 10, "bake_seconds": 0},
        {**base, "action": "bake", "step_percent": 10, "bake_seconds": 0, "period_seconds": 60},
        {**base, "action": "analyse", "step_percent": 10, "period_seconds": 60, "max_extension_seconds": 0},
        {**base, "action": "succeed"},
        {**base, "action": "fail", "error": {"Error": "States.TaskFailed", "Cause": "boom"}},
    ]

    def check(event: Any) -> str:
        scenario.recorder.clear()
        try:
            answer = task_handler.handler(copy.deepcopy(event), _context("tollgate-production-canary-task"))
        except ValidationError:
            assert scenario.recorder.calls == []  # refused before anything was read or changed
            return "task error (malformed input)"
        except (CanaryStateError, TrafficError, ReportError) as error:
            return f"task error ({type(error).__name__})"
        answer_is_json(answer)
        return str(answer["outcome"])

    seen = run_fuzz("canary task", samples, check)
    assert seen["decision:task error (malformed input)"] > 0
    assert _accepted_reports(deployment_id) <= 1


# -- crashes the fuzz found, kept as plain cases ----------------------------------------------------------


def test_a_succeed_task_for_an_unknown_hook_execution_is_a_task_error_naming_the_refusal(
    canary_world: tuple[RollbackScenario, str, str],
) -> None:
    # Given a succeed task whose hook execution id CodeDeploy does not know (an execution started by hand)
    _, deployment_id, _ = canary_world
    task = {"deployment_id": deployment_id, "hook_execution_id": "0", "service": "backend", "action": "succeed"}
    # When it runs, Then it is a task error (the state machine's Catch fails the release) naming CodeDeploy's refusal
    with pytest.raises(ReportError, match="InvalidLifecycleEventHookExecutionIdException") as refused:
        task_handler.handler(task, _context("tollgate-production-canary-task"))
    assert refused.value.permanent
    # And nothing was reported for the deployment
    assert _accepted_reports(deployment_id) == 0


@pytest.mark.parametrize("detail_type", [{"a": 1}, ["Approve Requested"], 5, None])
def test_a_detail_type_that_is_not_a_string_is_ignored(
    canary_world: tuple[RollbackScenario, str, str], detail_type: Any
) -> None:
    # Given an operator request whose detail-type is not a string (a dict crashed the handler: unhashable)
    scenario, deployment_id, _ = canary_world
    event = {**_request(DetailType.APPROVE_REQUESTED, deployment_id=deployment_id), "detail-type": detail_type}
    # When it arrives, Then it is ignored and nothing happens
    answer = request_handler.handler(event, _context("tollgate-production-canary-requests"))
    assert answer["decision"] == "ignored"
    assert _acted(scenario) == []


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "error",
    [_nested(200), {"Error": _nested(50), "Cause": "\ud800" + "c" * 300_000}, "just a string", [1, 2], 7],
)
def test_the_failure_path_reports_and_announces_whatever_the_error_looks_like(
    canary_world: tuple[RollbackScenario, str, str], error: Any
) -> None:
    # Given the Catch hands the fail task an error of an odd shape (a deep one crashed the announcement)
    scenario, deployment_id, execution_id = canary_world
    event = {
        "action": "fail",
        "deployment_id": deployment_id,
        "hook_execution_id": execution_id,
        "service": "backend",
        "error": error,
    }
    # When the fail task runs
    answer = task_handler.handler(event, _context("tollgate-production-canary-task"))
    # Then the hook is reported Failed once and the failure is announced
    assert answer["outcome"] == "reported"
    assert [r.status for r in extensions.reported_hook_statuses(deployment_id) if r.accepted] == ["Failed"]
    assert scenario.recorder.named("PutEvents")


def test_a_hook_invocation_for_no_deployment_is_answered_not_a_crash(
    canary_world: tuple[RollbackScenario, str, str],
) -> None:
    # Given a well-formed invocation naming a deployment that does not exist (the fuzz's find: it raised)
    scenario, _, _ = canary_world
    event = {"DeploymentId": "d-7Q2K9ZB4M", "LifecycleEventHookExecutionId": "0"}
    # When the starter gets it, Then it answers "unreported" and starts and reports nothing
    answer = start_handler.handler(event, _context("tollgate-production-canary-start"))
    assert answer["decision"] == "unreported"
    assert "DeploymentDoesNotExist" in answer["reason"]
    assert _acted(scenario) == []
