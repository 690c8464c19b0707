"""Alarm rollback function: ``CloudWatch Alarm State Change`` -> at most one rollback per deployment
(``alarm_rollback``); CodeDeploy/ECS deployment success -> ``Rollback Restored`` once (``restored``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.rollback.alarm_rollback import handle_alarm, ignored
from lambdas.rollback.alarms import ALARM_STATE_CHANGE
from lambdas.rollback.deployment_events import CODEDEPLOY_STATE_CHANGE, ECS_DEPLOYMENT_STATE_CHANGE
from lambdas.rollback.restored import handle_deployment_change
from lambdas.rollback.wiring import alarm_ports, invocation, rollback_settings

_DEPLOYMENT_CHANGES = (CODEDEPLOY_STATE_CHANGE, ECS_DEPLOYMENT_STATE_CHANGE)


def _usable_id(event_id: object) -> bool:
    """EventBridge ids are UUIDs: anything else cannot key a lease (DynamoDB keys are bounded UTF-8)."""
    return isinstance(event_id, str) and 0 < len(event_id) <= 128 and event_id.isascii() and event_id.isprintable()


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    detail_type = event.get("detail-type") if isinstance(event, dict) else None
    event_id = event.get("id") if isinstance(event, dict) else None
    if detail_type not in (ALARM_STATE_CHANGE, *_DEPLOYMENT_CHANGES) or not _usable_id(event_id):
        return ignored(f"not an event this function handles (detail-type {str(detail_type)[:100]!r})")
    function_settings = rollback_settings()
    ports = alarm_ports(function_settings)
    here = invocation(str(event_id), context)
    if detail_type == ALARM_STATE_CHANGE:
        return handle_alarm(event, function_settings.config, ports, here)
    return handle_deployment_change(event, ports, owner=here.owner)
