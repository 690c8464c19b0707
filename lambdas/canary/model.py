"""What the state machine hands the canary task function, and what it hands back (typed)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Step Functions' Catch output is {"Error": str, "Cause": str}; a Cause holds at most 32,768 characters.
ERROR_MAX = 256
CAUSE_MAX = 4000


class Action(StrEnum):
    AWAIT_APPROVAL = "await_approval"
    SHIFT = "shift"
    BAKE = "bake"
    ANALYSE = "analyse"
    SUCCEED = "succeed"
    FAIL = "fail"


class CanaryInput(BaseModel):
    """The execution's input, as the BeforeAllowTraffic hook starts it (also its name's source)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    deployment_id: str = Field(pattern=r"^d-[A-Z0-9]{1,32}$")
    hook_execution_id: str = Field(min_length=1, max_length=2048)
    service: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")


class TaskRequest(BaseModel):
    """One task of the state machine: the execution's input plus what the state adds."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    action: Action
    deployment_id: str = Field(pattern=r"^d-[A-Z0-9]{1,32}$")
    hook_execution_id: str = Field(min_length=1, max_length=2048)
    service: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")
    step_percent: int | None = Field(default=None, ge=1, le=99)
    bake_seconds: int | None = Field(default=None, ge=0)
    max_extension_seconds: int = Field(default=0, ge=0)
    extension_seconds: int = Field(default=0, ge=0)
    period_seconds: int = Field(default=60, ge=1)
    # How long ALB metrics take to reach CloudWatch: the analysis leaves the newest periods out until then.
    reporting_delay_seconds: int = Field(default=0, ge=0)
    task_token: str | None = None
    # The Catch's error output ({"Error": ..., "Cause": ...}) on the failure path.
    error: dict[str, Any] | None = None

    @field_validator("error", mode="before")
    @classmethod
    def _catch_output(cls, value: Any) -> dict[str, str] | None:
        """Only the Catch's two strings, bounded: the failure path must report whatever the error looks like
        (a deeply nested or huge error once crashed the announcement after the report)."""
        if value is None:
            return None
        if not isinstance(value, dict):
            return {"Error": "", "Cause": _bounded(value, CAUSE_MAX)}
        error, cause = value.get("Error", ""), value.get("Cause", "")
        return {"Error": _bounded(error, ERROR_MAX), "Cause": _bounded(cause, CAUSE_MAX)}


class TaskResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: str  # shifted | baking | done | aborted | passed | failed | extend | reported | waiting
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


def _bounded(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else repr(value)[: limit * 2]
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


class OperatorRequest(BaseModel):
    """The detail of an operator's request on Tollgate's bus."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    by: str = Field(pattern=r"^\S{1,64}$")
    reason: str = Field(default="", max_length=1000)
    deployment_id: str | None = Field(default=None, pattern=r"^d-[A-Z0-9]{1,32}$")
    service: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,31}$")
