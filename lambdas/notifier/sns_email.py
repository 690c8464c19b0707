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
from lambdas.notifier.email_message import EmailMessage

RECIPIENT_ATTRIBUTE = "recipient"


class EmailDeliveryError(Exception):
    """SNS did not accept the email."""


def send_email(
    message: EmailMessage,
    *,
    recipients: tuple[str, ...],
    topic_arn: str,
    environment: str,
    severity: str,
    sns_client: Any | None = None,
) -> str:
    """Publish the email to the alert topic; returns the SNS message id."""
    client = sns_client or aws.client("sns")
    try:
        response = client.publish(
            TopicArn=topic_arn,
            Subject=message.subject,
            Message=message.body,
            MessageAttributes={
                RECIPIENT_ATTRIBUTE: {"DataType": "String.Array", "StringValue": json.dumps(list(recipients))},
                "environment": {"DataType": "String", "StringValue": environment},
                "severity": {"DataType": "String", "StringValue": severity},
            },
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise EmailDeliveryError(f"SNS publish to the alert topic failed: {code}") from error
    except BotoCoreError as error:
        raise EmailDeliveryError(f"SNS publish to the alert topic failed: {type(error).__name__}") from error
    return str(response["MessageId"])
