"""A staging environment on the embedded AWS with the ledger table, and builders for its events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, load_environment
from tollgate.embedded_aws.seed import seed_environment
from tollgate.local.context import LocalLambdaContext

LEDGER_TABLE = "tollgate-ledger"


def create_ledger_table(name: str = LEDGER_TABLE) -> str:
    """The stack's ledger table shape (stacks/constructs/ledger.py): pk/sk and the ByTime index."""
    keys = ("pk", "sk", "gsi1pk", "gsi1sk")
    aws.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByTime",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


@dataclass
class LedgerWorld:
    config: EnvironmentConfig

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(function_name="tollgate-staging-ledger", region=self.config.region)

    def items(self) -> list[dict[str, Any]]:
        pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=LEDGER_TABLE)
        return [item for page in pages for item in page["Items"]]

    def codedeploy_event(
        self, deployment_id: str, state: str, at: datetime, *, event_id: str | None = None
    ) -> dict[str, Any]:
        application = self.config.lms.codedeploy_application
        group = self.config.lms.services["backend"].deployment_group
        return {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": "CodeDeploy Deployment State-change Notification",
            "source": "aws.codedeploy",
            "account": self.config.account,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.config.region,
            "resources": [],
            "detail": {
                "deploymentId": deployment_id,
                "application": application,
                "deploymentGroup": group,
                "state": state,
                "region": self.config.region,
            },
        }

    def for_service(self, event: dict[str, Any], service: str) -> dict[str, Any]:
        event["detail"]["deploymentGroup"] = self.config.lms.services[service].deployment_group
        return event

    def announcement(
        self,
        detail_type: str,
        at: datetime,
        *,
        service: str,
        deployment_id: str | None = None,
        severity: str = "info",
        evidence: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "version": "0",
            "id": event_id or str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "tollgate",
            "account": self.config.account,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.config.region,
            "resources": [],
            "detail": {
                "environment": self.config.name,
                "severity": severity,
                "summary": f"{detail_type} for {service}",
                "reason": f"{detail_type} reason",
                "service": service,
                "deployment_id": deployment_id,
                "occurred_at": at.isoformat(),
                "evidence": evidence or {},
            },
        }


@contextmanager
def ledger_world(monkeypatch: pytest.MonkeyPatch, environment: str = "staging") -> Iterator[LedgerWorld]:
    config = load_environment(environment)
    seed_environment(config)
    create_ledger_table()
    aws.client("secretsmanager").create_secret(Name="tollgate/staging/github-webhook", SecretString="hook-secret")
    for name, value in {
        "TOLLGATE_ENVIRONMENT": environment,
        "TOLLGATE_EVENT_BUS": f"tollgate-{environment}",
        "TOLLGATE_LEDGER_TABLE": LEDGER_TABLE,
        "TOLLGATE_GITHUB_WEBHOOK_SECRET": f"tollgate/{environment}/github-webhook",
    }.items():
        monkeypatch.setenv(name, value)
    yield LedgerWorld(config)
