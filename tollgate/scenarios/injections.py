"""The events a scenario injects, in the shapes AWS and Tollgate's CLI send them (based on the samples in events/)."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from lambdas.core.config import EnvironmentConfig
from lambdas.rollback.alarms import ALARM_SEVERITIES, AlarmKind, alarm_name
from tollgate.local.template import REPO_ROOT

_ALARM_SAMPLE = REPO_ROOT / "events" / "cloudwatch-alarm-5xx-rate-alarm.json"
_OPERATOR_SAMPLE = REPO_ROOT / "events" / "tollgate-operator-rollback-service.json"
_ECS_SAMPLE = REPO_ROOT / "events" / "ecs-deployment-completed.json"


@cache
def _sample(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO_ROOT / path).read_text(encoding="utf-8"))
    return loaded


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def alarm_event(config: EnvironmentConfig, service: str, kind: AlarmKind) -> dict[str, Any]:
    """A CloudWatch Alarm State Change (OK -> ALARM) of Tollgate's alarm ``kind`` on ``service``, with a fresh id."""
    event = copy.deepcopy(_sample(str(_ALARM_SAMPLE.relative_to(REPO_ROOT))))
    name = alarm_name(config.name, service, kind)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    event.update(id=str(uuid.uuid4()), account=config.account, region=config.region, time=_now())
    event["resources"] = [f"arn:aws:cloudwatch:{config.region}:{config.account}:alarm:{name}"]
    detail = event["detail"]
    detail["alarmName"] = name
    detail["configuration"]["description"] = f"{kind.value} of the LMS {service} (injected by a scenario)"
    detail["state"]["timestamp"] = stamp
    detail["alarmTags"] = {
        "application": "tollgate",
        "tollgate:environment": config.name,
        "tollgate:service": service,
        "tollgate:severity": ALARM_SEVERITIES[kind].value,
    }
    return event


def operator_rollback_event(
    config: EnvironmentConfig, *, rollback_type: str, services: tuple[str, ...], confirmed: bool, by: str
) -> dict[str, Any]:
    """What ``tollgate rollback --live`` puts on Tollgate's bus ("Operator Rollback Requested")."""
    event = copy.deepcopy(_sample(str(_OPERATOR_SAMPLE.relative_to(REPO_ROOT))))
    event.update(id=str(uuid.uuid4()), account=config.account, region=config.region, time=_now())
    event["_bus"] = f"tollgate-{config.name}"
    detail = event["detail"]
    detail.update(
        environment=config.name,
        summary=f"{by} requested a {rollback_type} rollback of {', '.join(services)}",
        occurred_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    )
    detail["evidence"]["request"] = {
        "environment": config.name,
        "type": rollback_type,
        "services": list(services),
        "to": None,
        "dry_run": False,
        "confirmed": confirmed,
        "requested_by": by,
    }
    return event


def ecs_deployment_event(
    config: EnvironmentConfig, service_arn: str, deployment_id: str, event_name: str
) -> dict[str, Any]:
    """An ECS Deployment State Change of a rolling update (SERVICE_DEPLOYMENT_IN_PROGRESS | _COMPLETED | _FAILED)."""
    event = copy.deepcopy(_sample(str(_ECS_SAMPLE.relative_to(REPO_ROOT))))
    event.update(id=str(uuid.uuid4()), account=config.account, region=config.region, time=_now())
    event["resources"] = [service_arn]
    word = event_name.removeprefix("SERVICE_DEPLOYMENT_").lower().replace("_", " ")
    event["detail"] = {
        "eventType": "ERROR" if event_name.endswith("FAILED") else "INFO",
        "eventName": event_name,
        "deploymentId": deployment_id,
        "updatedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "reason": f"ECS deployment {deployment_id} {word}.",
    }
    return event


def operator_request_event(config: EnvironmentConfig, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An operator's request on Tollgate's bus, as `tollgate approve|reject|canary ... --live` puts it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "tollgate",
        "account": config.account,
        "time": _now(),
        "region": config.region,
        "resources": [],
        "detail": {"environment": config.name, **detail},
    }
