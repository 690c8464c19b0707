"""The real adapters behind the hooks' ports, for one function's setup."""

from __future__ import annotations

from lambdas.hooks.adapters.after_shift import StepFunctionsAfterShiftWatch
from lambdas.hooks.adapters.approvals import StateTableApprovals
from lambdas.hooks.adapters.bus import EventBridgeAnnouncer
from lambdas.hooks.adapters.cloudwatch_metrics import CloudWatchMetrics
from lambdas.hooks.adapters.codedeploy import CodeDeployDeployments, CodeDeployReporter
from lambdas.hooks.adapters.report_claims import StateTableReportClaims
from lambdas.hooks.adapters.secrets import SecretsManagerSecrets
from lambdas.hooks.adapters.traffic import ElbTraffic
from lambdas.hooks.checks import CheckPorts
from lambdas.hooks.errors import HookSetupError
from lambdas.hooks.http_client import send_http
from lambdas.hooks.run_hook import HookPorts
from lambdas.hooks.settings import HookSetup


def aws_ports(setup: HookSetup | HookSetupError) -> HookPorts:
    """Reporting needs no setup (a misconfigured function still reports); the rest follows the settings."""
    settings = setup.settings if isinstance(setup, HookSetup) else None
    table = settings.state_table if settings else None
    return HookPorts(
        checks=CheckPorts(
            deployments=CodeDeployDeployments(),
            traffic=ElbTraffic(),
            metrics=CloudWatchMetrics(),
            secrets=SecretsManagerSecrets(),
            approvals=StateTableApprovals(),
            send=send_http,
        ),
        reporter=CodeDeployReporter(),
        claims=StateTableReportClaims(table) if table else None,
        announcer=EventBridgeAnnouncer(settings.event_bus) if settings else None,
        watch=StepFunctionsAfterShiftWatch(settings.after_shift_state_machine)
        if settings and settings.after_shift_state_machine
        else None,
    )
