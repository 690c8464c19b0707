"""`tollgate doctor` on the embedded AWS: the seeded world is green; each removed piece is exactly one red line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.codedeploy import models as codedeploy_models

from lambdas.core import aws
from lambdas.core.config import Hook
from lambdas.hooks.naming import hook_parameter_name
from tollgate.cli import main
from tollgate.commands import doctor
from tollgate.commands.doctor import check_world
from tollgate.doctor.judge import Finding, failures
from tollgate.embedded_aws.server import LOCAL_ACCOUNT_ID
from tollgate.local.replay import LocalWorld, local_world


@pytest.fixture
def staging() -> Iterator[LocalWorld]:
    with local_world("staging") as world:
        yield world


def _deployment_group(world: LocalWorld, service: str) -> Any:
    backend = codedeploy_models.codedeploy_backends[LOCAL_ACCOUNT_ID][world.config.region]
    groups = backend.deployment_groups[world.config.lms.codedeploy_application]
    return groups, str(world.config.lms.services[service].deployment_group)


def _red(findings: list[Finding]) -> list[str]:
    return [f.line() for f in failures(findings)]


def test_the_seeded_world_is_all_green(staging: LocalWorld) -> None:
    findings = check_world(staging)
    assert _red(findings) == []
    # And every piece the doctor knows of was looked at
    subjects = " ".join(f.subject for f in findings)
    for piece in (
        "load balancer",
        "target group",
        "ECS service",
        "composite alarm",
        "deployment group",
        "hook",
        "secret",
    ):
        assert piece in subjects


def test_a_deleted_deployment_group_is_one_red_line(staging: LocalWorld) -> None:
    groups, name = _deployment_group(staging, "backend")
    del groups[name]
    (line,) = _red(check_world(staging))
    assert line.startswith(
        "✗ backend deployment group lms-staging-backend: not found in CodeDeploy application lms-staging"
    )


def test_a_deleted_operator_role_is_one_red_line(staging: LocalWorld) -> None:
    aws.client("iam").delete_role(RoleName="tollgate-staging-operator")
    (line,) = _red(check_world(staging))
    assert line.startswith("✗ operator role/tollgate-staging-operator: does not exist: nobody can request a rollback")


def test_a_codedeploy_role_codedeploy_may_not_assume_is_one_red_line_per_service_using_it(staging: LocalWorld) -> None:
    iam = aws.client("iam")
    ecs_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.update_assume_role_policy(RoleName="lms-staging-codedeploy", PolicyDocument=json.dumps(ecs_only))
    red = _red(check_world(staging))
    assert [line.split(":")[0] for line in red] == [
        "✗ backend CodeDeploy service role",
        "✗ frontend CodeDeploy service role",
    ]
    assert "lms-staging-codedeploy does not let codedeploy.amazonaws.com assume it" in red[0]
    assert "fix: aws iam update-assume-role-policy --role-name lms-staging-codedeploy" in red[0]


def test_a_dropped_alarm_configuration_prints_the_update_command(staging: LocalWorld) -> None:
    groups, name = _deployment_group(staging, "frontend")
    groups[name].alarm_configuration = None
    (line,) = _red(check_world(staging))
    assert "✗ frontend deployment group lms-staging-frontend alarms:" in line
    assert "does not list tollgate-staging-frontend-service-unhealthy" in line
    assert (
        "fix: aws deploy update-deployment-group --region eu-west-1 --application-name lms-staging "
        "--current-deployment-group-name lms-staging-frontend --alarm-configuration "
        '\'{"enabled":true,"ignorePollAlarmFailure":false,'
        '"alarms":[{"name":"tollgate-staging-frontend-service-unhealthy"}]}\' '
        '--auto-rollback-configuration \'{"enabled":true,"events":["DEPLOYMENT_FAILURE","DEPLOYMENT_STOP_ON_ALARM"]}\''
    ) in line


def test_rollback_without_stop_on_alarm_is_one_red_line(staging: LocalWorld) -> None:
    groups, name = _deployment_group(staging, "backend")
    groups[name].auto_rollback_configuration = {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}
    (line,) = _red(check_world(staging))
    assert "auto-rollback does not include DEPLOYMENT_STOP_ON_ALARM" in line
    assert "--auto-rollback-configuration" in line


def _delete_secret(world: LocalWorld) -> None:
    aws.client("secretsmanager").delete_secret(
        SecretId=world.config.checks.synthetic_user_secret, ForceDeleteWithoutRecovery=True
    )


def _delete_hook_parameter(world: LocalWorld) -> None:
    aws.client("ssm").delete_parameter(Name=hook_parameter_name("staging", Hook.AFTER_ALLOW_TEST_TRAFFIC))


def _delete_green_target_group(world: LocalWorld) -> None:
    elbv2 = aws.client("elbv2")
    green = elbv2.describe_target_groups(Names=["lms-stag-backend-green"])["TargetGroups"][0]["TargetGroupArn"]
    balancer = elbv2.describe_load_balancers(Names=["lms-staging"])["LoadBalancers"][0]["LoadBalancerArn"]
    # A target group in use cannot be deleted: the LMS would first remove the rules forwarding to it.
    for listener in elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]:
        for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            forwards = [g for a in rule["Actions"] for g in (a.get("ForwardConfig") or {}).get("TargetGroups", [])]
            if not rule["IsDefault"] and any(g["TargetGroupArn"] == green for g in forwards):
                elbv2.delete_rule(RuleArn=rule["RuleArn"])
    elbv2.delete_target_group(TargetGroupArn=green)


def _delete_test_listener(world: LocalWorld) -> None:
    elbv2 = aws.client("elbv2")
    balancer = elbv2.describe_load_balancers(Names=["lms-staging"])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = next(
        item for item in elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"] if item["Port"] == 8443
    )
    elbv2.delete_listener(ListenerArn=listener["ListenerArn"])


def _delete_composite_alarm(world: LocalWorld) -> None:
    aws.client("cloudwatch").delete_alarms(AlarmNames=["tollgate-staging-frontend-service-unhealthy"])


def _delete_ecs_service(world: LocalWorld) -> None:
    aws.client("ecs").delete_service(cluster="lms-staging", service="lms-staging-frontend", force=True)


def _delete_database(world: LocalWorld) -> None:
    rds = aws.client("rds")
    rds.delete_db_instance(DBInstanceIdentifier="lms-staging-db-writer", SkipFinalSnapshot=True)
    rds.delete_db_cluster(DBClusterIdentifier="lms-staging-db", SkipFinalSnapshot=True)


@pytest.mark.parametrize(
    ("remove", "red_line"),
    [
        (
            _delete_secret,
            "✗ secret tollgate/staging/synthetic-user: not found (or scheduled for deletion); "
            "synthetic flows cannot sign in — fix: aws secretsmanager create-secret --region eu-west-1 "
            "--name tollgate/staging/synthetic-user",
        ),
        (
            _delete_hook_parameter,
            "✗ hook AfterAllowTestTraffic (CodeDeployHook_tollgate-staging-AfterAllowTestTraffic): "
            "SSM parameter /tollgate/staging/hooks/AfterAllowTestTraffic is missing",
        ),
        (
            _delete_green_target_group,
            "✗ backend green target group lms-stag-backend-green: not found — fix: create it, "
            "or correct lms.services.backend.target_groups.green in staging.json",
        ),
        (
            _delete_test_listener,
            "✗ load balancer lms-staging test listener :8443: no listener on port 8443 (has [443])",
        ),
        (_delete_composite_alarm, "✗ frontend composite alarm tollgate-staging-frontend-service-unhealthy: not found"),
        (_delete_ecs_service, "✗ frontend ECS service lms-staging-frontend: not found (or not ACTIVE)"),
        (
            _delete_database,
            "✗ database cluster lms-staging-db: not found — fix: correct lms.rds_cluster in staging.json",
        ),
    ],
    ids=["secret", "hook-parameter", "target-group", "test-listener", "composite-alarm", "ecs-service", "database"],
)
def test_each_removed_piece_is_exactly_one_red_line(
    staging: LocalWorld, remove: Callable[[LocalWorld], None], red_line: str
) -> None:
    # Given the seeded world, green
    assert _red(check_world(staging)) == []
    # When one piece is removed
    remove(staging)
    # Then exactly one line is red, and it names the piece and what to do
    (line,) = _red(check_world(staging))
    assert line.startswith(red_line), line


def test_the_command_exits_0_when_green_and_prints_one_line_per_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--env", "production"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tollgate doctor: production on the embedded AWS (seeded)"
    assert out[-1].endswith("checks, all green")
    assert all(line.startswith("✓ ") for line in out[1:-1])
    # And production's Slack bot token and signing secret (the living message, the buttons) were looked at
    for secret in ("tollgate/production/slack-bot-token", "tollgate/production/slack-signing-secret"):
        assert any(line.startswith(f"✓ secret {secret}") for line in out), secret
    assert any(line.startswith("✓ operator role/tollgate-production-operator") for line in out)
    assert any(line.startswith("✓ backend CodeDeploy service role") for line in out)


def test_the_command_exits_1_with_one_red_line_per_removed_piece(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a world where two pieces are removed before the doctor looks
    real_check = doctor.check_world

    def check_damaged(world: LocalWorld) -> list[Finding]:
        _delete_composite_alarm(world)
        _delete_secret(world)
        return real_check(world)

    monkeypatch.setattr(doctor, "check_world", check_damaged)
    # When the command runs / Then it exits 1 with exactly those two red lines and the count
    assert main(["doctor", "--env", "staging"]) == 1
    out = capsys.readouterr().out.splitlines()
    red = [line for line in out if line.startswith("✗ ")]
    assert [line.split(":")[0] for line in red] == [
        "✗ frontend composite alarm tollgate-staging-frontend-service-unhealthy",
        "✗ secret tollgate/staging/synthetic-user",
    ]
    assert out[-1].endswith("checks, 2 to fix")


def test_the_live_path_asks_lambda_for_each_hook_function(staging: LocalWorld) -> None:
    # Given the live checks pointed at the embedded AWS (AWS_ENDPOINT_URL is set inside the world), which runs
    # handlers in-process and so has no Lambda functions
    findings = doctor.check_live(staging.config)
    # Then everything the seed created is green, and each hook is red for its missing function (GetFunction)
    red = failures(findings)
    assert [f.subject for f in red] == [
        f"hook {hook.value} (CodeDeployHook_tollgate-staging-{hook.value})" for hook in Hook
    ]
    assert {f.message for f in red} == {"the function does not exist"}


def test_live_refuses_an_endpoint_override(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    assert main(["doctor", "--env", "staging", "--live"]) == 2
    assert "AWS_ENDPOINT_URL" in capsys.readouterr().err
