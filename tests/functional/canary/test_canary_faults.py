"""The canary task's reporting actions under faults: ``fail`` and ``succeed`` after a 10% shift, each AWS call
site x {throttle, AccessDenied, 5xx, timeout, kill before, kill after}, then Step Functions' retries of the
task (a Lambda timeout or error is a task error its Retry runs again).

Invariant: traffic is back on the original group (Tollgate's canary rule deleted) and the hook execution is
reported exactly once with the action's status; a retry after a report that landed meets CodeDeploy's
LifecycleEventAlreadyCompletedException, which counts as done.
"""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.canary import handler as task_handler
from lambdas.canary.adapters.elbv2 import ListenerRuleTraffic
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.rollback.scenario import RollbackScenario
from tollgate.embedded_aws import extensions
from tollgate.local.context import LocalLambdaContext

TASK_RETRIES = 6  # the state machine's ReportFailed retry: States.ALL, 6 attempts (stacks/constructs/canary.py)
CALL_SITES = [
    ("DeleteRule (restore)", "elbv2:DeleteRule", 1),
    ("PutLifecycleEventHookExecutionStatus", "codedeploy:PutLifecycleEventHookExecutionStatus", 1),
    ("record", "dynamodb:PutItem", 1),
    ("announce", "events:PutEvents", 1),
]
ACTIONS = {"fail": "Failed", "succeed": "Succeeded"}
CASES = [
    (action, site, op, nth, kind)
    for action in ACTIONS
    for site, op, nth in CALL_SITES
    for kind in (*CALL_FAULTS, *KILLS)
]


def _task(action: str, deployment_id: str, execution_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "deployment_id": deployment_id,
        "hook_execution_id": execution_id,
        "service": "backend",
    } | extra


def _run(event: dict[str, Any]) -> dict[str, Any] | str:
    context = LocalLambdaContext(function_name="tollgate-production-canary-task", timeout_seconds=30)
    try:
        return task_handler.handler(event, context)
    except SimulatedKill:
        return "killed"
    except Exception as error:
        return f"raised {type(error).__name__}: {error}"


def _canary_rule_left(scenario: RollbackScenario) -> bool:
    traffic = ListenerRuleTraffic(scenario.config)
    return traffic._our_rule(*traffic._service_rule("backend")) is not None


@pytest.mark.parametrize(
    ("action", "site", "operation", "nth", "kind"),
    CASES,
    ids=[f"{a}-{s}-{k.value}".replace(" ", "_") for a, s, _, _, k in CASES],
)
def test_a_fault_or_kill_while_reporting_then_the_retry_reports_exactly_once(  # noqa: PLR0917 - one per column
    canary_world: tuple[RollbackScenario, str, str], action: str, site: str, operation: str, nth: int, kind: FaultKind
) -> None:
    scenario, deployment_id, execution_id = canary_world
    # Given the canary shifted 10% to the replacement
    shifted = _run(_task("shift", deployment_id, execution_id, step_percent=10, bake_seconds=0))
    assert isinstance(shifted, dict) and _canary_rule_left(scenario), shifted
    event = _task(action, deployment_id, execution_id, error={"Error": "States.TaskFailed", "Cause": "step failed"})
    answers: list[dict[str, Any] | str] = []
    # When the reporting task meets the fault, and Step Functions retries the task while it fails
    with injected_faults() as faults:
        faults.inject(operation, kind, nth=nth)
        answers.append(_run(event))
        assert faults.hit() == 1, faults.operations
        while not isinstance(answers[-1], dict) and len(answers) <= TASK_RETRIES:
            answers.append(_run(event))
    # Then traffic is restored and the hook execution was reported once, with the action's status
    assert isinstance(answers[-1], dict) and answers[-1]["outcome"] == "reported", answers
    assert not _canary_rule_left(scenario), answers
    accepted = [r.status for r in extensions.reported_hook_statuses(deployment_id) if r.accepted]
    assert accepted == [ACTIONS[action]], answers


@pytest.mark.parametrize("action", ACTIONS)
def test_killed_between_restore_and_report_the_retry_reports_once(
    canary_world: tuple[RollbackScenario, str, str], action: str
) -> None:
    scenario, deployment_id, execution_id = canary_world
    assert isinstance(_run(_task("shift", deployment_id, execution_id, step_percent=10, bake_seconds=0)), dict)
    event = _task(action, deployment_id, execution_id)
    # Given the task restores the traffic, then dies before reporting
    with injected_faults() as faults:
        faults.inject("codedeploy:PutLifecycleEventHookExecutionStatus", FaultKind.KILL_BEFORE)
        assert _run(event) == "killed"
    assert not _canary_rule_left(scenario)
    assert extensions.reported_hook_statuses(deployment_id) == []
    # When Step Functions retries it, twice over (the second finds the report done)
    first, second = _run(event), _run(event)
    # Then one report; the second attempt met LifecycleEventAlreadyCompletedException and counted it done
    accepted = [r.status for r in extensions.reported_hook_statuses(deployment_id) if r.accepted]
    assert accepted == [ACTIONS[action]]
    assert isinstance(first, dict) and first["details"]["report"] == "reported"
    assert isinstance(second, dict) and second["details"]["report"] == "already_completed"
