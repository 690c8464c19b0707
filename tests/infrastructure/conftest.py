"""Fixtures for construct tests: a bare stack with Tollgate's shared resources, per environment."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from lambdas.core.config import EnvironmentConfig, load_environment
from stacks.constructs.shared import SharedFoundation, SharedResources


@pytest.fixture(params=["development", "staging", "production"])
def environment_config(request: Any) -> EnvironmentConfig:
    return load_environment(request.param)


@pytest.fixture
def bare_stack(environment_config: EnvironmentConfig) -> Stack:
    # Built-in CloudFormation validation is off for construct tests; `make test` runs one fully
    # validated synth (cdk-nag and CloudFormation validation) of the whole app.
    app = App(builtin_cloud_formation_validation=False)
    return Stack(
        app, "TestStack", env=Environment(account=environment_config.account, region=environment_config.region)
    )


@pytest.fixture
def shared_resources(bare_stack: Stack, environment_config: EnvironmentConfig) -> SharedResources:
    return SharedFoundation(bare_stack, "Shared", config=environment_config).resources
