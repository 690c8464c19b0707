"""Which checks one hook runs for one service, from the environment config (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.hooks.errors import MissingCheckConfigError
from lambdas.hooks.flows import FlowRun

__all__ = ["CheckPlan", "MissingCheckConfigError", "plan_checks"]


@dataclass(frozen=True)
class CheckPlan:
    hook: Hook
    service: str
    flow_runs: tuple[FlowRun, ...]
    # The judged target group is found at run time: blue and green swap roles on every deployment.
    metric_gate: bool
    approval_gate: bool
    change_freeze_gate: bool

    @property
    def uses_synthetic_user(self) -> bool:
        return any(run.flow.uses_synthetic_user for run in self.flow_runs)


def plan_checks(
    config: EnvironmentConfig, hook: Hook, service: str, *, base_url_override: str | None = None
) -> CheckPlan:
    """Every hook x service must be listed under ``checks.hooks`` (an empty entry means nothing to check),
    so a forgotten entry fails the hook instead of passing it silently."""
    hook_checks = config.checks.hooks.get(hook, {}).get(service)
    if hook_checks is None:
        raise MissingCheckConfigError(
            f"no checks configured for {hook.value}/{service} in {config.name} (checks.hooks.{hook.value}.{service})"
        )
    runs = []
    for flow_name in hook_checks.flows:
        flow = config.checks.flows[flow_name]
        lms_service = config.lms.services[flow.service]
        url = lms_service.test_url if hook_checks.target == "test" else lms_service.base_url
        if url is None:
            raise MissingCheckConfigError(f"flow {flow_name}: service {flow.service} has no test_url")
        runs.append(FlowRun(name=flow_name, flow=flow, base_url=base_url_override or url))
    return CheckPlan(
        hook=hook,
        service=service,
        flow_runs=tuple(runs),
        metric_gate=hook_checks.metric_gate,
        approval_gate=hook is Hook.BEFORE_ALLOW_TRAFFIC and config.deployment.requires_approval,
        change_freeze_gate=hook is Hook.BEFORE_INSTALL,
    )
