"""Fixtures: a seeded LMS environment on the embedded AWS with the rollback function's settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.rollback.scenario import RollbackScenario, rollback_scenario


@pytest.fixture
def production(embedded_aws: Any) -> Iterator[RollbackScenario]:
    with rollback_scenario("production", embedded=embedded_aws) as scenario:
        yield scenario


@pytest.fixture
def staging(embedded_aws: Any) -> Iterator[RollbackScenario]:
    with rollback_scenario("staging", embedded=embedded_aws) as scenario:
        yield scenario


@pytest.fixture
def development(embedded_aws: Any) -> Iterator[RollbackScenario]:
    with rollback_scenario("development", embedded=embedded_aws) as scenario:
        yield scenario
