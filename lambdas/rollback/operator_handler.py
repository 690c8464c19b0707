"""Operator rollback function: the custom event ``Operator Rollback Requested`` on Tollgate's bus (or a
direct invoke with ``{"request": {...}}``) -> ``operator_request.handle_request`` -> the report."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.rollback.operator_request import handle_request, parse_request
from lambdas.rollback.wiring import invocation, operator_ports, rollback_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    here = invocation(str(getattr(context, "aws_request_id", "") or "direct"), context)
    parsed = parse_request(event, here)
    if isinstance(parsed, dict):
        return parsed  # ignored, with the reason logged
    request, request_id = parsed
    function_settings = rollback_settings()
    config, ports = function_settings.config, operator_ports(function_settings)
    # The owner of its leases is the Lambda request id: Lambda's retries of this invocation keep it.
    return handle_request(request, request_id, config, ports, here.now, owner=here.owner)
