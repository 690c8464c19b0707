"""Builds the rollback functions' ports from the function settings (once per invocation, clients cached)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core import aws
from lambdas.core.bus import announce
from lambdas.core.config import ConfigError
from lambdas.core.settings import FunctionSettings
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.rollback.adapters.deployments import Deployments
from lambdas.rollback.adapters.ledger import RollbackLedger
from lambdas.rollback.execute import RollbackPorts
from lambdas.rollback.ports import NoCanaryController, TrafficRestorer

# Duplicated events arrive within minutes; a day covers EventBridge's retries (up to 24 h).
IDEMPOTENCY_SECONDS = 24 * 3600


def traffic_restorer() -> TrafficRestorer:
    """The seam for Tollgate's canary controller: it will return a restorer that sets blue to 100%."""
    return NoCanaryController()


def rollback_ports(settings: FunctionSettings) -> RollbackPorts:
    if not settings.state_table:
        raise ConfigError("function settings: TOLLGATE_STATE_TABLE is required by the rollback functions")
    return RollbackPorts(
        deployments=Deployments(settings.config),
        ledger=RollbackLedger(settings.state_table),
        traffic=traffic_restorer(),
    )


def announcer(settings: FunctionSettings) -> Callable[[TollgateEvent], str]:
    return lambda event: announce(event, bus_name=settings.event_bus)


def once_per_event(
    process: Callable[..., dict[str, Any]], settings: FunctionSettings, context: LambdaContext
) -> Callable[..., dict[str, Any]]:
    """``process(event=...)`` run once per EventBridge event id (Powertools idempotency on DynamoDB)."""
    if not settings.idempotency_table:
        return process
    wrapped, config = _idempotent(process, settings.idempotency_table, aws.client("dynamodb"))
    config.register_lambda_context(context)
    return wrapped


@cache
def _idempotent(
    process: Callable[..., dict[str, Any]], table_name: str, dynamodb: Any
) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=dynamodb)
    config = IdempotencyConfig(
        event_key_jmespath="id", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
    )
    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="event", persistence_store=persistence, config=config
    )(process)
    return wrapped, config
