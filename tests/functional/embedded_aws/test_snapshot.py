"""Snapshots of the embedded AWS: a restore brings back exactly what was there, never what came after."""

from __future__ import annotations

from typing import Any

from lambdas.core import aws
from lambdas.core.config import load_environment
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.seed import create_deployment_of, seed_environment


def test_a_restore_brings_back_the_snapshot_and_forgets_what_came_after(embedded_aws: Any) -> None:
    # Given a seeded environment with one queue, snapshotted
    config = load_environment("staging")
    seeded = seed_environment(config)
    aws.client("sqs").create_queue(QueueName="kept")
    saved = embedded_aws.snapshot()
    # When a test changes what was there and adds more, and the snapshot is restored
    aws.client("sqs").create_queue(QueueName="added-later")
    aws.client("ecs").update_service(
        cluster=config.lms.ecs_cluster, service=config.lms.services["backend"].ecs_service, desiredCount=7
    )
    embedded_aws.restore(saved)
    # Then what was snapshotted is back as it was, and nothing from after it remains
    queues = aws.client("sqs").list_queues().get("QueueUrls", [])
    assert [url.rsplit("/", 1)[-1] for url in queues] == ["kept"]
    service = aws.client("ecs").describe_services(
        cluster=config.lms.ecs_cluster, services=[config.lms.services["backend"].ecs_service]
    )["services"][0]
    assert service["desiredCount"] == 2
    lb = aws.client("elbv2").describe_load_balancers(Names=[config.lms.load_balancer_name])["LoadBalancers"][0]
    assert lb["LoadBalancerArn"] == seeded.load_balancer_arn


def test_each_restore_is_a_fresh_copy_with_tollgates_own_state(embedded_aws: Any) -> None:
    # Given a deployment whose hook execution (Tollgate's addition to moto) is in the snapshot
    config = load_environment("staging")
    seed_environment(config)
    deployment_id = create_deployment_of(config, "backend", description="snapshotted")
    execution_id = extensions.register_hook_execution(deployment_id, "BeforeInstall")
    saved = embedded_aws.snapshot()
    # When the first restore's deployment is stopped and the snapshot is restored again
    embedded_aws.restore(saved)
    extensions.set_deployment_status(deployment_id, "Stopped")
    embedded_aws.restore(saved)
    # Then the second restore has the deployment as snapshotted, with its hook execution, and ids still resolve
    assert extensions.deployment_status(deployment_id) != "Stopped"
    assert [h.execution_id for h in extensions.hook_executions(deployment_id)] == [execution_id]
    info = aws.client("codedeploy").get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    assert info["description"] == "snapshotted"
