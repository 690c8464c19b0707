"""Reporting retries, check planning from the config, the deadline guard, and the config's checks rules."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.core.config import ConfigError, Hook, load_environment, parse_environment
from lambdas.hooks.adapters.codedeploy import report_hook_status
from lambdas.hooks.checks import evaluate_within_deadline
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import ReportError
from lambdas.hooks.model import ReportStatus, decide_verdict
from lambdas.hooks.plan import MissingCheckConfigError, plan_checks
from tollgate.cli import CommandError
from tollgate.commands.appspec import build_ecs_appspec


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutLifecycleEventHookExecutionStatus")


class FakeCodeDeploy:
    """Answers each call with the next scripted error (or success when the script runs out)."""

    def __init__(self, *errors: str) -> None:
        self.errors = list(errors)
        self.calls: list[dict[str, Any]] = []

    def put_lifecycle_event_hook_execution_status(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.errors:
            raise client_error(self.errors.pop(0))
        return {"lifecycleEventHookExecutionId": kwargs["lifecycleEventHookExecutionId"]}


def report(client: FakeCodeDeploy, attempts: int = 5) -> str:
    return report_hook_status(
        deployment_id="d-A",
        execution_id="x",
        status=ReportStatus.FAILED,
        client=client,
        attempts=attempts,
        deadline=Deadline(at=time.monotonic() + 60),
        sleep=lambda seconds: None,
    )


def test_throttling_is_retried_until_the_report_lands() -> None:
    # Given CodeDeploy throttles twice
    client = FakeCodeDeploy("ThrottlingException", "ThrottlingException")
    # When the hook reports
    outcome = report(client)
    # Then the third attempt reports, with the same status each time
    assert outcome == "reported"
    assert [c["status"] for c in client.calls] == ["Failed"] * 3


def test_throttling_retries_are_bounded() -> None:
    client = FakeCodeDeploy(*["ThrottlingException"] * 10)
    with pytest.raises(ReportError) as raised:
        report(client, attempts=3)
    assert len(client.calls) == 3
    assert not raised.value.permanent


def test_already_completed_is_done_not_an_error() -> None:
    assert report(FakeCodeDeploy("LifecycleEventAlreadyCompletedException")) == "already_completed"


@pytest.mark.parametrize("code", ["DeploymentDoesNotExistException", "InvalidLifecycleEventHookExecutionIdException"])
def test_unknown_deployment_or_execution_is_permanent_and_not_retried(code: str) -> None:
    client = FakeCodeDeploy(code)
    with pytest.raises(ReportError) as raised:
        report(client)
    assert raised.value.permanent
    assert len(client.calls) == 1


def test_plan_follows_the_config_per_hook_and_service() -> None:
    # Given production's config
    config = load_environment("production")
    # When the hooks' checks are planned
    test_traffic = plan_checks(config, Hook.AFTER_ALLOW_TEST_TRAFFIC, "backend")
    traffic = plan_checks(config, Hook.AFTER_ALLOW_TRAFFIC, "frontend", base_url_override="http://127.0.0.1:9")
    gate = plan_checks(config, Hook.BEFORE_ALLOW_TRAFFIC, "backend")
    install = plan_checks(config, Hook.BEFORE_INSTALL, "backend")
    # Then flows target the right listener, the metric gate runs where configured, policy gates sit where they belong
    assert [r.base_url for r in test_traffic.flow_runs] == [config.lms.services["backend"].test_url] * 2
    assert test_traffic.uses_synthetic_user
    assert [r.base_url for r in traffic.flow_runs] == ["http://127.0.0.1:9"]
    assert traffic.metric_gate and not test_traffic.metric_gate
    assert gate.approval_gate and not gate.change_freeze_gate
    assert install.change_freeze_gate and not install.approval_gate
    assert not plan_checks(load_environment("staging"), Hook.BEFORE_ALLOW_TRAFFIC, "backend").approval_gate


def test_a_hook_the_config_does_not_list_is_missing_configuration() -> None:
    config = load_environment("production")
    trimmed = config.model_copy(update={"checks": config.checks.model_copy(update={"hooks": {}})})
    with pytest.raises(MissingCheckConfigError, match=r"checks\.hooks\.AfterInstall\.backend"):
        plan_checks(trimmed, Hook.AFTER_INSTALL, "backend")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["checks"]["hooks"]["AfterAllowTraffic"].update({"billing": {}}), "unknown service"),
        (lambda c: c["checks"]["hooks"]["AfterAllowTraffic"]["backend"].update({"flows": ["nope"]}), "unknown flow"),
        (lambda c: c["checks"].update({"synthetic_user_secret": None}), "synthetic_user_secret"),
        (lambda c: c["checks"]["flows"]["frontend-shell"].update({"service": "billing"}), "unknown service"),
    ],
)
def test_config_rejects_checks_that_name_what_does_not_exist(change: Any, message: str) -> None:
    # Given production's raw config with one broken reference
    raw = load_environment("production").model_dump(mode="json")
    change(raw)
    # When it is validated, Then the error names the problem
    with pytest.raises(ConfigError, match=message):
        parse_environment("production", raw)


def test_deadline_guard_fails_a_hanging_evaluation_in_time() -> None:
    # Given an evaluation that would hang for 5 s and a deadline 0.3 s away
    release = threading.Event()
    finished = threading.Event()

    def hang() -> Any:
        release.wait(5)
        finished.set()
        return decide_verdict(())

    # When it runs under the guard
    verdict = evaluate_within_deadline(hang, Deadline(at=time.monotonic() + 0.3))
    # Then the verdict is Failed while the evaluation is still hanging (the guard did not wait for it)
    still_hanging = not finished.is_set()
    release.set()
    assert still_hanging
    assert verdict.status is ReportStatus.FAILED
    assert "deadline" in verdict.reason


def test_deadline_guard_turns_exceptions_into_failed_verdicts() -> None:
    def explode() -> Any:
        raise KeyError("surprise")

    verdict = evaluate_within_deadline(explode, Deadline(at=time.monotonic() + 5))
    assert verdict.status is ReportStatus.FAILED
    assert "KeyError" in verdict.reason


def test_deadline_from_context_keeps_the_margin() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    deadline = Deadline.from_context(Context(), margin_ms=5000, clock=lambda: 100.0)
    assert deadline.at == pytest.approx(125.0)


@pytest.mark.parametrize(
    ("environment", "service", "arn", "message"),
    [
        ("development", "backend", "arn:aws:ecs:eu-west-1:111111111111:task-definition/x:1", "rolling"),
        ("staging", "billing", "arn:aws:ecs:eu-west-1:222222222222:task-definition/x:1", "no service"),
        ("staging", "backend", "lms-staging-backend:3", "not an ECS task definition ARN"),
    ],
)
def test_appspec_refuses_what_cannot_deploy(environment: str, service: str, arn: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        build_ecs_appspec(load_environment(environment), service, arn)


def test_appspec_names_hook_functions_in_codedeploy_order() -> None:
    appspec = build_ecs_appspec(
        load_environment("production"),
        "backend",
        "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:7",
        function_names=True,
    )
    assert appspec["Hooks"] == [{hook.value: f"CodeDeployHook_tollgate-production-{hook.value}"} for hook in Hook]
    assert appspec["Resources"][0]["TargetService"]["Properties"]["LoadBalancerInfo"]["ContainerPort"] == 8000
