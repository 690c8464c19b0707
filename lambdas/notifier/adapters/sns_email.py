"""Adapter: send an email through the alert topic.

One publish per email. Its ``recipient`` attribute (String.Array) lists the addresses the routing
chose; each email subscription on the topic carries the filter policy ``{"recipient": ["<its
address>"]}`` (the notifier construct creates them), so SNS delivers the message to exactly those
addresses (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws
from lambdas.core.errors import describe
from lambdas.notifier.email_message import RECIPIENT_ATTRIBUTE, EmailMessage
from lambdas.notifier.errors import EmailDeliveryError


class SnsEmailSender:
    def __init__(self, topic_arn: str, sns_client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = sns_client

    def send(self, message: EmailMessage, *, recipients: tuple[str, ...], environment: str, severity: str) -> str:
        """Publish the email to the alert topic; returns the SNS message id."""
        client = self._client or aws.client("sns")
        try:
            response = client.publish(
                TopicArn=self._topic_arn,
                Subject=message.subject,
                Message=message.body,
                MessageAttributes={
                    RECIPIENT_ATTRIBUTE: {"DataType": "String.Array", "StringValue": json.dumps(list(recipients))},
                    "environment": {"DataType": "String", "StringValue": environment},
                    "severity": {"DataType": "String", "StringValue": severity},
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise EmailDeliveryError(f"SNS publish to the alert topic failed: {describe(error)}") from error
        return str(response["MessageId"])
