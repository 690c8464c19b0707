"""Typed edges of the deployment state changes that tell when a rollback deployment finished."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field

CODEDEPLOY_STATE_CHANGE = "CodeDeploy Deployment State-change Notification"
ECS_DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"


class DeploymentChangeDetail(BaseModel):
    """CodeDeploy (``state``) and ECS (``eventName``) deployment state change details share the id."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    deployment_id: str = Field(alias="deploymentId", min_length=1)
    state: str | None = None
    event_name: str | None = Field(default=None, alias="eventName")

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCESS" or self.event_name == "SERVICE_DEPLOYMENT_COMPLETED"


class DeploymentStateChange(EventBridgeModel):
    detail: DeploymentChangeDetail
