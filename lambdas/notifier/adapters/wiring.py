"""The notifier's ports on AWS and Slack."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from lambdas.core.state_table import StateTable
from lambdas.notifier.adapters.codedeploy_revision import CodeDeployRevisionLookup
from lambdas.notifier.adapters.delivery_ledger import StateTableDeliveryLedger
from lambdas.notifier.adapters.living_messages import KnownRecords, StateTableLivingMessages
from lambdas.notifier.adapters.slack_client import RetryPolicy
from lambdas.notifier.adapters.slack_connector import SecretsSlackConnector
from lambdas.notifier.adapters.sns_email import SnsEmailSender
from lambdas.notifier.notify import NotifierPorts
from lambdas.notifier.settings import NotifierSettings


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# One for the container: it keeps each deployment's version (immutable) for the deployment's later events.
_REVISIONS = CodeDeployRevisionLookup()
# And the living records it last read or wrote: the deployment's next event saves without reading first.
_KNOWN_LIVING = KnownRecords()


def aws_ports(settings: NotifierSettings, slack_retry: RetryPolicy | None = None) -> NotifierPorts:
    """Cheap to build per event: the adapters hold no client (``lambdas.core.aws`` caches those, and local
    tooling resets them) and the Slack secret is cached by Powertools parameters."""
    table = StateTable(settings.state_table)
    return NotifierPorts(
        ledger=StateTableDeliveryLedger(table),
        slack=SecretsSlackConnector(settings.config.alerts, settings.slack_api_url, slack_retry),
        email=SnsEmailSender(settings.alert_topic_arn),
        revisions=_REVISIONS,
        clock=SystemClock(),
        living=StateTableLivingMessages(table, _KNOWN_LIVING),
    )
