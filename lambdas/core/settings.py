"""Each function's environment variables, read once into a typed model at cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.core.config import ConfigError, EnvironmentConfig, environment


class FunctionSettings(BaseModel):
    """Variables the stack sets on every Tollgate function."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    environment: str = Field(alias="TOLLGATE_ENVIRONMENT")
    event_bus: str = Field(alias="TOLLGATE_EVENT_BUS")
    idempotency_table: str | None = Field(default=None, alias="TOLLGATE_IDEMPOTENCY_TABLE")
    state_table: str | None = Field(default=None, alias="TOLLGATE_STATE_TABLE")
    alert_topic_arn: str | None = Field(default=None, alias="TOLLGATE_ALERT_TOPIC_ARN")
    # Deployment hooks: which CodeDeploy lifecycle hook this function answers (one function per hook).
    hook: str | None = Field(default=None, alias="TOLLGATE_HOOK")
    # Local runs only: send every synthetic flow to this base URL (the stand-in LMS) instead of the config's.
    synthetics_base_url: str | None = Field(default=None, alias="TOLLGATE_SYNTHETICS_BASE_URL")
    # Notifier: Slack Web API base URL (chat.postMessage); local runs point it at the local Slack receiver.
    slack_api_url: str = Field(default="https://slack.com/api", alias="TOLLGATE_SLACK_API_URL")

    @property
    def config(self) -> EnvironmentConfig:
        return environment(self.environment)


@cache
def settings() -> FunctionSettings:
    try:
        return FunctionSettings.model_validate(dict(os.environ))
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ConfigError(f"function settings: missing or invalid environment variables: {missing}") from error
