"""The rollback functions' settings (checked at the first invocation, naming what is missing) and ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.bus import announce
from lambdas.core.config import ConfigError, EnvironmentConfig, environment
from lambdas.core.settings import settings
from lambdas.core.tollgate_events import TollgateEvent
from lambdas.rollback.adapters.alarm_tags import read_alarm_tags
from lambdas.rollback.adapters.deployments import Deployments
from lambdas.rollback.adapters.ledger import OperatorSteps, RollbackLedger
from lambdas.rollback.alarm_rollback import AlarmPorts, Invocation
from lambdas.rollback.execute import RollbackPorts
from lambdas.rollback.ports import NoCanaryController, TrafficRestorer

if TYPE_CHECKING:
    from lambdas.rollback.operator_request import OperatorPorts


@dataclass(frozen=True)
class RollbackSettings:
    """What both rollback functions read from their environment (the stack sets each variable)."""

    environment: str  # TOLLGATE_ENVIRONMENT
    event_bus: str  # TOLLGATE_EVENT_BUS
    state_table: str  # TOLLGATE_STATE_TABLE

    @property
    def config(self) -> EnvironmentConfig:
        return environment(self.environment)


def rollback_settings() -> RollbackSettings:
    function = settings()  # raises ConfigError naming TOLLGATE_ENVIRONMENT / TOLLGATE_EVENT_BUS when missing
    if not function.state_table:
        raise ConfigError("function settings: TOLLGATE_STATE_TABLE is required by the rollback functions")
    return RollbackSettings(
        environment=function.environment, event_bus=function.event_bus, state_table=function.state_table
    )


def now() -> datetime:
    return datetime.now(UTC)


def traffic_restorer() -> TrafficRestorer:
    """The seam for Tollgate's canary controller: it will return a restorer that sets blue to 100%."""
    return NoCanaryController()


def rollback_ports(function_settings: RollbackSettings | None = None) -> RollbackPorts:
    chosen = function_settings or rollback_settings()
    return RollbackPorts(
        deployments=Deployments(chosen.config), ledger=RollbackLedger(chosen.state_table), traffic=traffic_restorer()
    )


def alarm_ports(function_settings: RollbackSettings) -> AlarmPorts:
    bus = function_settings.event_bus

    def announcer(event: TollgateEvent) -> str:
        return announce(event, bus_name=bus)

    return AlarmPorts(rollback=rollback_ports(function_settings), announce=announcer, alarm_tags=read_alarm_tags)


def operator_ports(function_settings: RollbackSettings) -> OperatorPorts:
    from lambdas.rollback.adapters.database import Database  # noqa: PLC0415 - the alarm function never needs RDS
    from lambdas.rollback.operator_request import OperatorPorts  # noqa: PLC0415

    alarm = alarm_ports(function_settings)
    return OperatorPorts(
        rollback=alarm.rollback,
        database=Database(),
        steps=OperatorSteps(function_settings.state_table),
        announce=alarm.announce,
    )


def invocation(event_id: str, context: LambdaContext) -> Invocation:
    """The lease runs until this invocation's deadline: once Lambda has killed it, a retry may take over."""
    arn = str(getattr(context, "invoked_function_arn", "") or "").split(":")
    remaining = timedelta(milliseconds=max(0, int(context.get_remaining_time_in_millis())))
    return Invocation(
        event_id=event_id,
        owner=str(getattr(context, "aws_request_id", "") or event_id),
        account=arn[4] if len(arn) > 5 else None,
        region=arn[3] if len(arn) > 5 else None,
        now=now(),
        lease=remaining,
    )
