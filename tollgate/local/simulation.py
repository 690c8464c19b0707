"""Simulate one whole CodeDeploy ECS blue/green deployment of an LMS service on the embedded AWS.

One ``local_world``: a deployment of the service's current task definition, with an AppSpec naming the
environment's ``CodeDeployHook_`` functions, is played by ``CodeDeployEcsDriver``. Every hook runs the real
hook handler (``LocalWorld.replay`` with the function named), every CodeDeploy state-change event goes
through the template's rules (notifier, rollback), and every report is kept for the timeline.

The stand-in LMS the hooks check is one this module starts (same synthetic user as the world's), so
faults can be switched on it without reaching into the world: the world's override is pointed at it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, Hook, Strategy, load_environment
from lambdas.hooks import state
from lambdas.hooks.naming import hook_function_name
from lambdas.hooks.policy import Approval
from tollgate.embedded_aws.codedeploy_driver import CodeDeployEcsDriver, DeploymentPlay, DriverError
from tollgate.embedded_aws.seed import create_deployment_of, synthetic_user_secret_name
from tollgate.local.alb_traffic import AlbTrafficModel, NewVersionFault
from tollgate.local.deploy import function_environment
from tollgate.local.lms_service import LmsService
from tollgate.local.replay import LocalWorld, Report, local_world

FAULTS = ("none", "5xx", "slow", "wrong-json", "refused")
INJECTED_STATUS = 503
# Hooks that judge traffic on the replacement target group: its metrics must exist before they run.
TRAFFIC_HOOKS = frozenset({"AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic"})
SIMULATION_APPROVER = "tollgate-simulate"
# The canary's state machine reports BeforeAllowTraffic, and the post-shift watch AfterAllowTraffic, on their own
# time: the driver waits for them as long as their execution runs, however slow the machine. A hook that returned
# without reporting while no execution holds it gets this long more, then counts as never reporting (CodeDeploy
# itself would wait up to an hour).
REPORT_WAIT_SECONDS = 10.0
# What "5xx" and "slow" do to the new version's ALB metrics in a canary environment.
CANARY_FAULTS = {
    "5xx": NewVersionFault(error_percent=20.0),
    "slow": NewVersionFault(extra_latency_seconds=1.5),
}


class SimulationError(Exception):
    """The simulation cannot run as asked (unknown service or fault, rolling environment, missing hooks)."""


@dataclass(frozen=True)
class SimulationStep:
    name: str  # a lifecycle hook or a CodeDeploy step (Install, AllowTestTraffic, Ready, AllowTraffic)
    outcome: str  # Succeeded | Failed | Skipped | Waiting
    detail: str = ""
    verdict: str = ""  # the hook handler's own reason, for hooks that ran

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "outcome": self.outcome, "detail": self.detail, "verdict": self.verdict}


@dataclass(frozen=True)
class TriggeredReport:
    """What one hook invocation or one state-change event caused, in the order it happened."""

    trigger: str  # "hook AfterInstall" or "event START"
    report: Report

    def as_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger, **self.report.as_dict()}


@dataclass
class Simulation:
    environment: str
    service: str
    fault: str
    approved: bool
    deployment_id: str = ""
    status: str = ""
    rolled_back: bool = False
    rollback_deployment_id: str | None = None
    steps: list[SimulationStep] = field(default_factory=list)
    reports: list[TriggeredReport] = field(default_factory=list)
    fault_from_percent: int = 0
    canary: list[dict[str, Any]] = field(default_factory=list)  # each canary task: action, step, outcome, reason

    @property
    def notifications(self) -> list[dict[str, Any]]:
        return [n for r in self.reports for n in r.report.notifications]

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "service": self.service,
            "fault": self.fault,
            "approved": self.approved,
            "deployment_id": self.deployment_id,
            "status": self.status,
            "rolled_back": self.rolled_back,
            "rollback_deployment_id": self.rollback_deployment_id,
            "steps": [s.as_dict() for s in self.steps],
            "canary": self.canary,
            "reports": [r.as_dict() for r in self.reports],
        }


def check_request(config: EnvironmentConfig, service: str, fault: str) -> None:
    """Refuse what cannot be simulated, before anything is brought up."""
    if config.deployment.strategy is Strategy.ROLLING or not config.lms.codedeploy_application:
        raise SimulationError(f"{config.name} uses rolling ECS updates: there is no CodeDeploy deployment to simulate")
    lms_service = config.lms.services.get(service)
    if lms_service is None:
        raise SimulationError(f"{config.name} has no service '{service}' (known: {', '.join(config.lms.services)})")
    if not lms_service.deployment_group:
        raise SimulationError(f"{config.name}'s {service} has no CodeDeploy deployment group")
    if fault not in FAULTS:
        raise SimulationError(f"unknown fault '{fault}' (known: {', '.join(FAULTS)})")


def simulate_deployment(
    environment: str,
    service: str,
    *,
    fault: str = "none",
    approve: bool = False,
    fault_from_percent: int = 0,
    inspect: Callable[[LocalWorld, Simulation], None] | None = None,
    while_waiting: Callable[[LocalWorld, Simulation], None] | None = None,
    after_task: Callable[[LocalWorld, Simulation], None] | None = None,
) -> Simulation:
    """Play one blue/green deployment of ``service`` in ``environment`` and tell what happened.

    In a canary environment BeforeAllowTraffic starts the canary's state machine, which the embedded AWS runs
    (approval wait, each step's shift, bake and analysis) while ALB traffic follows the listener's split; a
    "5xx" or "slow" fault then makes the new version's metrics worse once it carries ``fault_from_percent``
    of the traffic. ``while_waiting`` runs while the driver waits for that report (e.g. to approve);
    ``after_task`` runs after each of a state machine's tasks while the execution waits for it (to act at a
    given step whatever the machine's speed); ``inspect`` runs after the play, before the embedded AWS goes
    away (e.g. to read the ledger).
    """
    config = load_environment(environment)
    check_request(config, service, fault)
    canary = config.deployment.strategy is Strategy.CANARY
    simulation = Simulation(
        environment=config.name, service=service, fault=fault, approved=approve, fault_from_percent=fault_from_percent
    )
    with ExitStack() as stack:
        world = stack.enter_context(local_world(config.name))
        lms = stack.enter_context(_stand_in_lms(world))
        hooks = hook_functions(world, config)
        simulation.deployment_id = _create_deployment(config, service, hooks)
        if approve:
            _record_approval(world, config, simulation.deployment_id)
        # ALB traffic follows the listener's split all along (the metric gates judge what it sends); in a canary
        # environment a "5xx" or "slow" fault is the new version's metrics, elsewhere the stand-in LMS's answers.
        fault_model = CANARY_FAULTS.get(fault, NewVersionFault()) if canary else NewVersionFault()
        fault_model.from_percent = fault_from_percent
        stack.enter_context(AlbTrafficModel(config, service, fault=fault_model))
        verdicts: dict[str, str] = {}
        world.task_listeners.append(_state_machine_listener(simulation, verdicts))
        if after_task is not None:
            world.task_listeners.append(lambda _function, _payload, _report: after_task(world, simulation))
        if not canary:
            _inject_fault(lms, config, service, fault)

        def invoke_hook(hook: str, function_name: str, payload: dict[str, str]) -> None:
            if hook in TRAFFIC_HOOKS and fault == "none" and not canary:
                put_healthy_target_metrics(config, service)
            report = world.replay(payload, function=function_name)
            simulation.reports.append(TriggeredReport(f"hook {hook}", report))
            verdicts[hook] = report.results[0]["reason"] if report.results else report.reason

        def emit_event(event: dict[str, Any]) -> None:
            report = world.replay(event)
            simulation.reports.append(TriggeredReport(f"event {event['detail']['state']}", report))

        driver = CodeDeployEcsDriver(
            invoke_hook=invoke_hook,
            emit_event=emit_event,
            report_wait_seconds=REPORT_WAIT_SECONDS,
            while_waiting=(lambda _hook, _deployment: while_waiting(world, simulation)) if while_waiting else None,
        )
        try:
            play = _play_to_the_end(driver, simulation.deployment_id)
        except DriverError as error:
            raise SimulationError(str(error)) from error
        simulation.status = play.status
        simulation.rollback_deployment_id = play.rollback_deployment_id
        # The driver puts traffic back on the original task set whenever the deployment fails or is stopped.
        simulation.rolled_back = play.status in ("Failed", "Stopped")
        reported = [c for c in simulation.canary if c["action"] in ("succeed", "fail")]
        if reported:  # the canary's execution reported BeforeAllowTraffic: its reason is the hook's verdict
            verdicts[Hook.BEFORE_ALLOW_TRAFFIC.value] = reported[-1]["reason"]
        simulation.steps = [
            SimulationStep(s.name, s.outcome, s.detail, verdicts.get(s.name, "") if s.outcome != "Skipped" else "")
            for s in play.steps
        ]
        if inspect is not None:
            inspect(world, simulation)
    return simulation


def _state_machine_listener(simulation: Simulation, verdicts: dict[str, str]) -> Callable[[str, Any, Report], None]:
    """What the state machines' tasks did: the canary's steps, and AfterAllowTraffic run by the post-shift watch."""

    def on_task(function: str, payload: Any, report: Report) -> None:
        first = report.results[0] if report.results else {}
        if isinstance(payload, dict) and "ShiftedAt" in payload:
            verdicts[Hook.AFTER_ALLOW_TRAFFIC.value] = str(first.get("reason", report.reason))
            simulation.reports.append(TriggeredReport("hook AfterAllowTraffic (after the shift window)", report))
            return
        action = str(payload.get("action", "")) if isinstance(payload, dict) else ""
        output = first.get("output") if isinstance(first.get("output"), dict) else {}
        simulation.canary.append(
            {
                "action": action,
                "step_percent": payload.get("step_percent") if isinstance(payload, dict) else None,
                "outcome": str((output or {}).get("outcome", first.get("decision", ""))),
                "reason": str((output or {}).get("reason", first.get("reason", ""))),
                "details": dict((output or {}).get("details") or {}),  # e.g. a bake poll's bake_left_seconds
            }
        )
        simulation.reports.append(TriggeredReport(f"canary {action}", report))

    return on_task


def _play_to_the_end(driver: CodeDeployEcsDriver, deployment_id: str) -> DeploymentPlay:
    """Play; a deployment waiting in Ready is continued (as the pipeline would) and played on."""
    play = driver.play(deployment_id)
    if play.status != "Ready":
        return play
    aws.client("codedeploy").continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
    rest = driver.resume(deployment_id)
    return DeploymentPlay(deployment_id, rest.status, play.steps + rest.steps, rest.rollback_deployment_id)


def hook_functions(world: LocalWorld, config: EnvironmentConfig) -> dict[str, str]:
    """Hook name -> the environment's CodeDeployHook_ function deployed from the template."""
    names = {f.name for f in world.template.functions.values()}
    hooks = {hook.value: hook_function_name(config.name, hook) for hook in Hook}
    missing = sorted(name for name in hooks.values() if name not in names)
    if missing:
        raise SimulationError(f"Tollgate-{config.name} deploys no hook function {', '.join(missing)}")
    return hooks


def _create_deployment(config: EnvironmentConfig, service: str, hooks: dict[str, str]) -> str:
    return create_deployment_of(
        config, service, hooks=hooks, description=f"tollgate simulate: {service} (the release the service runs)"
    )


def _record_approval(world: LocalWorld, config: EnvironmentConfig, deployment_id: str) -> None:
    spec = world.template.function_by_name(hook_function_name(config.name, Hook.BEFORE_ALLOW_TRAFFIC))
    table = (
        function_environment(world.template, spec.logical_id, world.stack).get("TOLLGATE_STATE_TABLE") if spec else None
    )
    if not table:
        raise SimulationError(f"Tollgate-{config.name}'s BeforeAllowTraffic hook has no TOLLGATE_STATE_TABLE")
    approval = Approval(
        deployment_id=deployment_id,
        environment=config.name,
        approved_by=SIMULATION_APPROVER,
        approved_at=datetime.now(UTC),
        reason="approved for the simulation (--approve)",
    )
    try:
        state.record_approval(table, approval)
    except state.StateError as error:
        raise SimulationError(f"cannot record the approval: {error}") from error


@contextmanager
def _stand_in_lms(world: LocalWorld) -> Iterator[LmsService]:
    """A stand-in LMS of our own (same synthetic user), which the hooks are pointed at."""
    secret = aws.client("secretsmanager").get_secret_value(SecretId=synthetic_user_secret_name(world.config.name))
    user = json.loads(secret["SecretString"])
    with LmsService(username=user["username"], password=user["password"]) as lms:
        world.environment_overrides["TOLLGATE_SYNTHETICS_BASE_URL"] = lms.base_url
        yield lms


def _inject_fault(lms: LmsService, config: EnvironmentConfig, service: str, fault: str) -> None:
    if fault == "5xx":
        lms.faults.status = INJECTED_STATUS
    elif fault == "slow":
        lms.faults.delay_seconds = slow_delay_seconds(config, service)
    elif fault == "wrong-json":
        lms.faults.wrong_json = True
    elif fault == "refused":
        lms.stop()


def slow_delay_seconds(config: EnvironmentConfig, service: str) -> float:
    """Slower than every latency budget of the service's flows, yet within the request timeout."""
    budgets = [
        step.latency_budget_ms
        for flow in config.checks.flows.values()
        if flow.service == service
        for step in flow.steps
        if step.latency_budget_ms
    ]
    wanted = max(budgets, default=1000) / 1000 + 0.5
    return min(wanted, max(config.checks.request_timeout_seconds - 1, 0.5))


def put_healthy_target_metrics(config: EnvironmentConfig, service: str) -> None:
    """A minute of healthy ALB metrics for the replacement (green) target group, so metric gates have data.

    A fresh world routes every service's production rule to blue, so green is the replacement.
    """
    green = config.lms.services[service].target_groups.green
    if not green:
        return
    dimensions = [
        {"Name": "TargetGroup", "Value": green},
        {"Name": "LoadBalancer", "Value": config.lms.load_balancer},
    ]
    at = datetime.now(UTC) - timedelta(minutes=1)
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": 1000.0, "Timestamp": at},
            {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dimensions, "Value": 0.0, "Timestamp": at},
            {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Value": 0.05, "Timestamp": at},
        ],
    )
