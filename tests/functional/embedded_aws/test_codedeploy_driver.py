"""The local CodeDeploy driver plays the ECS blue/green lifecycle on a seeded environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, load_environment
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.codedeploy_driver import CodeDeployEcsDriver, DriverError
from tollgate.embedded_aws.seed import (
    ECS_HOOK_NAMES,
    SeededEnvironment,
    appspec_revision,
    ecs_appspec,
    seed_environment,
)

HOOKS = {name: f"CodeDeployHook_{name}" for name in ECS_HOOK_NAMES}


@dataclass
class ReportingHooks:
    """Hook functions that report like Tollgate's: Succeeded unless told otherwise."""

    outcomes: dict[str, str] = field(default_factory=dict)  # hook -> Succeeded | Failed | silent | stop
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, hook: str, function_name: str, payload: dict[str, str]) -> None:
        self.calls.append((hook, function_name))
        outcome = self.outcomes.get(hook, "Succeeded")
        codedeploy = aws.client("codedeploy")
        if outcome == "stop":
            # The alarm rollback stops the deployment while this hook is running.
            codedeploy.stop_deployment(deploymentId=payload["DeploymentId"], autoRollbackEnabled=True)
            return
        if outcome != "silent":
            codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=payload["DeploymentId"],
                lifecycleEventHookExecutionId=payload["LifecycleEventHookExecutionId"],
                status=outcome,
            )


def _seed(name: str) -> tuple[EnvironmentConfig, SeededEnvironment]:
    config = load_environment(name)
    return config, seed_environment(config)


def _deploy(config: EnvironmentConfig, seeded: SeededEnvironment, hooks: dict[str, str] | None = None) -> str:
    service = config.lms.services["backend"]
    content = ecs_appspec(
        seeded.service("backend").previous_task_definition_arn,
        service.container_name,
        service.container_port,
        HOOKS if hooks is None else hooks,
    )
    deployment_id: str = aws.client("codedeploy").create_deployment(
        applicationName=config.lms.codedeploy_application,
        deploymentGroupName=service.deployment_group,
        revision=appspec_revision(content),
    )["deploymentId"]
    return deployment_id


def _weights(rule_arn: str | None) -> dict[str, int]:
    (rule,) = aws.client("elbv2").describe_rules(RuleArns=[str(rule_arn)])["Rules"]
    return {tg["TargetGroupArn"]: tg["Weight"] for tg in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}


def _primary_target_group(config: EnvironmentConfig) -> str:
    service = aws.client("ecs").describe_services(
        cluster=config.lms.ecs_cluster, services=[config.lms.services["backend"].ecs_service]
    )["services"][0]
    primary = [t for t in service["taskSets"] if t["status"] == "PRIMARY"]
    return str(primary[0]["loadBalancers"][0]["targetGroupArn"])


def test_a_healthy_deployment_runs_every_hook_and_moves_traffic(embedded_aws: Any) -> None:
    # Given a seeded staging and a deployment whose hooks all succeed
    config, seeded = _seed("staging")
    deployment_id = _deploy(config, seeded)
    hooks = ReportingHooks()
    events: list[dict[str, Any]] = []
    # When the driver plays it
    play = CodeDeployEcsDriver(invoke_hook=hooks, emit_event=events.append).play(deployment_id)
    # Then every hook ran once in CodeDeploy's order, and production traffic is on green
    backend = seeded.service("backend")
    assert play.status == "Succeeded"
    assert [hook for hook, _ in hooks.calls] == list(ECS_HOOK_NAMES)
    assert [s.name for s in play.steps if s.outcome == "Succeeded"] == [
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "AllowTestTraffic",
        "AfterAllowTestTraffic",
        "BeforeAllowTraffic",
        "AllowTraffic",
        "AfterAllowTraffic",
    ]
    assert _weights(backend.production_rule_arn) == {
        backend.blue_target_group_arn: 0,
        str(backend.green_target_group_arn): 100,
    }
    assert _primary_target_group(config) == backend.green_target_group_arn
    assert extensions.deployment_status(deployment_id) == "Succeeded"
    assert [e["detail"]["state"] for e in events] == ["START", "SUCCESS"]
    assert events[0]["detail"]["deploymentGroup"] == "lms-staging-backend"


def test_the_next_deployment_goes_to_the_other_target_group(embedded_aws: Any) -> None:
    # Given a first deployment that moved staging's backend to green
    config, seeded = _seed("staging")
    driver = CodeDeployEcsDriver(invoke_hook=ReportingHooks())
    driver.play(_deploy(config, seeded))
    # When a second deployment is played
    play = driver.play(_deploy(config, seeded))
    # Then traffic is back on blue, now the replacement
    backend = seeded.service("backend")
    assert play.status == "Succeeded"
    assert _weights(backend.production_rule_arn)[backend.blue_target_group_arn] == 100
    assert _primary_target_group(config) == backend.blue_target_group_arn


@pytest.mark.parametrize(
    ("failing_hook", "outcome", "last_step"),
    [
        ("BeforeInstall", "Failed", "BeforeInstall"),
        ("AfterAllowTestTraffic", "Failed", "AfterAllowTestTraffic"),
        ("AfterAllowTraffic", "Failed", "AfterAllowTraffic"),
        ("BeforeAllowTraffic", "silent", "BeforeAllowTraffic"),
    ],
)
def test_a_failing_hook_fails_and_rolls_back(
    embedded_aws: Any, failing_hook: str, outcome: str, last_step: str
) -> None:
    # Given a hook that fails (or never reports)
    config, seeded = _seed("staging")
    deployment_id = _deploy(config, seeded)
    hooks = ReportingHooks(outcomes={failing_hook: outcome})
    events: list[dict[str, Any]] = []
    # When the driver plays the deployment
    play = CodeDeployEcsDriver(invoke_hook=hooks, emit_event=events.append).play(deployment_id)
    # Then it failed at that hook, rolled back (the group rolls back on failure), and blue serves
    backend = seeded.service("backend")
    info = aws.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert play.status == "Failed"
    assert play.steps[-1].name == last_step
    assert hooks.calls[-1][0] == failing_hook
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert play.rollback_deployment_id == info["rollbackInfo"]["rollbackDeploymentId"]
    assert _weights(backend.production_rule_arn)[backend.blue_target_group_arn] == 100
    assert _weights(backend.test_rule_arn)[backend.blue_target_group_arn] == 100
    assert _primary_target_group(config) == backend.blue_target_group_arn
    assert [e["detail"]["state"] for e in events] == ["START", "FAILURE"]


@pytest.fixture
def reporting_task(embedded_aws: Any) -> Iterator[None]:
    """A state machine's Lambda task that reports the hook named in its input, as the canary's last task does."""

    def report(_function: str, payload: Any) -> tuple[Any, str | None]:
        aws.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=payload["DeploymentId"],
            lifecycleEventHookExecutionId=payload["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )
        return {}, None

    extensions.set_lambda_invoker(report)
    yield
    extensions.set_lambda_invoker(None)


def test_a_hook_an_execution_holds_is_waited_for_as_long_as_the_execution_runs(
    embedded_aws: Any, reporting_task: None
) -> None:
    # Given a BeforeAllowTraffic hook that returns at once, leaving the report to an execution named for the
    # deployment that waits, then reports (as the canary's state machine does)
    stepfunctions = aws.client("stepfunctions")
    report = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "report", "Payload.$": "$"},
        "End": True,
    }
    definition = {
        "StartAt": "Bake",
        "States": {"Bake": {"Type": "Wait", "Seconds": 1, "Next": "Report"}, "Report": report},
    }
    machine = stepfunctions.create_state_machine(
        name="reports-later", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/local"
    )["stateMachineArn"]
    hooks = ReportingHooks(outcomes={"BeforeAllowTraffic": "silent"})

    def hook_starting_the_execution(hook: str, function_name: str, payload: dict[str, str]) -> None:
        hooks(hook, function_name, payload)
        if hook == "BeforeAllowTraffic":
            stepfunctions.start_execution(
                stateMachineArn=machine, name=payload["DeploymentId"], input=json.dumps(payload)
            )

    config, seeded = _seed("staging")
    # When the driver, which gives a silent hook no time of its own, plays the deployment
    play = CodeDeployEcsDriver(invoke_hook=hook_starting_the_execution, report_wait_seconds=0).play(
        _deploy(config, seeded)
    )
    # Then it waited for the execution's report rather than failing the hook as never reported
    assert play.status == "Succeeded"
    assert [s.outcome for s in play.steps if s.name == "BeforeAllowTraffic"] == ["Succeeded"]


def test_a_stop_during_a_hook_ends_the_deployment(embedded_aws: Any) -> None:
    # Given the alarm rollback stops production's deployment during BeforeAllowTraffic
    config, seeded = _seed("staging")
    deployment_id = _deploy(config, seeded)
    hooks = ReportingHooks(outcomes={"BeforeAllowTraffic": "stop"})
    # When the driver plays it
    play = CodeDeployEcsDriver(invoke_hook=hooks).play(deployment_id)
    # Then no later hook ran and traffic is back on blue
    backend = seeded.service("backend")
    assert play.status == "Stopped"
    assert [hook for hook, _ in hooks.calls][-1] == "BeforeAllowTraffic"
    assert play.rollback_deployment_id is not None
    assert _weights(backend.production_rule_arn)[backend.blue_target_group_arn] == 100


def test_production_waits_for_approval_then_continues(embedded_aws: Any) -> None:
    # Given production, whose deployments wait in Ready for an operator
    config, seeded = _seed("production")
    deployment_id = _deploy(config, seeded)
    hooks = ReportingHooks()
    driver = CodeDeployEcsDriver(invoke_hook=hooks)
    # When the driver plays it
    waiting = driver.play(deployment_id)
    # Then it stops in Ready after the test-traffic hooks, with production traffic untouched
    backend = seeded.service("backend")
    assert waiting.status == "Ready"
    assert [hook for hook, _ in hooks.calls] == ["BeforeInstall", "AfterInstall", "AfterAllowTestTraffic"]
    assert _weights(backend.production_rule_arn)[backend.blue_target_group_arn] == 100
    assert _weights(backend.test_rule_arn)[str(backend.green_target_group_arn)] == 100
    with pytest.raises(DriverError, match="not continued"):
        driver.resume(deployment_id)
    # When the operator continues it
    aws.client("codedeploy").continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    done = driver.resume(deployment_id)
    # Then the traffic hooks run and green serves production
    assert done.status == "Succeeded"
    assert [hook for hook, _ in hooks.calls][3:] == ["BeforeAllowTraffic", "AfterAllowTraffic"]
    assert _weights(backend.production_rule_arn)[str(backend.green_target_group_arn)] == 100


def test_hooks_missing_from_the_appspec_are_skipped(embedded_aws: Any) -> None:
    config, seeded = _seed("staging")
    hooks = ReportingHooks()
    play = CodeDeployEcsDriver(invoke_hook=hooks).play(
        _deploy(config, seeded, hooks={"BeforeAllowTraffic": "CodeDeployHook_canary"})
    )
    assert play.status == "Succeeded"
    assert hooks.calls == [("BeforeAllowTraffic", "CodeDeployHook_canary")]
    assert {s.name for s in play.steps if s.outcome == "Skipped"} == {
        "BeforeInstall",
        "AfterInstall",
        "AfterAllowTestTraffic",
        "AfterAllowTraffic",
    }


def test_a_deployment_without_an_inline_appspec_is_refused(embedded_aws: Any) -> None:
    config, _ = _seed("staging")
    service = config.lms.services["backend"]
    deployment_id = aws.client("codedeploy").create_deployment(
        applicationName=config.lms.codedeploy_application,
        deploymentGroupName=service.deployment_group,
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "YAML"}},
    )["deploymentId"]
    with pytest.raises(DriverError, match="no inline AppSpec"):
        CodeDeployEcsDriver(invoke_hook=ReportingHooks()).play(deployment_id)
