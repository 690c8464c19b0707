"""Use case: an operator's rollback request -> plan -> database restore and/or service rollbacks -> announce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from lambdas.core.config import EnvironmentConfig
from lambdas.core.observability import logger
from lambdas.core.tollgate_events import DetailType
from lambdas.rollback.alarm_rollback import Invocation, ignored
from lambdas.rollback.execute import RollbackPorts
from lambdas.rollback.operator import OperatorRollbackRequest, request_from_detail
from lambdas.rollback.operator_run import run_operator_rollback
from lambdas.rollback.ports import AnnouncerPort, DatabasePort, StepsPort


@dataclass
class OperatorPorts:
    rollback: RollbackPorts
    database: DatabasePort
    steps: StepsPort
    announce: AnnouncerPort


def parse_request(event: Any, here: Invocation) -> tuple[OperatorRollbackRequest, str | None] | dict[str, Any]:
    """The request and its id (the EventBridge event id; None for a direct invoke), or why it is ignored."""
    if not isinstance(event, dict):
        return ignored("event is not an object")
    direct = "request" in event and "detail-type" not in event
    event_id = event.get("id")
    if not direct:
        if event.get("detail-type") != DetailType.OPERATOR_ROLLBACK_REQUESTED.value or not isinstance(event_id, str):
            return ignored(f"not an operator rollback request ({str(event.get('detail-type'))[:100]!r})")
        if not 0 < len(event_id) <= 128 or not event_id.isascii():
            return ignored("operator rollback request without a usable event id")
        if here.account and event.get("account") != here.account:
            return ignored(f"request from account {str(event.get('account'))[:20]!r}, not {here.account}")
    try:
        raw = event["request"] if direct else request_from_detail(event.get("detail") or {})
        request = raw if isinstance(raw, OperatorRollbackRequest) else OperatorRollbackRequest.model_validate(raw)
    except (ValidationError, AttributeError, TypeError) as error:
        logger.warning("malformed operator rollback request", extra={"error": str(error)[:500]})
        return ignored("malformed operator rollback request")
    return request, None if direct else event_id


def handle_request(
    request: OperatorRollbackRequest,
    request_id: str | None,
    config: EnvironmentConfig,
    ports: OperatorPorts,
    now: datetime,
    *,
    owner: str | None = None,
) -> dict[str, Any]:
    logger.append_keys(environment=request.environment, rollback_type=request.type.value)
    result = run_operator_rollback(
        request, config, ports.rollback, ports.database, now, steps=ports.steps, request_id=request_id, owner=owner
    )
    for announcement in result.announcements(now):
        ports.announce(announcement)
    report = result.report()
    logger.info("operator rollback", extra={"decision": report["decision"], "reason": report["reason"]})
    return report
