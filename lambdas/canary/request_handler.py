"""Operator requests on Tollgate's bus: approve/reject a deployment, promote/abort a running canary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.canary.requests import decide_approval, operate_canary
from lambdas.canary.wiring import request_ports
from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType

KINDS: dict[str, Literal["approve", "reject", "promote", "abort"]] = {
    DetailType.APPROVE_REQUESTED.value: "approve",
    DetailType.REJECT_REQUESTED.value: "reject",
    DetailType.CANARY_PROMOTE_REQUESTED.value: "promote",
    DetailType.CANARY_ABORT_REQUESTED.value: "abort",
}


class OperatorRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    by: str = Field(pattern=r"^\S{1,64}$")
    reason: str = Field(default="", max_length=1000)
    deployment_id: str | None = Field(default=None, pattern=r"^d-[A-Z0-9]{1,32}$")
    service: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,31}$")


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    kind = KINDS.get(detail_type) if isinstance(detail_type, str) else None  # any JSON value may arrive here
    if kind is None or event.get("source") != TOLLGATE_SOURCE:
        return {"decision": "ignored", "reason": "not an operator request on Tollgate's bus"}
    try:
        request = OperatorRequest.model_validate(event.get("detail"))
    except ValidationError as error:
        return {"decision": "ignored", "reason": f"malformed {kind} request: {error.errors()[0]['msg']}"}
    function_settings = settings()
    config = function_settings.config
    ports = request_ports(function_settings)
    now = datetime.now(UTC)
    if kind == "approve" or kind == "reject":  # noqa: PLR1714 - two comparisons narrow the Literal for mypy
        if not request.deployment_id:
            return {"decision": "ignored", "reason": f"{kind} request without deployment_id"}
        outcome = decide_approval(
            kind,
            deployment_id=request.deployment_id,
            by=request.by,
            reason=request.reason,
            config=config,
            ports=ports,
            now=now,
        )
    else:
        if not request.service:
            return {"decision": "ignored", "reason": f"{kind} request without service"}
        outcome = operate_canary(
            kind,
            service=request.service,
            by=request.by,
            reason=request.reason,
            config=config,
            ports=ports,
            now=now,
        )
    return {"decision": outcome.outcome, "reason": outcome.reason}
