"""Post-deployment synthetics, every few minutes (EventBridge Scheduler).

Scheduler's default payload is an EventBridge-like envelope whose ``detail`` is the *string* ``"{}"``;
nothing in it is read, any invocation is a tick.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.core.state_table import StateTable
from lambdas.hooks.deadline import Deadline
from lambdas.ledger.adapters.emf import EmfMetrics
from lambdas.synthetics.adapters.flows import HttpFlowRunner
from lambdas.synthetics.adapters.lease import StateTableLease
from lambdas.synthetics.model import SYNTHETICS_NAMESPACE
from lambdas.synthetics.run import SyntheticsPorts, run_synthetics
from lambdas.synthetics.settings import synthetics_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = synthetics_settings()
    config = settings.config
    remaining_ms = context.get_remaining_time_in_millis()
    ports = SyntheticsPorts(
        lease=StateTableLease(
            StateTable(settings.state_table), config.name, lease=timedelta(milliseconds=remaining_ms)
        ),
        flows=HttpFlowRunner(config, Deadline.from_context(context, margin_ms=config.checks.safety_margin_ms)),
        metrics=EmfMetrics(SYNTHETICS_NAMESPACE),
    )
    result = run_synthetics(config, ports, base_url_override=settings.synthetics_base_url)
    logger.info("synthetics", extra=result.as_dict())
    return result.as_dict()
