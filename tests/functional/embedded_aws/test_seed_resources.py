"""Seeding each environment creates what its config names; describe calls find it.

Read-only checks share one seeding per environment (module scope); tests that change the seeded
resources live in test_seed_behaviour.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig, Strategy, load_environment
from tollgate.embedded_aws.seed import (
    AUTO_ROLLBACK_EVENTS,
    CURRENT_IMAGE_TAG,
    PREVIOUS_IMAGE_TAG,
    SeededEnvironment,
    seed_environment,
    synthetic_user_secret_name,
)

WEBHOOK = "http://127.0.0.1:9/slack/webhook"


@pytest.fixture(scope="module", params=ENVIRONMENT_NAMES)
def seeded(
    request: pytest.FixtureRequest, embedded_aws_server: Any
) -> Iterator[tuple[EnvironmentConfig, SeededEnvironment]]:
    embedded_aws_server.reset()
    config = load_environment(request.param)
    yield config, seed_environment(config, slack_webhook_url=WEBHOOK)
    embedded_aws_server.reset()


def test_ecs_services_run_the_current_release(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    ecs = aws.client("ecs")
    names = [s.ecs_service for s in config.lms.services.values()]
    described = ecs.describe_services(cluster=config.lms.ecs_cluster, services=names)["services"]
    controller = "ECS" if config.deployment.strategy is Strategy.ROLLING else "CODE_DEPLOY"
    assert sorted(s["serviceName"] for s in described) == sorted(names)
    assert {s["deploymentController"]["type"] for s in described} == {controller}
    assert ecs.describe_clusters(clusters=[config.lms.ecs_cluster])["clusters"][0]["clusterArn"] == result.cluster_arn
    for name, service in config.lms.services.items():
        running = next(s for s in described if s["serviceName"] == service.ecs_service)
        assert running["taskDefinition"] == result.service(name).current_task_definition_arn
        assert running["loadBalancers"][0]["targetGroupArn"] == result.service(name).blue_target_group_arn


def test_each_service_has_the_previous_and_current_release(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    ecs = aws.client("ecs")
    for name, service in config.lms.services.items():
        arns = ecs.list_task_definitions(familyPrefix=service.task_family)["taskDefinitionArns"]
        assert arns == [
            result.service(name).previous_task_definition_arn,
            result.service(name).current_task_definition_arn,
        ]
        images = [
            ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"]
            for arn in arns
        ]
        assert [image.rsplit(":", 1)[1] for image in images] == [PREVIOUS_IMAGE_TAG, CURRENT_IMAGE_TAG]
        container = ecs.describe_task_definition(taskDefinition=arns[1])["taskDefinition"]["containerDefinitions"][0]
        assert container["name"] == service.container_name
        assert container["portMappings"][0]["containerPort"] == service.container_port


def test_blue_green_services_have_a_primary_task_set(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    ecs = aws.client("ecs")
    for name, service in config.lms.services.items():
        task_sets = ecs.describe_services(cluster=config.lms.ecs_cluster, services=[service.ecs_service])["services"][
            0
        ].get("taskSets", [])
        if config.deployment.strategy is Strategy.ROLLING:
            assert task_sets == []
            assert result.service(name).task_set_id is None
        else:
            assert [(t["id"], t["status"]) for t in task_sets] == [(result.service(name).task_set_id, "PRIMARY")]


def test_load_balancer_and_target_groups_match_the_config(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    elbv2 = aws.client("elbv2")
    (load_balancer,) = elbv2.describe_load_balancers(Names=[config.lms.load_balancer_name])["LoadBalancers"]
    # The ARN ends in the config's CloudWatch name, so metric dimensions and ARNs agree.
    assert load_balancer["LoadBalancerArn"].endswith(f":loadbalancer/{config.lms.load_balancer}")
    assert load_balancer["LoadBalancerArn"] == result.load_balancer_arn
    for service in config.lms.services.values():
        groups = service.target_groups
        names = [n for n in (groups.blue_name, groups.green_name) if n]
        found = elbv2.describe_target_groups(Names=names)["TargetGroups"]
        dimensions = [g["TargetGroupArn"].split(":")[-1] for g in found]
        assert dimensions == [d for d in (groups.blue, groups.green) if d]
        assert {g["HealthCheckPath"] for g in found} == {service.health_path}


def test_listeners_forward_to_blue_with_weights(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    elbv2 = aws.client("elbv2")
    listeners = elbv2.describe_listeners(LoadBalancerArn=result.load_balancer_arn)["Listeners"]
    expected_ports = {config.lms.production_listener_port, config.lms.test_listener_port} - {None}
    assert {listener["Port"] for listener in listeners} == expected_ports
    assert (result.test_listener_arn is None) is (config.lms.test_listener_port is None)
    for listener in listeners:
        rules = [r for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
        assert len(rules) == len(config.lms.services)
        for name, service in config.lms.services.items():
            seeded_service = result.service(name)
            rule = next(
                r for r in rules if r["RuleArn"] in (seeded_service.production_rule_arn, seeded_service.test_rule_arn)
            )
            weights = {tg["TargetGroupArn"]: tg["Weight"] for tg in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
            expected = {seeded_service.blue_target_group_arn: 100}
            if service.target_groups.green:
                expected[str(seeded_service.green_target_group_arn)] = 0
            assert weights == expected


def test_codedeploy_groups_for_blue_green(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    codedeploy = aws.client("codedeploy")
    if config.deployment.strategy is Strategy.ROLLING:
        assert codedeploy.list_applications()["applications"] == []
        assert result.codedeploy_application is None
        return
    application = config.lms.codedeploy_application
    assert codedeploy.list_applications()["applications"] == [application]
    for name, service in config.lms.services.items():
        info = codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=service.deployment_group
        )["deploymentGroupInfo"]
        pair = info["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        assert info["deploymentGroupId"] == result.service(name).deployment_group_id
        assert info["computePlatform"] == "ECS"
        assert info["ecsServices"] == [{"serviceName": service.ecs_service, "clusterName": config.lms.ecs_cluster}]
        assert [g["name"] for g in pair["targetGroups"]] == [
            service.target_groups.blue_name,
            service.target_groups.green_name,
        ]
        assert pair["prodTrafficRoute"]["listenerArns"] == [result.production_listener_arn]
        assert pair["testTrafficRoute"]["listenerArns"] == [result.test_listener_arn]
        assert info["autoRollbackConfiguration"] == {"enabled": True, "events": list(AUTO_ROLLBACK_EVENTS)}
        termination = info["blueGreenDeploymentConfiguration"]["terminateBlueInstancesOnDeploymentSuccess"]
        assert termination["terminationWaitTimeInMinutes"] == config.deployment.keep_blue_minutes


def test_database_cluster_keeps_backups(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    (cluster,) = aws.client("rds").describe_db_clusters(DBClusterIdentifier=config.lms.rds_cluster)["DBClusters"]
    assert cluster["DBClusterArn"] == result.rds_cluster_arn
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["BackupRetentionPeriod"] > 0


def test_secrets(seeded: tuple[EnvironmentConfig, SeededEnvironment]) -> None:
    config, result = seeded
    secrets = aws.client("secretsmanager")
    webhook = secrets.get_secret_value(SecretId=config.alerts.slack_webhook_secret)
    assert webhook["SecretString"] == WEBHOOK
    assert webhook["ARN"] == result.slack_webhook_secret_arn
    user = secrets.get_secret_value(SecretId=synthetic_user_secret_name(config.name))
    credentials = json.loads(user["SecretString"])
    assert user["Name"] == f"tollgate/{config.name}/synthetic-user"
    assert set(credentials) == {"username", "password"}
    assert all(isinstance(v, str) and v for v in credentials.values())
