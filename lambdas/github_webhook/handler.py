"""GitHub ``workflow_run`` webhook receiver behind a Lambda function URL (auth NONE, HMAC-verified)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.github_webhook.adapters.secret import SecretsManagerSecret
from lambdas.github_webhook.receive import Delivery, receive
from lambdas.github_webhook.settings import webhook_settings
from lambdas.ledger.adapters.table import LedgerTable


@cache
def _secret(name: str) -> SecretsManagerSecret:
    return SecretsManagerSecret(name)  # one per container: its cache outlives an invocation


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = webhook_settings()
    delivery = Delivery.from_function_url(event)
    answer = receive(
        delivery,
        secret=_secret(settings.webhook_secret),
        builds=LedgerTable(settings.ledger_table),
        environment=settings.environment,
        max_body_bytes=settings.config.records.webhook_max_body_bytes,
    )
    logger.info(
        "webhook",
        extra={
            "status": answer.status,
            "decision": answer.decision,
            "reason": answer.reason,
            "delivery": delivery.headers.get("x-github-delivery"),
        },
    )
    return {**answer.function_url_response(), "decision": answer.decision, "reason": answer.reason}
