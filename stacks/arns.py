"""The ARNs of the LMS's resources that more than one construct grants on: built in one place.

Every ARN is built with the stack's partition, region and account (``Stack.format_arn``) so a grant
can only ever name this environment's resources.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from constructs import IConstruct

from lambdas.core.config import EnvironmentConfig


def arn(scope: IConstruct, service: str, resource: str, name: str, *, colon: bool = True) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>(:|/)<name>`` of the scope's stack."""
    return Stack.of(scope).format_arn(
        service=service,
        resource=resource,
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME if colon else ArnFormat.SLASH_RESOURCE_NAME,
    )


def deployment_group_arns(scope: IConstruct, config: EnvironmentConfig) -> list[str]:
    """The CodeDeploy deployment groups of the LMS services (none where ECS rolling-updates them)."""
    application = config.lms.codedeploy_application
    if not application:
        return []
    return [
        arn(scope, "codedeploy", "deploymentgroup", f"{application}/{service.deployment_group}")
        for service in config.lms.services.values()
        if service.deployment_group
    ]


def ecs_service_arns(scope: IConstruct, config: EnvironmentConfig) -> list[str]:
    return [
        arn(scope, "ecs", "service", f"{config.lms.ecs_cluster}/{service.ecs_service}", colon=False)
        for service in config.lms.services.values()
    ]


def alarm_arn(scope: IConstruct, name: str) -> str:
    """A CloudWatch alarm (``name`` may end in ``*``)."""
    return arn(scope, "cloudwatch", "alarm", name)


def tollgate_alarms_arn(scope: IConstruct, config: EnvironmentConfig) -> str:
    """Every alarm Tollgate creates for the environment: ``tollgate-<env>-*`` (the alarm naming contract)."""
    return alarm_arn(scope, f"tollgate-{config.name}-*")


def rds_cluster_arn(scope: IConstruct, name: str) -> str:
    return arn(scope, "rds", "cluster", name)


def queue_arn(scope: IConstruct, name: str) -> str:
    """An SQS queue: ``arn:<partition>:sqs:<region>:<account>:<name>``."""
    return Stack.of(scope).format_arn(service="sqs", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME)
