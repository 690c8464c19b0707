"""Adapters: the signing secret (Secrets Manager, cached by Powertools), Tollgate's bus, the click's response_url."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from lambdas.core import aws
from lambdas.core.bus import AnnounceError, announce
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType, TollgateEvent
from lambdas.notifier.adapters.slack_client import check_slack_url

SECRET_MAX_AGE_SECONDS = 300
REPLY_TIMEOUT_SECONDS = 1.0  # inside Slack's three seconds


class AwsClickPorts:
    def __init__(self, *, secret_name: str, bus_name: str) -> None:
        self._secret_name = secret_name
        self._bus_name = bus_name

    def signing_secret(self) -> str:
        value = SecretsProvider(boto3_client=aws.client("secretsmanager")).get(
            self._secret_name, max_age=SECRET_MAX_AGE_SECONDS
        )
        return str(value).strip()

    def put(self, detail_type: DetailType, detail: Mapping[str, Any]) -> None:
        answer = aws.client("events").put_events(
            Entries=[
                {
                    "Source": TOLLGATE_SOURCE,
                    "DetailType": detail_type.value,
                    "Detail": json.dumps(dict(detail)),
                    "EventBusName": self._bus_name,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise AnnounceError(f"{detail_type.value}: {answer['Entries'][0].get('ErrorCode')}")

    def announce(self, event: TollgateEvent) -> None:
        announce(event, bus_name=self._bus_name)

    def reply(self, response_url: str, text: str) -> None:
        """An ephemeral reply only the clicker sees, leaving the message as it is."""
        body = json.dumps({"response_type": "ephemeral", "replace_original": False, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked by check_slack_url
            check_slack_url(response_url), data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_SECONDS):  # noqa: S310  # nosec B310
            pass
