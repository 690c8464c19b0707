"""Adapter: the CodeDeploy calls of the canary (which deployment, the hook's one report)."""

from __future__ import annotations

import json
from typing import Any

from lambdas.canary.ports import DeploymentFacts
from lambdas.core import aws
from lambdas.hooks.adapters import codedeploy
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.model import ReportStatus


class CodeDeployHookReporter:
    """The hook's one report, bounded by the task invocation's remaining time."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def report(self, deployment_id: str, execution_id: str, *, succeeded: bool) -> str:
        # report_hook_status answers "already_completed" on LifecycleEventAlreadyCompletedException.
        return codedeploy.report_hook_status(
            deployment_id=deployment_id,
            execution_id=execution_id,
            status=ReportStatus.SUCCEEDED if succeeded else ReportStatus.FAILED,
            deadline=self._deadline,
        )


class CodeDeployDeployments:
    def __init__(self, *, client: Any | None = None) -> None:
        self._client = client

    def describe(self, deployment_id: str) -> DeploymentFacts:
        info = (self._client or aws.client("codedeploy")).get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        return DeploymentFacts(
            deployment_group=str(info.get("deploymentGroupName", "")),
            application=str(info.get("applicationName", "")),
            creator=str(info.get("creator", "user")),
            description=str(info.get("description", "")),
            version=_task_definition(info),
        )


def _task_definition(info: dict[str, Any]) -> str:
    content = info.get("revision", {}).get("appSpecContent", {}).get("content")
    try:
        spec = json.loads(content) if content else {}
        return str(spec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"]).rsplit("/", 1)[-1]
    except (ValueError, KeyError, IndexError, TypeError):
        return "an unknown revision"
