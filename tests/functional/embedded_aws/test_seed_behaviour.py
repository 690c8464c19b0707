"""Seeding's errors and helpers, each on a fresh embedded AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.core import aws
from lambdas.core.config import load_environment
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.seed import (
    SeedError,
    appspec_revision,
    create_succeeded_deployment,
    ecs_appspec,
    seed_environment,
)


def test_seeding_twice_names_what_exists(embedded_aws: Any) -> None:
    # Given a seeded staging
    config = load_environment("staging")
    seed_environment(config)
    # When it is seeded again; Then the error says so
    with pytest.raises(SeedError, match="'staging' is already seeded: load balancer lms-staging exists"):
        seed_environment(config)


def test_without_a_webhook_there_is_no_slack_secret(embedded_aws: Any) -> None:
    config = load_environment("development")
    result = seed_environment(config)
    assert result.slack_webhook_secret_arn is None
    with pytest.raises(ClientError) as error:
        aws.client("secretsmanager").get_secret_value(SecretId=config.alerts.slack_webhook_secret)
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_failing_step_names_environment_and_resource(embedded_aws: Any) -> None:
    # Given the synthetic-user secret already exists (created out of band)
    aws.client("secretsmanager").create_secret(Name="tollgate/development/synthetic-user", SecretString="{}")
    # When seeding reaches it; Then the error names the environment, the step and AWS's code
    with pytest.raises(SeedError, match=r"'development'.*tollgate/development/synthetic-user.*ResourceExistsException"):
        seed_environment(load_environment("development"))


def test_a_non_http_webhook_is_refused(embedded_aws: Any) -> None:
    with pytest.raises(SeedError, match="must be http"):
        seed_environment(load_environment("development"), slack_webhook_url="file:///etc/passwd")


def test_the_database_restores_to_a_point_in_time(embedded_aws: Any) -> None:
    # Given a seeded production database
    config = load_environment("production")
    seed_environment(config)
    rds = aws.client("rds")
    # When an operator restores it to the latest restorable time
    restored = rds.restore_db_cluster_to_point_in_time(
        DBClusterIdentifier=f"{config.lms.rds_cluster}-restored",
        SourceDBClusterIdentifier=config.lms.rds_cluster,
        UseLatestRestorableTime=True,
    )["DBCluster"]
    # Then a new cluster of the same engine exists
    assert restored["DBClusterIdentifier"] == f"{config.lms.rds_cluster}-restored"
    assert restored["Engine"] == "aurora-postgresql"


def test_succeeded_deployment_becomes_the_previous_revision(embedded_aws: Any) -> None:
    # Given a seeded production with a succeeded deployment of the backend's previous release
    config = load_environment("production")
    result = seed_environment(config)
    previous = result.service("backend").previous_task_definition_arn
    first = create_succeeded_deployment(config, result, "backend", task_definition_arn=previous)
    codedeploy = aws.client("codedeploy")
    group = config.lms.services["backend"].deployment_group
    # When the current release is deployed
    content = ecs_appspec(result.service("backend").current_task_definition_arn, "backend", 8000)
    second = codedeploy.create_deployment(
        applicationName=config.lms.codedeploy_application, deploymentGroupName=group, revision=appspec_revision(content)
    )["deploymentId"]
    # Then the group's last success is the first, and the new deployment's previous revision points at it
    info = codedeploy.get_deployment_group(applicationName=config.lms.codedeploy_application, deploymentGroupName=group)
    assert info["deploymentGroupInfo"]["lastSuccessfulDeployment"]["deploymentId"] == first
    previous_revision = codedeploy.get_deployment(deploymentId=second)["deploymentInfo"]["previousRevision"]
    appspec = json.loads(previous_revision["appSpecContent"]["content"])
    assert appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"] == previous
    assert extensions.deployment_status(first) == "Succeeded"


def test_succeeded_deployment_needs_codedeploy(embedded_aws: Any) -> None:
    config = load_environment("development")
    result = seed_environment(config)
    with pytest.raises(SeedError, match="'backend' has no CodeDeploy deployment group"):
        create_succeeded_deployment(config, result, "backend")


def test_unknown_service_is_named(embedded_aws: Any) -> None:
    config = load_environment("staging")
    result = seed_environment(config)
    with pytest.raises(SeedError, match="no LMS service 'billing'"):
        create_succeeded_deployment(config, result, "billing")
    with pytest.raises(SeedError, match="no seeded service 'billing'"):
        result.service("billing")


def test_appspec_lists_hooks_in_lifecycle_order() -> None:
    hooks = {"AfterAllowTraffic": "CodeDeployHook_after", "BeforeInstall": "CodeDeployHook_before"}
    spec = json.loads(ecs_appspec("arn:aws:ecs:eu-west-1:123456789012:task-definition/lms:2", "backend", 8000, hooks))
    assert spec["Hooks"] == [{"BeforeInstall": "CodeDeployHook_before"}, {"AfterAllowTraffic": "CodeDeployHook_after"}]
    with pytest.raises(SeedError, match="BeforeTraffic"):
        ecs_appspec("arn", "backend", 8000, {"BeforeTraffic": "CodeDeployHook_x"})
