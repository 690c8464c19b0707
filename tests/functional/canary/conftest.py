"""Fixtures: production (a canary environment) on the embedded AWS, a deployment waiting at BeforeAllowTraffic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambdas.core.config import Hook
from lambdas.core.settings import settings
from tests.functional.rollback.scenario import RollbackScenario, rollback_scenario
from tollgate.embedded_aws import extensions

STATE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:tollgate-production-canary"


@pytest.fixture
def canary_world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RollbackScenario, str, str]]:
    monkeypatch.setenv("TOLLGATE_CANARY_STATE_MACHINE_ARN", STATE_MACHINE)
    settings.cache_clear()
    with rollback_scenario("production", embedded=embedded_aws) as scenario:
        deployment_id = scenario.in_flight_deployment("backend")
        execution_id = extensions.register_hook_execution(deployment_id, Hook.BEFORE_ALLOW_TRAFFIC.value)
        scenario.recorder.clear()
        yield scenario, deployment_id, execution_id
    settings.cache_clear()
