"""The notifier's settings: its environment variables, checked on the first invocation of a container."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.core.config import EnvironmentConfig, environment
from lambdas.notifier.errors import NotifierSettingsError

_VARIABLES = ("TOLLGATE_ENVIRONMENT", "TOLLGATE_STATE_TABLE", "TOLLGATE_ALERT_TOPIC_ARN", "TOLLGATE_SLACK_API_URL")


class NotifierSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    environment: str = Field(alias="TOLLGATE_ENVIRONMENT", min_length=1)
    state_table: str = Field(alias="TOLLGATE_STATE_TABLE", min_length=1)
    alert_topic_arn: str = Field(alias="TOLLGATE_ALERT_TOPIC_ARN", min_length=1)
    # Slack Web API base URL (chat.postMessage); local runs point it at the local Slack receiver.
    slack_api_url: str = Field(default="https://slack.com/api", alias="TOLLGATE_SLACK_API_URL")

    @property
    def config(self) -> EnvironmentConfig:
        return environment(self.environment)


def notifier_settings() -> NotifierSettings:
    """Validated once per set of values (a container has one; local tooling switches between several)."""
    return _load(tuple(os.environ.get(name) for name in _VARIABLES))


@lru_cache(maxsize=8)
def _load(values: tuple[str | None, ...]) -> NotifierSettings:
    present = {name: value for name, value in zip(_VARIABLES, values, strict=True) if value is not None}
    try:
        return NotifierSettings.model_validate(present)
    except ValidationError as error:
        names = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise NotifierSettingsError(f"notifier settings: missing or empty environment variable(s): {names}") from None
