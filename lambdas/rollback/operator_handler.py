"""Operator rollback function: the custom event ``Operator Rollback Requested`` on Tollgate's bus (or a
direct invoke with ``{"request": {...}}``) -> plan -> database restore and/or service rollbacks -> announce."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.core.tollgate_events import DetailType
from lambdas.rollback.adapters.database import Database
from lambdas.rollback.operator import OperatorRollbackRequest, request_from_detail
from lambdas.rollback.operator_run import run_operator_rollback
from lambdas.rollback.wiring import announcer, once_per_event, rollback_ports


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        return {"decision": "ignored", "reason": "event is not an object"}
    if "request" in event and "detail-type" not in event:
        # Direct invoke: no EventBridge id, so the caller's request id (if any) is the idempotency key.
        return process_request(event=event)
    if event.get("detail-type") != DetailType.OPERATOR_ROLLBACK_REQUESTED.value or not event.get("id"):
        logger.info("event ignored", extra={"detail_type": event.get("detail-type")})
        return {"decision": "ignored", "reason": f"not an operator rollback request ({event.get('detail-type')!r})"}
    return once_per_event(process_request, settings(), context)(event=event)


def process_request(event: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        if "request" in event and "detail-type" not in event:
            request = OperatorRollbackRequest.model_validate(event["request"])
        else:
            request = request_from_detail(event.get("detail") or {})
    except (ValidationError, AttributeError) as error:
        logger.warning("malformed operator rollback request", extra={"error": str(error)[:500]})
        return {"decision": "ignored", "reason": "malformed operator rollback request"}
    function_settings = settings()
    logger.append_keys(environment=request.environment, rollback_type=request.type.value)
    result = run_operator_rollback(
        request, function_settings.config, rollback_ports(function_settings), Database(), now
    )
    announce = announcer(function_settings)
    for announcement in result.announcements(now):
        announce(announcement)
    report = result.report()
    logger.info("operator rollback", extra={"decision": report["decision"], "reason": report["reason"]})
    return report
