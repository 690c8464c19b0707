"""A hook function under faults: each AWS call site of a BeforeInstall hook x {throttle, AccessDenied, 5xx,
timeout, kill before, kill after}, then Lambda's retries (CodeDeploy invokes hooks asynchronously).

Invariant: the hook execution is reported exactly once, with the verdict of the checks (Failed when a check
could not read what it checks); an invocation that could not report raised (so Lambda retries and Tollgate's
health alarm pages) instead of answering.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import lambdas.hooks.handler as hook_handler
from lambdas.core.config import Hook
from lambdas.hooks.naming import hook_function_name
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.hooks.conftest import HookWorld, reports
from tollgate.local.context import LocalLambdaContext

LAMBDA_RETRIES = 2
# The hook's calls, in order: the earlier-report lookup, the change-freeze check's read of the deployment,
# the report's claim, the report, the claim's completion, the verdict's announcement.
CALL_SITES = [
    ("earlier report lookup", "dynamodb:GetItem"),
    ("GetDeployment (checks)", "codedeploy:GetDeployment"),
    ("report claim", "dynamodb:PutItem"),
    ("PutLifecycleEventHookExecutionStatus", "codedeploy:PutLifecycleEventHookExecutionStatus"),
    ("report done", "dynamodb:UpdateItem"),
    ("announce verdict", "events:PutEvents"),
]
CASES = [(site, operation, kind) for site, operation in CALL_SITES for kind in (*CALL_FAULTS, *KILLS)]


def later_clock(monkeypatch: pytest.MonkeyPatch, shift: timedelta) -> None:
    """Lambda retries a minute or more after the failed attempt ended: by then its lease ran out."""

    class _Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz or UTC) + shift

    monkeypatch.setattr(hook_handler, "datetime", _Later)


def attempt(world: HookWorld, hook: Hook, deployment_id: str, execution_id: str) -> dict[str, str] | str:
    context = LocalLambdaContext(function_name=hook_function_name(world.environment, hook), timeout_seconds=30)
    event = {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}
    try:
        return hook_handler.handler(event, context)
    except SimulatedKill:
        return "killed"
    except Exception as error:
        return f"raised {type(error).__name__}"


@pytest.mark.parametrize(
    ("site", "operation", "kind"), CASES, ids=[f"{s}-{k.value}".replace(" ", "_") for s, _, k in CASES]
)
def test_each_call_site_and_kill_reports_the_hook_exactly_once(
    hook_world: Any, monkeypatch: pytest.MonkeyPatch, site: str, operation: str, kind: FaultKind
) -> None:
    # Given a staging deployment waiting at BeforeInstall (no freeze: the checks pass)
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_INSTALL)
    answers: list[dict[str, str] | str] = []
    # When the first invocation meets the fault, and Lambda retries while it fails
    with injected_faults() as faults:
        faults.inject(operation, kind)
        answers.append(attempt(world, Hook.BEFORE_INSTALL, deployment_id, execution_id))
        assert faults.hit() == 1, faults.operations
        for retry in range(1, LAMBDA_RETRIES + 1):
            if isinstance(answers[-1], dict):
                break
            later_clock(monkeypatch, timedelta(minutes=2 * retry))
            answers.append(attempt(world, Hook.BEFORE_INSTALL, deployment_id, execution_id))
    # Then the execution was reported exactly once: Succeeded, or Failed when a check could not read what it
    # checks (fail closed; the injected answer is what the client's own retries would finally see; a kill in
    # the checks' worker thread is, to the hook, checks that did not finish in time)
    expected = "Failed" if site.startswith("GetDeployment") else "Succeeded"
    assert [r.status for r in reports(deployment_id)] == [expected], answers
    assert isinstance(answers[-1], dict), answers
    # And an invocation that could not report did not answer as if it had (the reporter's own retries
    # outlast one throttle, 5xx or timeout; AccessDenied is not retried)
    if site.startswith("PutLifecycle") and kind is FaultKind.ACCESS_DENIED:
        assert answers[0] == "raised UnreportableHookError", answers


def test_killed_between_claim_and_report_the_retry_reports_once(
    hook_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the hook dies after claiming its report and before PutLifecycleEventHookExecutionStatus
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_INSTALL)
    with injected_faults() as faults:
        faults.inject("codedeploy:PutLifecycleEventHookExecutionStatus", FaultKind.KILL_BEFORE)
        assert attempt(world, Hook.BEFORE_INSTALL, deployment_id, execution_id) == "killed"
    assert reports(deployment_id) == []
    # When Lambda retries after the dead invocation's lease ran out, and the retry is delivered twice
    later_clock(monkeypatch, timedelta(minutes=2))
    first = attempt(world, Hook.BEFORE_INSTALL, deployment_id, execution_id)
    second = attempt(world, Hook.BEFORE_INSTALL, deployment_id, execution_id)
    # Then the execution is reported once; the duplicate answers "duplicate"
    assert isinstance(first, dict) and first["decision"] == "Succeeded"
    assert isinstance(second, dict) and second["decision"] == "duplicate"
    assert [r.status for r in reports(deployment_id)] == ["Succeeded"]
