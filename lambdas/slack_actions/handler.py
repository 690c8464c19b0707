"""Slack buttons: the interactivity request URL (a Lambda function URL, auth NONE: Slack signs instead).

Verify Slack's signature and the request's age, map the clicker to an approver, put the request on
Tollgate's bus (lambdas/slack_actions/clicks.py). 401 for a request Slack did not sign.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger
from lambdas.core.settings import settings
from lambdas.slack_actions.adapters.ports import AwsClickPorts
from lambdas.slack_actions.clicks import Answer, handle_click


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    function_settings = settings()
    config = function_settings.config
    secret = config.alerts.slack_signing_secret
    if not secret or not isinstance(event, dict):
        return Answer(404, "no Slack interactivity here").as_function_url()
    ports = AwsClickPorts(secret_name=secret, bus_name=function_settings.event_bus)
    return handle_click(event, config, ports, datetime.now(UTC)).as_function_url()
