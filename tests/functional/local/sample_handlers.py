"""Handlers used by the local-runtime tests: they act through the same clients real ones use."""

from __future__ import annotations

import json
from typing import Any

from lambdas.core import aws
from lambdas.core.settings import settings


def announce(event: dict[str, Any], context: Any) -> dict[str, Any]:
    aws.client("events").put_events(
        Entries=[
            {
                "Source": "tollgate",
                "DetailType": "Rollback Started",
                "Detail": json.dumps({"alarm": event["detail"]["alarmName"]}),
                "EventBusName": settings().event_bus,
            }
        ]
    )
    return {"decision": "rollback_started", "reason": f"alarm {event['detail']['alarmName']}"}


def listen(event: dict[str, Any], context: Any) -> dict[str, Any]:
    aws.client("sns").publish(TopicArn=settings().alert_topic_arn, Subject="Rollback started", Message="details")
    return {"decision": "notified", "reason": f"heard {event.get('detail-type', 'a record')}"}


def explode(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("boom")
