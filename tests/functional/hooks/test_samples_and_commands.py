"""Hook samples replayed through the handler, and the approve/appspec commands on the embedded AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdas.core.config import Hook
from lambdas.hooks.handler import handler
from lambdas.hooks.naming import hook_function_name
from lambdas.hooks.run_hook import HookInvocation
from lambdas.hooks.state import find_approval
from tests.functional.hooks.conftest import HookWorld, reports
from tollgate.cli import main
from tollgate.local.context import LocalLambdaContext

EVENTS = Path(__file__).resolve().parents[3] / "events"
HOOK_SAMPLES = {
    Hook.BEFORE_INSTALL: "codedeploy-hook-before-install.json",
    Hook.AFTER_INSTALL: "codedeploy-hook-after-install.json",
    Hook.AFTER_ALLOW_TEST_TRAFFIC: "codedeploy-hook-after-allow-test-traffic.json",
    Hook.BEFORE_ALLOW_TRAFFIC: "codedeploy-hook-before-allow-traffic.json",
    Hook.AFTER_ALLOW_TRAFFIC: "codedeploy-hook-after-allow-traffic.json",
}


@pytest.mark.parametrize("hook", list(Hook))
def test_sample_payload_is_exactly_what_codedeploy_sends(hook: Hook) -> None:
    # Given the sample for this hook
    event = json.loads((EVENTS / HOOK_SAMPLES[hook]).read_text())
    # Then it holds only the two ids and parses as a hook invocation
    assert set(event) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert HookInvocation.model_validate(event).deployment_id == event["DeploymentId"]


@pytest.mark.parametrize("hook", list(Hook))
def test_sample_for_an_unknown_deployment_is_unreportable_not_a_crash(hook_world: Any, hook: Hook) -> None:
    # Given the sample, whose deployment the embedded AWS does not know
    world: HookWorld = hook_world("staging")
    world.use_hook(hook)
    event = json.loads((EVENTS / HOOK_SAMPLES[hook]).read_text())

    # When it is replayed through the handler
    result = handler(event, LocalLambdaContext(function_name=hook_function_name("staging", hook)))

    # Then the hook says it could not report (nothing to retry), with the lookup failure as the reason
    assert result["decision"] == "unreported"
    assert "DeploymentDoesNotExist" in result["reason"]


def test_approve_command_unlocks_before_allow_traffic(hook_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a production deployment waiting at BeforeAllowTraffic
    world: HookWorld = hook_world("production")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_ALLOW_TRAFFIC)

    # When an operator approves it with the CLI (against this embedded AWS)
    code = main(
        [
            "approve",
            "--env",
            "production",
            "--deployment-id",
            deployment_id,
            "--by",
            "release-manager",
            "--reason",
            "CAB",
        ]
    )
    context = LocalLambdaContext(function_name=hook_function_name("production", Hook.BEFORE_ALLOW_TRAFFIC))
    result = handler({"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}, context)

    # Then the approval is recorded and the hook reports Succeeded once
    assert code == 0
    assert "approved production/" in capsys.readouterr().out
    approval = find_approval("tollgate-state", deployment_id)
    assert approval is not None and approval.approved_by == "release-manager" and approval.reason == "CAB"
    assert result["decision"] == "Succeeded", result["reason"]
    assert [r.status for r in reports(deployment_id)] == ["Succeeded"]


def test_approve_refuses_another_environments_deployment(hook_world: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a staging deployment
    world: HookWorld = hook_world("staging")
    deployment_id, _ = world.start_deployment("backend", Hook.BEFORE_ALLOW_TRAFFIC)

    # When someone approves it for production
    code = main(["approve", "--env", "production", "--deployment-id", deployment_id, "--by", "lms-lead"])

    # Then nothing is recorded and the command says why
    assert code == 2
    assert "lms-staging" in capsys.readouterr().err
    assert find_approval("tollgate-state", deployment_id) is None


def test_live_approve_needs_a_real_endpoint(embedded_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the embedded AWS's endpoint in the environment
    # When --live is asked for
    code = main(["approve", "--env", "production", "--deployment-id", "d-ABCDEFGHI", "--by", "c", "--live"])
    # Then it refuses instead of writing to the embedded AWS while claiming the account
    assert code == 2
    assert "AWS_ENDPOINT_URL" in capsys.readouterr().err


def test_appspec_deploys_with_hooks_the_hooks_can_answer(embedded_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a registered task definition ARN
    arn = "arn:aws:ecs:eu-west-1:222222222222:task-definition/lms-staging-frontend:3"

    # When the AppSpec is printed
    code = main(["appspec", "--env", "staging", "--service", "frontend", "--task-definition", arn])
    appspec = json.loads(capsys.readouterr().out)

    # Then CodeDeploy accepts it as a revision and it names every hook's function
    assert code == 0
    hooks = {name: target for entry in appspec["Hooks"] for name, target in entry.items()}
    assert hooks[Hook.AFTER_ALLOW_TEST_TRAFFIC.value].endswith(
        ":function:CodeDeployHook_tollgate-staging-AfterAllowTestTraffic"
    )
    properties = appspec["Resources"][0]["TargetService"]["Properties"]
    assert properties["LoadBalancerInfo"] == {"ContainerName": "frontend", "ContainerPort": 80}
    codedeploy = boto3.client("codedeploy")
    codedeploy.create_application(applicationName="lms-staging", computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName="lms-staging",
        deploymentGroupName="lms-staging-frontend",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
    )
    deployment_id = codedeploy.create_deployment(
        applicationName="lms-staging",
        deploymentGroupName="lms-staging-frontend",
        revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(appspec)}},
    )["deploymentId"]
    assert deployment_id.startswith("d-")
