"""Operator requests on Tollgate's bus: approve/reject a deployment, promote/abort a running canary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.canary.model import OperatorRequest
from lambdas.canary.requests import REQUEST_KINDS, handle_request
from lambdas.canary.wiring import request_ports
from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.core.tollgate_events import TOLLGATE_SOURCE


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    kind = REQUEST_KINDS.get(detail_type) if isinstance(detail_type, str) else None  # any JSON value may arrive
    if kind is None or event.get("source") != TOLLGATE_SOURCE:
        return {"decision": "ignored", "reason": "not an operator request on Tollgate's bus"}
    try:
        request = OperatorRequest.model_validate(event.get("detail"))
    except ValidationError as error:
        return {"decision": "ignored", "reason": f"malformed {kind} request: {error.errors()[0]['msg']}"}
    function_settings = settings()
    outcome = handle_request(
        kind,
        request,
        config=function_settings.config,
        ports=request_ports(function_settings),
        now=datetime.now(UTC),
        writer=context.aws_request_id,  # kept by Lambda's retry of this invocation: its record stays its own
    )
    return {"decision": outcome.outcome, "reason": outcome.reason}
