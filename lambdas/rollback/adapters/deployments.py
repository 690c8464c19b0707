"""Adapter: read a service's deployments and roll them back (CodeDeploy for blue/green, ECS for rolling)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.appspec import appspec_content, appspec_revision, ecs_appspec
from lambdas.core.config import EnvironmentConfig, LmsService, Strategy
from lambdas.core.errors import describe, error_code
from lambdas.core.tollgate_events import ROLLBACK_DESCRIPTION_PREFIX
from lambdas.rollback.errors import DeploymentLookupError, RollbackActionError
from lambdas.rollback.models import DeploymentPhase, DeploymentRecord, DeploymentState

# A rollback should restore at once: no canary, no bake (CodeDeploy's predefined all-at-once config).
ROLLBACK_DEPLOYMENT_CONFIG = "CodeDeployDefault.ECSAllAtOnce"
ROLLBACK_CREATORS = frozenset({"codeDeployRollback", "autoRollback", "CloudFormationRollback"})

_IN_FLIGHT = frozenset({"Created", "Queued", "InProgress", "Baking", "Ready"})
_PHASES = {"Succeeded": DeploymentPhase.SUCCEEDED, "Failed": DeploymentPhase.FAILED, "Stopped": DeploymentPhase.STOPPED}
_ECS_PHASES = {
    "IN_PROGRESS": DeploymentPhase.IN_FLIGHT,
    "COMPLETED": DeploymentPhase.SUCCEEDED,
    "FAILED": DeploymentPhase.FAILED,
}
_TASK_DEFINITION_IN_YAML = re.compile(r"TaskDefinition:\s*[\"']?(?P<arn>[^\"'\s]+)")
_REVISION = re.compile(r":(?P<revision>\d+)$")


# https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_StopDeployment.html#API_StopDeployment_Errors
ALREADY_COMPLETED = "DeploymentAlreadyCompletedException"
AWS_ERRORS = (ClientError, BotoCoreError)
__all__ = ["ROLLBACK_DESCRIPTION_PREFIX", "DeploymentLookupError", "Deployments", "RollbackActionError"]


def task_definition_in_appspec(revision: dict[str, Any] | None) -> str | None:
    """The task definition an ECS AppSpec revision deploys (JSON or YAML AppSpec content)."""
    content = ((revision or {}).get("appSpecContent") or {}).get("content")
    if not content:
        return None
    try:
        resources = json.loads(content).get("Resources") or []
        for resource in resources:
            for target in resource.values():
                arn = (target.get("Properties") or {}).get("TaskDefinition")
                if arn:
                    return str(arn)
    except (ValueError, AttributeError):
        match = _TASK_DEFINITION_IN_YAML.search(content)
        return match["arn"] if match else None
    return None


def rollback_appspec(task_definition: str, service: LmsService) -> dict[str, Any]:
    """An AppSpec revision deploying ``task_definition``; no hooks, so the rollback is not held up by a canary."""
    spec = ecs_appspec(task_definition, container_name=service.container_name, container_port=service.container_port)
    return appspec_revision(appspec_content(spec))


def _tollgate_rollback_of(info: dict[str, Any]) -> str | None:
    description = str(info.get("description") or "")
    if not description.startswith(f"{ROLLBACK_DESCRIPTION_PREFIX} of "):
        return None
    return description.removeprefix(f"{ROLLBACK_DESCRIPTION_PREFIX} of ").split(":", 1)[0] or None


def _revision_number(task_definition: str | None) -> int | None:
    match = _REVISION.search(task_definition or "")
    return int(match["revision"]) if match else None


class Deployments:
    """Reads and rolls back the LMS services' deployments; clients are created lazily unless passed in."""

    def __init__(self, config: EnvironmentConfig, *, codedeploy: Any | None = None, ecs: Any | None = None) -> None:
        self._config = config
        self._codedeploy = codedeploy
        self._ecs = ecs

    @property
    def codedeploy(self) -> Any:
        if self._codedeploy is None:
            self._codedeploy = aws.client("codedeploy")
        return self._codedeploy

    @property
    def ecs(self) -> Any:
        if self._ecs is None:
            self._ecs = aws.client("ecs")
        return self._ecs

    @property
    def rolling(self) -> bool:
        return self._config.deployment.strategy is Strategy.ROLLING

    # -- reading --------------------------------------------------------------------------------------

    def state(self, service: str, *, is_tollgate_rollback: Callable[[str], bool] | None = None) -> DeploymentState:
        """The service's latest deployment and the revision before it.

        ``is_tollgate_rollback`` (deployment id -> bool) tells ECS deployments Tollgate started as
        rollbacks; CodeDeploy ones carry Tollgate's description marker.
        """
        lms_service = self._service(service)
        try:
            if self.rolling:
                latest = self._latest_ecs_deployment(lms_service)
                if latest and is_tollgate_rollback and is_tollgate_rollback(latest.deployment_id):
                    latest = latest.model_copy(update={"is_rollback": True})
                previous = None
            else:
                latest, previous = self._latest_codedeploy_deployment(lms_service)
            current = latest.task_definition if latest else None
            if latest is not None and latest.phase is DeploymentPhase.IN_FLIGHT and not self.rolling:
                # Stopping an in-flight deployment needs no revision: no further reads before the stop.
                return DeploymentState(service=service, latest=latest, current_task_definition=current)
            if current is None:
                current = self.service_task_definition(service)
            if previous is None or previous == current:
                previous = self.task_definition_before(lms_service.task_family, current)
        except AWS_ERRORS as error:
            raise DeploymentLookupError(f"{service}: {describe(error)}") from error
        return DeploymentState(
            service=service, latest=latest, current_task_definition=current, previous_task_definition=previous
        )

    def _latest_codedeploy_deployment(self, service: LmsService) -> tuple[DeploymentRecord | None, str | None]:
        group = self.codedeploy.get_deployment_group(
            applicationName=self._config.lms.codedeploy_application, deploymentGroupName=service.deployment_group
        )["deploymentGroupInfo"]
        last = group.get("lastAttemptedDeployment") or {}
        if not last.get("deploymentId"):
            return None, None
        info = self.codedeploy.get_deployment(deploymentId=last["deploymentId"])["deploymentInfo"]
        status = str(info.get("status"))
        rollback_info = info.get("rollbackInfo") or {}
        record = DeploymentRecord(
            deployment_id=info["deploymentId"],
            phase=DeploymentPhase.IN_FLIGHT if status in _IN_FLIGHT else _PHASES.get(status, DeploymentPhase.FAILED),
            created_at=info["createTime"],
            completed_at=info.get("completeTime"),
            is_rollback=bool(
                rollback_info.get("rollbackTriggeringDeploymentId")
                or info.get("creator") in ROLLBACK_CREATORS
                or str(info.get("description") or "").startswith(ROLLBACK_DESCRIPTION_PREFIX)
            ),
            task_definition=task_definition_in_appspec(info.get("revision")),
            rolls_back=rollback_info.get("rollbackTriggeringDeploymentId") or _tollgate_rollback_of(info),
        )
        return record, task_definition_in_appspec(info.get("previousRevision"))

    def _latest_ecs_deployment(self, service: LmsService) -> DeploymentRecord | None:
        described = self._describe_service(service)
        primary = next((d for d in described.get("deployments") or [] if d.get("status") == "PRIMARY"), None)
        if primary is None:
            return None
        phase = _ECS_PHASES.get(str(primary.get("rolloutState")), DeploymentPhase.IN_FLIGHT)
        return DeploymentRecord(
            deployment_id=primary["id"],
            phase=phase,
            created_at=primary["createdAt"],
            completed_at=primary.get("updatedAt") if phase is not DeploymentPhase.IN_FLIGHT else None,
            task_definition=primary.get("taskDefinition") or described.get("taskDefinition"),
        )

    def _describe_service(self, service: LmsService) -> dict[str, Any]:
        described = self.ecs.describe_services(cluster=self._config.lms.ecs_cluster, services=[service.ecs_service])
        services = described.get("services") or []
        if not services:
            cluster = self._config.lms.ecs_cluster
            raise DeploymentLookupError(f"ECS service {service.ecs_service} not found in {cluster}")
        return dict(services[0])

    def service_task_definition(self, service: str) -> str | None:
        value = self._describe_service(self._service(service)).get("taskDefinition")
        return str(value) if value else None

    def task_definition_before(self, family: str, current: str | None) -> str | None:
        """The newest active revision of ``family`` older than ``current``."""
        current_number = _revision_number(current)
        if current_number is None:
            return None
        paginator = self.ecs.get_paginator("list_task_definitions")
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            for arn in page.get("taskDefinitionArns") or []:
                number = _revision_number(arn)
                if number is not None and number < current_number and arn.split("/")[-1].startswith(f"{family}:"):
                    return str(arn)
        return None

    def resolve_task_definition(self, service: str, revision: str) -> str:
        """An operator's ``--to``: a revision number, ``family:N`` or a full ARN, checked to exist."""
        family = self._service(service).task_family
        name = f"{family}:{revision}" if revision.isdigit() else revision
        try:
            described = self.ecs.describe_task_definition(taskDefinition=name)
        except AWS_ERRORS as error:
            raise RollbackActionError(f"{service}: task definition {name} not found ({error_code(error)})") from error
        arn = str(described["taskDefinition"]["taskDefinitionArn"])
        if arn.rsplit("/", maxsplit=1)[-1].rsplit(":", 1)[0] != family:
            raise RollbackActionError(f"{service}: task definition {name} is not of the {family} family")
        return arn

    def status(self, deployment_id: str) -> str | None:
        """CodeDeploy's status of ``deployment_id``: what a retry checks before stopping it again."""
        try:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except AWS_ERRORS as error:
            if error_code(error) == "DeploymentDoesNotExistException":
                return None
            raise DeploymentLookupError(f"{deployment_id}: {describe(error)}") from error
        return str(info.get("status") or "") or None

    def rollback_in_progress(self, service: str, task_definition: str, *, rolled_back: str) -> str | None:
        """The rollback an earlier, killed attempt already started: CodeDeploy's latest deployment of the
        group when it is Tollgate's rollback of ``rolled_back``; for ECS, the service already on the target."""
        lms_service = self._service(service)
        try:
            if self.rolling:
                described = self._describe_service(lms_service)
                if described.get("taskDefinition") != task_definition:
                    return None
                primary = next((d for d in described.get("deployments") or [] if d.get("status") == "PRIMARY"), None)
                return str(primary["id"]) if primary else None
            group = self.codedeploy.get_deployment_group(
                applicationName=self._config.lms.codedeploy_application,
                deploymentGroupName=lms_service.deployment_group,
            )["deploymentGroupInfo"]
            last = (group.get("lastAttemptedDeployment") or {}).get("deploymentId")
            if not last:
                return None
            info = self.codedeploy.get_deployment(deploymentId=last)["deploymentInfo"]
        except AWS_ERRORS as error:
            raise DeploymentLookupError(f"{service}: {describe(error)}") from error
        description = str(info.get("description") or "")
        return str(last) if description.startswith(f"{ROLLBACK_DESCRIPTION_PREFIX} of {rolled_back}") else None

    def rollback_triggered_by(self, deployment_id: str) -> str | None:
        """For a CodeDeploy rollback deployment, the deployment it rolled back (None for an unknown id)."""
        try:
            info = self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        except AWS_ERRORS as error:
            if error_code(error) == "DeploymentDoesNotExistException":
                return None  # not a deployment of this account: nothing of ours to restore
            raise DeploymentLookupError(f"{deployment_id}: {describe(error)}") from error
        triggering = (info.get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId")
        return str(triggering) if triggering else None

    # -- acting ---------------------------------------------------------------------------------------

    def stop_with_rollback(self, deployment_id: str) -> str:
        try:
            response = self.codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        except AWS_ERRORS as error:
            if error_code(error) == ALREADY_COMPLETED:
                return "AlreadyCompleted"  # an earlier attempt's stop landed (or the deployment ended)
            raise RollbackActionError(f"StopDeployment {deployment_id}: {describe(error)}") from error
        return str(response.get("status", ""))

    def redeploy(self, service: str, task_definition: str, *, rolled_back: str, why: str) -> str:
        """CodeDeploy CreateDeployment of ``task_definition``; returns the new deployment id."""
        lms_service = self._service(service)
        try:
            response = self.codedeploy.create_deployment(
                applicationName=self._config.lms.codedeploy_application,
                deploymentGroupName=lms_service.deployment_group,
                revision=rollback_appspec(task_definition, lms_service),
                deploymentConfigName=ROLLBACK_DEPLOYMENT_CONFIG,
                description=f"{ROLLBACK_DESCRIPTION_PREFIX} of {rolled_back}: {why}"[:100],
            )
        except AWS_ERRORS as error:
            raise RollbackActionError(f"CreateDeployment {service}: {describe(error)}") from error
        return str(response["deploymentId"])

    def update_service(self, service: str, task_definition: str) -> str:
        """ECS UpdateService to ``task_definition`` (rolling); returns the new ECS deployment id."""
        lms_service = self._service(service)
        try:
            response = self.ecs.update_service(
                cluster=self._config.lms.ecs_cluster,
                service=lms_service.ecs_service,
                taskDefinition=task_definition,
                forceNewDeployment=True,
            )
        except AWS_ERRORS as error:
            raise RollbackActionError(f"UpdateService {service}: {describe(error)}") from error
        deployments = response["service"].get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        return str(primary["id"]) if primary else f"{lms_service.ecs_service}@{task_definition}"

    def _service(self, service: str) -> LmsService:
        try:
            return self._config.lms.services[service]
        except KeyError as error:
            raise DeploymentLookupError(f"no LMS service {service!r} in {self._config.name}") from error
