"""Fixtures for the hook functions on the embedded AWS with the stand-in LMS."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lambdas.core.config import EnvironmentConfig, Hook, load_environment
from lambdas.core.settings import settings
from tests.snapshots import built_once
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.seed import SeededEnvironment, appspec_revision, seed_environment
from tollgate.embedded_aws.tables import create_tollgate_tables
from tollgate.local.lms_service import LmsService

# Where CodeDeploy has routed each listener when a hook runs (the original group keeps the rest).
_REPLACEMENT_LISTENERS = {
    Hook.AFTER_ALLOW_TEST_TRAFFIC: ("test",),
    Hook.BEFORE_ALLOW_TRAFFIC: ("test",),
    Hook.AFTER_ALLOW_TRAFFIC: ("test", "production"),
}


@dataclass
class HookWorld:
    environment: str
    lms: LmsService
    secret_password: str
    monkeypatch: pytest.MonkeyPatch
    seeded: SeededEnvironment

    def use_hook(self, hook: Hook) -> None:
        self.monkeypatch.setenv("TOLLGATE_HOOK", hook.value)
        settings.cache_clear()

    def route(self, service: str, listener: str, *, to: str) -> None:
        """Send all of ``listener``'s (test/production) traffic for ``service`` to its ``to`` (blue/green) group."""
        seeded = self.seeded.service(service)
        rule = seeded.test_rule_arn if listener == "test" else seeded.production_rule_arn
        arns = {"blue": seeded.blue_target_group_arn, "green": seeded.green_target_group_arn}
        if rule is None or arns["green"] is None:
            raise AssertionError(f"{self.environment} has no {listener} rule or no green group for {service}")
        groups = [{"TargetGroupArn": arn, "Weight": 100 if colour == to else 0} for colour, arn in arns.items()]
        boto3.client("elbv2").modify_rule(
            RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
        )

    def start_deployment(self, service: str, hook: Hook, *, replacement: str = "green") -> tuple[str, str]:
        """A deployment of ``service`` to its ``replacement`` group, now at ``hook``, with the listeners routed
        as CodeDeploy routes them by then; returns (deployment id, hook execution id)."""
        original = "blue" if replacement == "green" else "green"
        for listener in ("test", "production"):
            carries_replacement = listener in _REPLACEMENT_LISTENERS.get(hook, ())
            self.route(service, listener, to=replacement if carries_replacement else original)
        config = load_environment(self.environment)
        deployment_id = boto3.client("codedeploy").create_deployment(
            applicationName=config.lms.codedeploy_application,
            deploymentGroupName=config.lms.services[service].deployment_group,
            revision=appspec_revision("{}"),
        )["deploymentId"]
        extensions.set_deployment_status(deployment_id, "InProgress")
        execution_id = extensions.register_hook_execution(deployment_id, hook.value)
        self.use_hook(hook)
        return deployment_id, execution_id

    def put_target_metrics(
        self, service: str, *, requests: int, errors: int, latency_seconds: float, colour: str = "green"
    ) -> None:
        config = load_environment(self.environment)
        dims = [
            {"Name": "TargetGroup", "Value": getattr(config.lms.services[service].target_groups, colour)},
            {"Name": "LoadBalancer", "Value": config.lms.load_balancer},
        ]
        at = datetime.now(UTC) - timedelta(minutes=1)
        data = [
            {"MetricName": "RequestCount", "Dimensions": dims, "Value": float(requests), "Timestamp": at},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Value": float(errors), "Timestamp": at},
            {"MetricName": "TargetResponseTime", "Dimensions": dims, "Value": latency_seconds, "Timestamp": at},
        ]
        boto3.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)


def reports(deployment_id: str) -> list[Any]:
    return [r for r in extensions.reported_hook_statuses(deployment_id) if r.accepted]


@pytest.fixture
def hook_world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], HookWorld]]:
    running: list[LmsService] = []

    def seed(config: EnvironmentConfig) -> tuple[SeededEnvironment, dict[str, str]]:
        seeded = seed_environment(config)
        tables = create_tollgate_tables(boto3.client("dynamodb"))
        boto3.client("events").create_event_bus(Name=f"tollgate-{config.name}")
        return seeded, tables

    def build(environment: str) -> HookWorld:
        config = load_environment(environment)
        # The test's first environment comes from a snapshot (tests/snapshots.py); another one is seeded beside it.
        if running:
            seeded, tables = seed(config)
        else:
            seeded, tables = built_once(embedded_aws, ("hooks", environment), lambda: seed(config))
        credentials = json.loads(
            boto3.client("secretsmanager").get_secret_value(SecretId=config.checks.synthetic_user_secret)[
                "SecretString"
            ]
        )
        lms = LmsService(username=credentials["username"], password=credentials["password"]).start()
        running.append(lms)
        for key, value in {
            "TOLLGATE_ENVIRONMENT": environment,
            "TOLLGATE_EVENT_BUS": f"tollgate-{environment}",
            "TOLLGATE_STATE_TABLE": tables["state"],
            "TOLLGATE_IDEMPOTENCY_TABLE": tables["idempotency"],
            "TOLLGATE_SYNTHETICS_BASE_URL": lms.base_url,
        }.items():
            monkeypatch.setenv(key, value)
        settings.cache_clear()
        return HookWorld(environment, lms, credentials["password"], monkeypatch, seeded)

    yield build
    for lms in running:
        lms.stop()
    settings.cache_clear()
