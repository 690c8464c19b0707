"""Run one hook's checks through the ports: find the service, plan the checks, run them within the deadline.

Every failure becomes a Failed verdict with a reason; nothing here decides whether to report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.hooks.adapters.codedeploy import DeploymentTarget
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import MissingStateTableError, TrafficError, UnknownDeploymentError
from lambdas.hooks.flows import Sender, run_flows
from lambdas.hooks.metric_gate import judge_target_group_health
from lambdas.hooks.model import CheckKind, CheckResult, HookVerdict, decide_verdict, failed_verdict
from lambdas.hooks.plan import CheckPlan, plan_checks
from lambdas.hooks.policy import judge_approval, judge_change_freeze
from lambdas.hooks.ports import ApprovalReader, DeploymentLookup, MetricsReader, SecretsReader, TrafficReader


@dataclass(frozen=True)
class CheckPorts:
    """What the checks read through."""

    deployments: DeploymentLookup
    traffic: TrafficReader
    metrics: MetricsReader
    secrets: SecretsReader
    approvals: ApprovalReader
    send: Sender


@dataclass
class Secrets:
    """Every value that must never leave the function: configured secrets and whatever the flows captured."""

    values: set[str] = field(default_factory=set)


def service_for_deployment(config: EnvironmentConfig, target: DeploymentTarget) -> str:
    if target.application != config.lms.codedeploy_application:
        raise UnknownDeploymentError(
            f"application '{target.application}' is not {config.name}'s ({config.lms.codedeploy_application})"
        )
    service = config.service_for_deployment_group(target.deployment_group)
    if service is None:
        raise UnknownDeploymentError(f"deployment group '{target.deployment_group}' maps to no LMS service")
    return service


def run_checks(
    plan: CheckPlan,
    *,
    config: EnvironmentConfig,
    deployment_id: str,
    state_table: str | None,
    deadline: Deadline,
    now: datetime,
    ports: CheckPorts,
    secrets: Secrets,
    metric_window_start: datetime | None = None,
) -> tuple[CheckResult, ...]:
    results: list[CheckResult] = []
    if plan.change_freeze_gate:
        results.append(judge_change_freeze(config.change_freezes, now=now))
    if plan.approval_gate:
        if not state_table:
            raise MissingStateTableError("the approval gate needs TOLLGATE_STATE_TABLE")
        approval = ports.approvals.find_approval(state_table, deployment_id)
        results.append(judge_approval(approval, deployment_id=deployment_id, environment=config.name))
    if plan.metric_gate:
        results.append(
            run_metric_gate(
                plan, config=config, now=now, ports=ports, deadline=deadline, window_start=metric_window_start
            )
        )
    if plan.flow_runs:
        variables: dict[str, str] = {}
        if plan.uses_synthetic_user and config.checks.synthetic_user_secret:
            user = ports.secrets.synthetic_user(config.checks.synthetic_user_secret, deadline=deadline)
            variables = {"username": user.username, "password": user.password}
            secrets.values.add(user.password)
        results.extend(
            run_flows(
                list(plan.flow_runs),
                variables=variables,
                send=ports.send,
                deadline=deadline,
                request_timeout_seconds=config.checks.request_timeout_seconds,
                secrets=frozenset(secrets.values),
                captured=secrets.values,
            )
        )
    return tuple(results)


def run_metric_gate(
    plan: CheckPlan,
    *,
    config: EnvironmentConfig,
    now: datetime,
    ports: CheckPorts,
    deadline: Deadline,
    window_start: datetime | None = None,
) -> CheckResult:
    """Judge the target group the ALB routes the new release's traffic to; if that is unknown, fail.

    ``window_start``: when the traffic moved (AfterAllowTraffic after its post-shift wait), so the window is
    the minutes since the shift; otherwise the last ``thresholds.evaluation_window_minutes``."""
    try:
        target_group = ports.traffic.replacement_target_group(config, plan.hook, plan.service, deadline=deadline)
    except TrafficError as error:
        # Never fall back to a fixed group: after a swap it would be the old release's.
        return CheckResult(
            name="metric gate",
            kind=CheckKind.METRIC_GATE,
            passed=False,
            reason=f"cannot tell which target group carries the new release of {plan.service}: {error}",
        )
    window = timedelta(minutes=config.thresholds.evaluation_window_minutes)
    start = window_start if window_start is not None and window_start < now else now - window
    metrics = ports.metrics.target_group_metrics(
        load_balancer=config.lms.load_balancer,
        target_group=target_group,
        start=start,
        end=now,
        deadline=deadline,
    )
    return judge_target_group_health(metrics, config.thresholds)


def evaluate_hook(
    *,
    config: EnvironmentConfig,
    hook: Hook,
    deployment_id: str,
    state_table: str | None,
    deadline: Deadline,
    now: datetime,
    ports: CheckPorts,
    secrets: Secrets,
    base_url_override: str | None = None,
    metric_window_start: datetime | None = None,
) -> HookVerdict:
    target = ports.deployments.describe(deployment_id, deadline=deadline)
    service = service_for_deployment(config, target)
    plan = plan_checks(config, hook, service, base_url_override=base_url_override)
    checks = run_checks(
        plan,
        config=config,
        deployment_id=deployment_id,
        state_table=state_table,
        deadline=deadline,
        now=now,
        ports=ports,
        secrets=secrets,
        metric_window_start=metric_window_start,
    )
    return decide_verdict(checks, service=service)


def evaluate_within_deadline(evaluate: Callable[[], HookVerdict], deadline: Deadline) -> HookVerdict:
    """Run ``evaluate`` in a daemon thread; past the deadline, or on any exception, the verdict is Failed."""
    outcome: list[HookVerdict] = []
    problem: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(evaluate())
        except Exception as error:  # a hook must report whatever went wrong
            problem.append(error)

    worker = threading.Thread(target=work, name="hook-checks", daemon=True)
    worker.start()
    worker.join(timeout=max(0.0, deadline.remaining_seconds()))
    if outcome:
        return outcome[0]
    if problem:
        error = problem[0]
        return failed_verdict(f"{type(error).__name__}: {error}")
    return failed_verdict(
        "the checks did not finish before the hook's deadline (function timeout minus the safety margin)"
    )
