"""Pipeline metrics publisher: on a schedule, DORA and build metrics over the ledger as EMF."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.ledger.adapters.emf import EmfMetrics
from lambdas.ledger.adapters.table import LedgerTable
from lambdas.ledger.publish import PIPELINE_NAMESPACE, publish_pipeline_metrics
from lambdas.ledger.settings import ledger_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    # Any event is a tick: the schedule is the only trigger and its payload carries nothing we read.
    settings = ledger_settings()
    result = publish_pipeline_metrics(
        settings.config, LedgerTable(settings.ledger_table), EmfMetrics(PIPELINE_NAMESPACE), datetime.now(UTC)
    )
    logger.info("pipeline metrics", extra=result.as_dict())
    return result.as_dict()
