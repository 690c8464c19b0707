"""The hook functions on the embedded AWS against the stand-in LMS: every path reports exactly once."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

import lambdas.hooks.handler as hook_handler
from lambdas.core.config import Hook
from lambdas.core.settings import settings
from lambdas.hooks.handler import handler
from lambdas.hooks.log import logger
from lambdas.hooks.naming import hook_function_name
from lambdas.hooks.policy import Approval
from lambdas.hooks.state import record_approval
from tests.functional.hooks.conftest import HookWorld, reports
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.seed import appspec_revision
from tollgate.local.context import LocalLambdaContext
from tollgate.local.lms_service import LmsFaults


def invoke(world: HookWorld, hook: Hook, deployment_id: str, execution_id: str, *, timeout: float = 30) -> Any:
    context = LocalLambdaContext(function_name=hook_function_name(world.environment, hook), timeout_seconds=timeout)
    return handler({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}, context)


def test_healthy_release_passes_test_traffic_flows_and_reports_once(hook_world: Any) -> None:
    # Given a staging deployment of the backend at AfterAllowTestTraffic and a healthy LMS
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.AFTER_ALLOW_TEST_TRAFFIC)

    # When the hook runs
    result = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)

    # Then it reports Succeeded once, after running both backend flows (a synthetic application was submitted)
    assert result["decision"] == "Succeeded", result["reason"]
    assert [(r.status, r.hook_name) for r in reports(deployment_id)] == [("Succeeded", "AfterAllowTestTraffic")]
    assert ("POST", "/api/loan-applications") in world.lms.requests
    assert all(app["synthetic"] for app in world.lms.state.applications.values())


@pytest.mark.parametrize(
    ("faults", "expected_in_reason"),
    [
        (
            LmsFaults(status=503, paths=("/api/health",)),
            "flow backend-health: step 'health' (GET /api/health): HTTP 503",
        ),
        (LmsFaults(status=500, paths=("/api/loan-applications",)), "step 'submit application'"),
        (LmsFaults(wrong_json=True, paths=("/api/health",)), "field 'status' is 'bogus'"),
        (LmsFaults(wrong_json=True, paths=("/api/auth",)), "field 'access_token' is missing"),
        (LmsFaults(delay_seconds=1.2, paths=("/api/health",)), "budget 1000 ms"),
    ],
    ids=["5xx-health", "5xx-submit", "wrong-json-health", "wrong-json-token", "slow-health"],
)
def test_each_fault_fails_the_right_check(hook_world: Any, faults: LmsFaults, expected_in_reason: str) -> None:
    # Given a backend deployment at AfterAllowTestTraffic and a misbehaving LMS
    world = hook_world("staging")
    world.lms.faults.status = faults.status
    world.lms.faults.delay_seconds = faults.delay_seconds
    world.lms.faults.wrong_json = faults.wrong_json
    world.lms.faults.paths = faults.paths
    deployment_id, execution_id = world.start_deployment("backend", Hook.AFTER_ALLOW_TEST_TRAFFIC)

    # When the hook runs
    result = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)

    # Then it reports Failed exactly once, naming the failed check
    assert result["decision"] == "Failed"
    assert expected_in_reason in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_refused_connections_fail_the_flows(hook_world: Any) -> None:
    # Given the LMS's port is closed
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TEST_TRAFFIC)
    world.lms.stop()

    # When the hook runs
    result = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)

    # Then the frontend shell flow fails with a refused connection, reported once
    assert result["decision"] == "Failed"
    assert "flow frontend-shell" in result["reason"]
    assert "refused" in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_duplicate_invocation_does_not_flip_or_report_again(hook_world: Any) -> None:
    # Given a hook execution that already reported Failed (LMS down)
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.AFTER_ALLOW_TEST_TRAFFIC)
    world.lms.faults.status = 503
    first = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)

    # When the same invocation arrives again and the LMS has recovered
    world.lms.faults.status = None
    second = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)

    # Then the second one neither reports nor flips the status
    assert first["decision"] == "Failed"
    assert second["decision"] == "duplicate"
    assert [r.status for r in reports(deployment_id)] == ["Failed"]
    assert len(extensions_calls(deployment_id)) == 1


def extensions_calls(deployment_id: str) -> list[Any]:
    return extensions.reported_hook_statuses(deployment_id)


def test_already_completed_execution_is_treated_as_done(hook_world: Any) -> None:
    # Given CodeDeploy already has a status for the execution but Tollgate's state table has no record
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.AFTER_INSTALL)
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status="Succeeded"
    )

    # When the hook runs
    result = invoke(world, Hook.AFTER_INSTALL, deployment_id, execution_id)

    # Then it does not crash and calls it a duplicate
    assert result["decision"] == "duplicate"
    assert result["report"] == "already_completed"


@pytest.mark.parametrize(
    ("approved", "expected"), [(False, "Failed"), (True, "Succeeded")], ids=["no-approval", "approved"]
)
def test_production_needs_an_approval_before_traffic_moves(hook_world: Any, approved: bool, expected: str) -> None:
    # Given a production deployment at BeforeAllowTraffic, with or without an approval
    world = hook_world("production")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_ALLOW_TRAFFIC)
    if approved:
        approval = Approval(
            deployment_id=deployment_id,
            environment="production",
            approved_by="release-manager",
            approved_at=datetime.now(UTC),
        )
        record_approval("tollgate-state", approval)

    # When the hook runs
    result = invoke(world, Hook.BEFORE_ALLOW_TRAFFIC, deployment_id, execution_id)

    # Then the approval decides
    assert result["decision"] == expected, result["reason"]
    assert [r.status for r in reports(deployment_id)] == [expected]


@pytest.mark.parametrize(
    ("environment", "requests", "errors", "latency", "expected", "why"),
    [
        ("production", 1000, 2, 0.3, "Succeeded", "5xx rate 0.20%"),
        ("production", 1000, 50, 0.3, "Failed", "5xx rate 5.00% > 1%"),
        ("production", 1000, 0, 2.5, "Failed", "p99 latency 2500 ms > 1200 ms"),
        ("production", 10, 0, 0.1, "Failed", "too little data"),
        ("staging", 10, 0, 0.1, "Succeeded", "too little data"),
    ],
    ids=["healthy", "errors", "slow", "thin-production", "thin-staging"],
)
def test_metric_gate_judges_the_green_target_group(  # noqa: PLR0917 - one parameter per table column
    hook_world: Any,
    environment: str,
    requests: int,
    errors: int,
    latency: float,
    expected: str,
    why: str,
) -> None:
    # Given production traffic on green with the given numbers and a healthy LMS
    world = hook_world(environment)
    world.put_target_metrics("frontend", requests=requests, errors=errors, latency_seconds=latency)
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TRAFFIC)

    # When AfterAllowTraffic runs
    result = invoke(world, Hook.AFTER_ALLOW_TRAFFIC, deployment_id, execution_id)

    # Then the metric gate decides, with the numbers in the reason or evidence
    assert result["decision"] == expected, result["reason"]
    assert [r.status for r in reports(deployment_id)] == [expected]


def test_change_freeze_blocks_before_install(hook_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given production's holiday freeze and a clock inside it
    world = hook_world("production")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_INSTALL)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime(2026, 12, 25, 12, tzinfo=UTC)

    monkeypatch.setattr(hook_handler, "datetime", FrozenClock)

    # When BeforeInstall runs
    result = invoke(world, Hook.BEFORE_INSTALL, deployment_id, execution_id)

    # Then the freeze blocks the deployment
    assert result["decision"] == "Failed"
    assert "holiday change freeze" in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


@pytest.mark.parametrize(
    ("variable", "value", "expected_in_reason"),
    [
        ("TOLLGATE_HOOK", "Sometime", "TOLLGATE_HOOK is 'Sometime'"),
        ("TOLLGATE_ENVIRONMENT", "qa", "environment 'qa': unknown"),
    ],
)
def test_bad_configuration_reports_failed(
    hook_world: Any, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected_in_reason: str
) -> None:
    # Given a hook function with a broken setting
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_INSTALL)
    monkeypatch.setenv(variable, value)
    settings.cache_clear()

    # When it runs
    result = invoke(world, Hook.BEFORE_INSTALL, deployment_id, execution_id)

    # Then it still reports, Failed with the reason
    assert result["decision"] == "Failed"
    assert expected_in_reason in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_unknown_deployment_group_reports_failed(hook_world: Any) -> None:
    # Given a deployment of a group Tollgate's config does not name
    world = hook_world("staging")
    codedeploy = boto3.client("codedeploy")
    codedeploy.create_deployment_group(
        applicationName="lms-staging",
        deploymentGroupName="lms-staging-reports",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
    )
    deployment_id = codedeploy.create_deployment(
        applicationName="lms-staging", deploymentGroupName="lms-staging-reports", revision=appspec_revision("{}")
    )["deploymentId"]
    extensions.set_deployment_status(deployment_id, "InProgress")
    execution_id = extensions.register_hook_execution(deployment_id, "BeforeInstall")
    world.use_hook(Hook.BEFORE_INSTALL)

    # When the hook runs
    result = invoke(world, Hook.BEFORE_INSTALL, deployment_id, execution_id)

    # Then it reports Failed naming the group
    assert result["decision"] == "Failed"
    assert "lms-staging-reports" in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_approaching_timeout_reports_failed_in_time(hook_world: Any) -> None:
    # Given an LMS that answers slower than the hook has time for (6 s timeout, 5 s margin)
    world = hook_world("staging")
    world.lms.faults.delay_seconds = 3
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TEST_TRAFFIC)

    # When the hook runs
    result = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id, timeout=6)

    # Then it reports Failed before the function would be stopped
    assert result["decision"] == "Failed"
    assert "no response within" in result["reason"] or "deadline" in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_invocation_without_ids_is_ignored(hook_world: Any) -> None:
    # Given an event that is not a CodeDeploy hook invocation
    hook_world("staging")
    context = LocalLambdaContext(function_name="CodeDeployHook_tollgate-staging-BeforeInstall")

    # When the handler gets it
    result = handler({"DeploymentId": "d-ABCDEFGHI"}, context)

    # Then it is ignored with a reason (there is nothing to report to)
    assert result["decision"] == "ignored"
    assert "LifecycleEventHookExecutionId" in result["reason"]


def test_synthetic_users_password_never_appears_in_logs(hook_world: Any) -> None:
    # Given a failing sign-in, so every step and reason is logged, and the function's logs captured as emitted
    world = hook_world("staging")
    world.lms.faults.wrong_json = True
    world.lms.faults.paths = ("/api/auth",)
    deployment_id, execution_id = world.start_deployment("backend", Hook.AFTER_ALLOW_TEST_TRAFFIC)
    emitted = io.StringIO()
    capture = logging.StreamHandler(emitted)
    capture.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(capture)

    # When the hook runs
    try:
        result = invoke(world, Hook.AFTER_ALLOW_TEST_TRAFFIC, deployment_id, execution_id)
    finally:
        logger._logger.removeHandler(capture)

    # Then the verdict was logged with every check's evidence, without the password
    logs = emitted.getvalue()
    assert result["decision"] == "Failed"
    assert "Hook verdict" in logs
    assert "sign in" in logs
    assert world.secret_password not in logs


@pytest.mark.parametrize(
    ("replacement", "bad", "expected"),
    [
        ("blue", "blue", "Failed"),
        ("blue", "green", "Succeeded"),
        ("green", "green", "Failed"),
        ("green", "blue", "Succeeded"),
    ],
    ids=["blue-new-and-bad", "blue-new-green-old-bad", "green-new-and-bad", "green-new-blue-old-bad"],
)
def test_metric_gate_judges_whichever_group_carries_the_new_release(
    hook_world: Any, replacement: str, bad: str, expected: str
) -> None:
    # Given a deployment whose new release runs on `replacement` (blue from the second deployment on),
    # with failing numbers on `bad` and healthy ones on the other group
    world = hook_world("production")
    for colour in ("blue", "green"):
        errors = 100 if colour == bad else 0
        world.put_target_metrics("frontend", requests=1000, errors=errors, latency_seconds=0.2, colour=colour)
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TRAFFIC, replacement=replacement)

    # When AfterAllowTraffic runs
    result = invoke(world, Hook.AFTER_ALLOW_TRAFFIC, deployment_id, execution_id)

    # Then the numbers of the group the production listener sends traffic to decide, reported once
    assert result["decision"] == expected, result["reason"]
    assert [r.status for r in reports(deployment_id)] == [expected]
    if expected == "Failed":
        assert "metric gate: 5xx rate 10.00% > 1%" in result["reason"]


def test_metric_gate_fails_when_the_alb_does_not_forward_to_the_service(hook_world: Any) -> None:
    # Given healthy numbers on green, but a production rule that forwards to the other service's groups only
    world = hook_world("production")
    world.put_target_metrics("frontend", requests=1000, errors=0, latency_seconds=0.2)
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TRAFFIC)
    backend = world.seeded.service("backend")
    boto3.client("elbv2").modify_rule(
        RuleArn=world.seeded.service("frontend").production_rule_arn,
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": backend.blue_target_group_arn, "Weight": 1}]},
            }
        ],
    )

    # When AfterAllowTraffic runs
    result = invoke(world, Hook.AFTER_ALLOW_TRAFFIC, deployment_id, execution_id)

    # Then the gate fails with the reason instead of judging a guessed group
    assert result["decision"] == "Failed"
    assert "cannot tell which target group carries the new release of frontend" in result["reason"]
    assert "production listener forwards to none of lms-prod-frontend-blue, lms-prod-frontend-green" in result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Failed"]


def test_metric_gate_fails_when_the_load_balancer_cannot_be_read(hook_world: Any) -> None:
    # Given healthy numbers on green, but the LMS's load balancer is gone
    world = hook_world("production")
    world.put_target_metrics("frontend", requests=1000, errors=0, latency_seconds=0.2)
    deployment_id, execution_id = world.start_deployment("frontend", Hook.AFTER_ALLOW_TRAFFIC)
    boto3.client("elbv2").delete_load_balancer(LoadBalancerArn=world.seeded.load_balancer_arn)

    # When AfterAllowTraffic runs
    result = invoke(world, Hook.AFTER_ALLOW_TRAFFIC, deployment_id, execution_id)

    # Then the gate fails, naming the ELB error
    assert result["decision"] == "Failed"
    assert "cannot tell which target group" in result["reason"]
    assert "LoadBalancerNotFound" in result["reason"]
