"""Build the controller's ports from the function's settings (the one place adapters are chosen)."""

from __future__ import annotations

import os
from typing import Any

from lambdas.canary.adapters.bus import BusAnnouncer
from lambdas.canary.adapters.cloudwatch import AlbMetrics
from lambdas.canary.adapters.codedeploy import CodeDeployDeployments, CodeDeployHookReporter
from lambdas.canary.adapters.elbv2 import ListenerRuleTraffic
from lambdas.canary.adapters.flows import ProductionFlows
from lambdas.canary.adapters.judgement import CanaryJudgement
from lambdas.canary.adapters.records import StateTableRecords
from lambdas.canary.adapters.stepfunctions import StepFunctionsExecutions
from lambdas.canary.controller import ControllerPorts, RequestPorts
from lambdas.canary.start import StartPorts
from lambdas.core.config import EnvironmentConfig
from lambdas.core.settings import FunctionSettings
from lambdas.core.state_table import StateTable
from lambdas.hooks.deadline import Deadline

STATE_MACHINE_VARIABLE = "TOLLGATE_CANARY_STATE_MACHINE_ARN"


class CanarySetupError(Exception):
    """A variable the canary needs is not set."""


def state_machine_arn() -> str:
    arn = os.environ.get(STATE_MACHINE_VARIABLE, "")
    if not arn:
        raise CanarySetupError(f"{STATE_MACHINE_VARIABLE} is not set")
    return arn


def controller_ports(
    function_settings: FunctionSettings, config: EnvironmentConfig, *, context: Any
) -> ControllerPorts:
    if not function_settings.state_table:
        raise CanarySetupError("TOLLGATE_STATE_TABLE is not set")
    deadline = Deadline.from_context(context, margin_ms=config.checks.safety_margin_ms)
    return ControllerPorts(
        traffic=ListenerRuleTraffic(config),
        metrics=AlbMetrics(config),
        judge=CanaryJudgement(config),
        reporter=CodeDeployHookReporter(deadline),
        announcer=BusAnnouncer(function_settings.event_bus),
        records=StateTableRecords(StateTable(function_settings.state_table)),
        deployments=CodeDeployDeployments(),
        flows=ProductionFlows(config, deadline=deadline, base_url_override=function_settings.synthetics_base_url),
        executions=StepFunctionsExecutions(os.environ.get(STATE_MACHINE_VARIABLE, "")),
    )


def request_ports(function_settings: FunctionSettings) -> RequestPorts:
    if not function_settings.state_table:
        raise CanarySetupError("TOLLGATE_STATE_TABLE is not set")
    return RequestPorts(
        announcer=BusAnnouncer(function_settings.event_bus),
        records=StateTableRecords(StateTable(function_settings.state_table)),
        executions=StepFunctionsExecutions(os.environ.get(STATE_MACHINE_VARIABLE, "")),
    )


def start_ports(config: EnvironmentConfig, *, context: Any) -> StartPorts:
    """The BeforeAllowTraffic starter's: its report fits the invocation's time left."""
    deadline = Deadline.from_context(context, margin_ms=config.checks.safety_margin_ms)
    return StartPorts(
        deployments=CodeDeployDeployments(),
        executions=StepFunctionsExecutions(state_machine_arn()),
        reporter=CodeDeployHookReporter(deadline),
    )
