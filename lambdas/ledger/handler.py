"""Ledger writer: every deployment state change and Tollgate announcement becomes a record (idempotent).

EventBridge delivers at least once and in no particular order; the records are merged so that a
duplicate or a late START changes nothing (``lambdas.ledger.adapters.table``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.ledger.adapters.codedeploy import CodeDeployDeployments
from lambdas.ledger.adapters.table import LedgerTable
from lambdas.ledger.record import LedgerPorts, record_event
from lambdas.ledger.settings import ledger_settings


def ports() -> LedgerPorts:
    return LedgerPorts(ledger=LedgerTable(ledger_settings().ledger_table), deployments=CodeDeployDeployments())


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = ledger_settings()  # fails the cold start loudly when a variable is missing
    result = record_event(event, settings.config, ports())
    logger.info("ledger", extra=result.as_dict())
    return result.as_dict()
