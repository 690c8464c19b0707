"""The doctor's pure judgements: what AWS answered, against what the config says, and the fix."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from lambdas.core.config import EnvironmentConfig, Hook, load_environment
from tollgate.doctor.judge import (
    DoctorFacts,
    Finding,
    ServiceFacts,
    diagnose,
    failures,
    judge_alarm_configuration,
    judge_codedeploy_role,
    judge_database,
    judge_deployment_group,
    judge_ecs_service,
    judge_hook,
    judge_load_balancer,
    judge_operator,
    judge_secret,
    judge_target_group,
    trusts_service,
    update_alarms_command,
)

PROD_LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/lms-staging/000000000000abc7/aaa"
TEST_LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/lms-staging/000000000000abc7/bbb"
PORTS = {PROD_LISTENER: 443, TEST_LISTENER: 8443}


@pytest.fixture
def staging() -> EnvironmentConfig:
    return load_environment("staging")


def _group(**overrides: Any) -> dict[str, Any]:
    group: dict[str, Any] = {
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "loadBalancerInfo": {
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": "lms-stag-backend-blue"}, {"name": "lms-stag-backend-green"}],
                    "prodTrafficRoute": {"listenerArns": [PROD_LISTENER]},
                    "testTrafficRoute": {"listenerArns": [TEST_LISTENER]},
                }
            ]
        },
        "ecsServices": [{"clusterName": "lms-staging", "serviceName": "lms-staging-backend"}],
        "alarmConfiguration": {
            "enabled": True,
            "ignorePollAlarmFailure": False,
            "alarms": [{"name": "tollgate-staging-backend-service-unhealthy"}],
        },
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
    }
    group.update(overrides)
    return group


def test_a_finding_is_one_line_with_its_fix_only_when_red() -> None:
    assert Finding(True, "secret x", "exists", "never shown").line() == "✓ secret x: exists"
    assert Finding(False, "secret x", "not found", "create it").line() == "✗ secret x: not found — fix: create it"


def test_a_blue_green_group_on_the_expected_pieces_is_green(staging: EnvironmentConfig) -> None:
    assert judge_deployment_group(staging, "backend", _group(), PORTS).ok


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"deploymentStyle": {"deploymentType": "IN_PLACE"}}, "not BLUE_GREEN/WITH_TRAFFIC_CONTROL"),
        (
            {"ecsServices": [{"clusterName": "lms-staging", "serviceName": "other"}]},
            "ECS service is [('lms-staging', 'other')]",
        ),
    ],
)
def test_a_group_of_the_wrong_shape_says_what_differs(
    staging: EnvironmentConfig, overrides: dict[str, Any], problem: str
) -> None:
    finding = judge_deployment_group(staging, "backend", _group(**overrides), PORTS)
    assert not finding.ok and problem in finding.message


def test_a_group_on_other_target_groups_or_listener_ports_is_red(staging: EnvironmentConfig) -> None:
    group = _group()
    pair = group["loadBalancerInfo"]["targetGroupPairInfoList"][0]
    pair["targetGroups"] = [{"name": "lms-stag-backend-blue"}, {"name": "old-green"}]
    pair["testTrafficRoute"] = {"listenerArns": [PROD_LISTENER]}
    finding = judge_deployment_group(staging, "backend", group, PORTS)
    assert not finding.ok
    assert "expected ['lms-stag-backend-blue', 'lms-stag-backend-green']" in finding.message
    assert "test traffic route is on port(s) [443], expected [8443]" in finding.message


def test_a_missing_group_is_red_and_its_alarm_line_is_not_repeated(staging: EnvironmentConfig) -> None:
    assert not judge_deployment_group(staging, "backend", None, PORTS).ok
    assert judge_alarm_configuration(staging, "backend", None) is None


def test_alarm_configuration_listing_the_composite_with_rollback_on_alarm_is_green(
    staging: EnvironmentConfig,
) -> None:
    finding = judge_alarm_configuration(staging, "backend", _group())
    assert finding is not None and finding.ok


def test_the_fix_keeps_the_groups_own_alarms_and_events(staging: EnvironmentConfig) -> None:
    # Given a group with an LMS alarm of its own and rollback on failure only
    group = _group(
        alarmConfiguration={"enabled": True, "ignorePollAlarmFailure": True, "alarms": [{"name": "lms-5xx"}]},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_FAILURE"]},
    )
    finding = judge_alarm_configuration(staging, "backend", group)
    assert finding is not None and not finding.ok
    # Then the command adds the composite and DEPLOYMENT_STOP_ON_ALARM and keeps what was there
    words = shlex.split(update_alarms_command(staging, "backend", group))
    assert words[:3] == ["aws", "deploy", "update-deployment-group"]
    assert words[words.index("--current-deployment-group-name") + 1] == "lms-staging-backend"
    alarms = json.loads(words[words.index("--alarm-configuration") + 1])
    assert alarms == {
        "enabled": True,
        "ignorePollAlarmFailure": True,
        "alarms": [{"name": "lms-5xx"}, {"name": "tollgate-staging-backend-service-unhealthy"}],
    }
    rollback = json.loads(words[words.index("--auto-rollback-configuration") + 1])
    assert rollback == {
        "enabled": True,
        "events": ["DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    }
    assert finding.fix == update_alarms_command(staging, "backend", group)


def test_a_disabled_alarm_configuration_is_red_even_when_it_lists_the_composite(staging: EnvironmentConfig) -> None:
    group = _group(alarmConfiguration={**_group()["alarmConfiguration"], "enabled": False})
    finding = judge_alarm_configuration(staging, "backend", group)
    assert finding is not None and not finding.ok and '"enabled":true' in (finding.fix or "")


def test_a_group_with_ten_alarms_already_asks_to_make_room_first(staging: EnvironmentConfig) -> None:
    group = _group(alarmConfiguration={"enabled": True, "alarms": [{"name": f"a{i}"} for i in range(10)]})
    finding = judge_alarm_configuration(staging, "backend", group)
    assert finding is not None and not finding.ok
    assert "CodeDeploy's maximum" in finding.message and finding.fix and finding.fix.startswith("remove one alarm")


def test_a_hook_needs_its_published_parameter_naming_it_and_the_function(staging: EnvironmentConfig) -> None:
    arn = "arn:aws:lambda:eu-west-1:1:function:CodeDeployHook_tollgate-staging-AfterInstall"
    assert judge_hook(staging, Hook.AFTER_INSTALL, arn, True).ok
    assert "is missing" in judge_hook(staging, Hook.AFTER_INSTALL, None, True).message
    assert "not the function the AppSpec names" in judge_hook(staging, Hook.AFTER_INSTALL, arn + "-old", True).message
    assert judge_hook(staging, Hook.AFTER_INSTALL, arn, False).message == "the function does not exist"


def test_the_load_balancer_and_its_listeners(staging: EnvironmentConfig) -> None:
    arn = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/lms-staging/000000000000abc7"
    assert all(f.ok for f in judge_load_balancer(staging, {"LoadBalancerArn": arn}, PORTS))
    (missing,) = judge_load_balancer(staging, None, {})
    assert not missing.ok
    other = arn.replace("000000000000abc7", "1111111111111111")
    (wrong, *_) = judge_load_balancer(staging, {"LoadBalancerArn": other}, PORTS)
    assert not wrong.ok and wrong.fix and "app/lms-staging/1111111111111111" in wrong.fix
    red = failures(judge_load_balancer(staging, {"LoadBalancerArn": arn}, {PROD_LISTENER: 443}))
    assert [f.subject for f in red] == ["load balancer lms-staging test listener :8443"]


def test_a_target_group_must_carry_the_id_the_config_names(staging: EnvironmentConfig) -> None:
    dimension = "targetgroup/lms-stag-backend-blue/2a2b3c4d5e6f7a80"
    arn = f"arn:aws:elasticloadbalancing:eu-west-1:1:{dimension}"
    assert judge_target_group(staging, "backend", "blue", dimension, {"TargetGroupArn": arn}).ok
    recreated = arn.replace("2a2b3c4d5e6f7a80", "ffffffffffffffff")
    finding = judge_target_group(staging, "backend", "blue", dimension, {"TargetGroupArn": recreated})
    assert not finding.ok and "targetgroup/lms-stag-backend-blue/ffffffffffffffff" in (finding.fix or "")
    assert judge_target_group(staging, "backend", "blue", dimension, None).message == "not found"


def test_an_ecs_service_must_use_the_controller_the_strategy_needs(staging: EnvironmentConfig) -> None:
    assert judge_ecs_service(
        staging, "backend", {"status": "ACTIVE", "deploymentController": {"type": "CODE_DEPLOY"}}
    ).ok
    rolling = judge_ecs_service(staging, "backend", {"status": "ACTIVE", "deploymentController": {"type": "ECS"}})
    assert not rolling.ok and "needs CODE_DEPLOY" in rolling.message
    assert not judge_ecs_service(staging, "backend", {"status": "DRAINING"}).ok
    development = load_environment("development")
    service = next(iter(development.lms.services))
    assert judge_ecs_service(development, service, {"status": "ACTIVE"}).ok


def test_a_secret_scheduled_for_deletion_or_absent_is_red(staging: EnvironmentConfig) -> None:
    assert judge_secret(staging, "tollgate/staging/slack-webhook", "Slack", True).ok
    finding = judge_secret(staging, "tollgate/staging/slack-webhook", "the notifier cannot post to Slack", False)
    assert not finding.ok and "aws secretsmanager create-secret" in (finding.fix or "")


def test_a_rolling_environment_has_no_codedeploy_or_hook_lines() -> None:
    development = load_environment("development")
    subjects = [f.subject for f in diagnose(development, DoctorFacts())]
    assert not [s for s in subjects if "deployment group" in s or s.startswith("hook ")]
    # And nothing answered means everything red, never green
    assert all(not f.ok for f in diagnose(development, DoctorFacts()))


def test_an_empty_account_is_red_everywhere_for_blue_green(staging: EnvironmentConfig) -> None:
    findings = diagnose(staging, DoctorFacts(services={"backend": ServiceFacts(), "frontend": ServiceFacts()}))
    assert findings and not [f for f in findings if f.ok]
    assert len([f for f in findings if f.subject.startswith("hook ")]) == len(Hook)


def test_the_database_must_be_restorable_with_the_key_the_config_grants(staging: EnvironmentConfig) -> None:
    key = "arn:aws:kms:eu-west-1:222222222222:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    assert judge_database(staging, {"BackupRetentionPeriod": 7}, None).ok
    assert judge_database(staging, None, None).message == "not found"
    no_backups = judge_database(staging, {"BackupRetentionPeriod": 0}, None)
    assert not no_backups.ok and "--backup-retention-period" in (no_backups.fix or "")
    # An AWS-managed key needs no grant; a customer-managed one must be the configured key
    encrypted = {"BackupRetentionPeriod": 7, "StorageEncrypted": True, "KmsKeyId": key}
    assert judge_database(staging, encrypted, "AWS").ok
    unconfigured = judge_database(staging, encrypted, "CUSTOMER")
    assert not unconfigured.ok and unconfigured.fix == f"set lms.rds_kms_key_arn in staging.json to {key} and deploy"
    granted = staging.model_copy(update={"lms": staging.lms.model_copy(update={"rds_kms_key_arn": key})})
    assert judge_database(granted, encrypted, "CUSTOMER").ok


@pytest.mark.parametrize(
    ("policy", "trusted"),
    [
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codedeploy.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
            True,
        ),
        (
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"Service": ["ecs.amazonaws.com", "codedeploy.amazonaws.com"]},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            },
            True,
        ),
        (
            {
                "Statement": [
                    {"Effect": "Deny", "Principal": {"Service": "codedeploy.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ]
            },
            False,
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
            False,
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codedeploy.amazonaws.com"},
                        "Action": "sts:TagSession",
                    }
                ]
            },
            False,
        ),
        (
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22codedeploy.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D",
            True,
        ),
        ("not json", False),
        (None, False),
    ],
    ids=["allow", "lists", "deny", "account", "other-action", "url-encoded", "garbage", "none"],
)
def test_a_trust_policy_lets_codedeploy_assume_the_role_only_by_an_allow_of_assume_role(
    policy: Any, trusted: bool
) -> None:
    assert trusts_service(policy, "codedeploy.amazonaws.com") is trusted


def test_a_missing_codedeploy_role_or_operator_is_red_with_how_to_fix(staging: EnvironmentConfig) -> None:
    arn = "arn:aws:iam::222222222222:role/lms-staging-codedeploy"
    assert not judge_codedeploy_role(staging, "backend", "", None).ok
    missing = judge_codedeploy_role(staging, "backend", arn, None)
    assert not missing.ok and "lms-staging-codedeploy does not exist" in missing.line()
    operator = judge_operator(staging, staging.operator_principal_arns[0], None)
    assert not operator.ok and "operators.principal_arns in staging.json" in operator.line()
    assert judge_operator(staging, staging.operator_principal_arns[0], {"RoleName": "x"}).ok
    pattern = judge_operator(staging, "arn:aws:iam::222222222222:role/lms-oncall-*", None)
    assert pattern.ok and "a pattern (ArnLike)" in pattern.message
