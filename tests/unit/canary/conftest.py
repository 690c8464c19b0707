"""The production canary state machine as synthesized, once per test session."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from lambdas.core.config import EnvironmentConfig, load_environment


def _resolved(value: Any) -> str:
    """DefinitionString is Fn::Join of text and tokens (function ARNs): tokens become a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolved(part) for part in parts)
    return "arn:aws:lambda:eu-west-1:333333333333:function:canary-task"


def synthesized_definition(config: EnvironmentConfig, *, time_scale: int = 1) -> dict[str, Any]:
    from aws_cdk.assertions import Template  # noqa: PLC0415

    from stacks.constructs.canary import TIME_SCALE_CONTEXT, CanaryController  # noqa: PLC0415
    from stacks.constructs.shared import SharedFoundation  # noqa: PLC0415

    app = App(builtin_cloud_formation_validation=False, context={TIME_SCALE_CONTEXT: time_scale})
    stack = Stack(app, "CanaryTest", env=Environment(account=config.account, region=config.region))
    CanaryController(stack, "Canary", shared=SharedFoundation(stack, "Shared", config=config).resources, config=config)
    machines = Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine")
    (machine,) = machines.values()
    return dict(json.loads(_resolved(machine["Properties"]["DefinitionString"])))


@pytest.fixture(scope="session")
def production() -> EnvironmentConfig:
    return load_environment("production")


@pytest.fixture(scope="session")
def production_definition(production: EnvironmentConfig) -> dict[str, Any]:
    return synthesized_definition(production)
