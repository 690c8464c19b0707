"""Play one scenario on a fresh embedded AWS world, on a virtual clock, and judge it against its expectations.

The release is a new task definition revision (image tag ``release.version``) of the service. Blue/green
environments play a CodeDeploy deployment of it with ``CodeDeployEcsDriver`` and the real hook functions;
development plays an ECS rolling update (UpdateService) with the ECS state-change events. Every event goes
through the template's rules to the real notifier and rollback functions, exactly like ``tollgate replay``.

Time is virtual: each lifecycle step takes ``step_seconds``; an injected event fires during the step whose
window holds its ``at`` (after that step's hook ran, so a StopDeployment lands "while the hook ran"), and
the rest during the ``watch`` after the deployment ended. The functions themselves read the wall clock, a
few seconds apart: the virtual clock orders and stamps what happens, it does not make AWS wait.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, Hook, Strategy
from lambdas.core.tollgate_events import DetailType
from lambdas.hooks import state
from lambdas.hooks.policy import Approval
from lambdas.rollback.adapters.deployments import ROLLBACK_DESCRIPTION_PREFIX
from tollgate.embedded_aws import extensions
from tollgate.embedded_aws.codedeploy_driver import CodeDeployEcsDriver, DeploymentPlay
from tollgate.embedded_aws.seed import create_deployment_of, synthetic_user_secret_name
from tollgate.local.alb_traffic import AlbTrafficModel, NewVersionFault
from tollgate.local.deploy import function_environment
from tollgate.local.lms_service import LmsService
from tollgate.local.replay import LocalWorld, Report, local_world
from tollgate.local.simulation import REPORT_WAIT_SECONDS, hook_functions
from tollgate.local.slack_clicks import signed_click
from tollgate.local.template import LOCAL_TIME_SCALE, local_seconds
from tollgate.scenarios.injections import (
    alarm_event,
    ecs_deployment_event,
    operator_request_event,
    operator_rollback_event,
)
from tollgate.scenarios.schema import (
    Capability,
    Injection,
    OperatorAction,
    OperatorInjection,
    Outcome,
    Scenario,
    Version,
)
from tollgate.scenarios.timeline import ScenarioResult, TimelineEntry

EntrySink = Callable[[TimelineEntry], None]

# Parts of Tollgate this runner can drive: the canary's Step Functions controller plays in the embedded AWS.
AVAILABLE_CAPABILITIES: frozenset[Capability] = frozenset({Capability.CANARY_CONTROLLER})
OPERATOR_REQUESTS = {
    OperatorAction.APPROVE: DetailType.APPROVE_REQUESTED,
    OperatorAction.REJECT: DetailType.REJECT_REQUESTED,
    OperatorAction.PROMOTE: DetailType.CANARY_PROMOTE_REQUESTED,
    OperatorAction.ABORT: DetailType.CANARY_ABORT_REQUESTED,
}
CAPABILITY_NAMES = {Capability.CANARY_CONTROLLER: "the canary controller"}

APPROVAL_SOURCE = "tollgate-scenario"
_REQUESTS_PER_STEP = 1000.0  # ALB requests per step put for the metric gates and the picture


def play_scenario(
    scenario: Scenario,
    *,
    source: str = "",
    on_entry: EntrySink | None = None,
    available: frozenset[Capability] = AVAILABLE_CAPABILITIES,
) -> ScenarioResult:
    result = ScenarioResult(
        name=scenario.name,
        title=scenario.title,
        environment=scenario.environment,
        source=source,
        expected=scenario.expect.outcome.value,
    )
    missing = [c for c in scenario.requires if c not in available]
    if missing:
        result.skipped = "needs " + ", ".join(CAPABILITY_NAMES.get(c, c.value) for c in missing)
        return result
    started = time.monotonic()
    with local_world(scenario.environment) as world, _stand_in_lms(world) as lms:
        play = _Play(scenario, world, lms, result, on_entry or (lambda _entry: None))
        play.run()
    result.wall_seconds = time.monotonic() - started
    result.mismatches = judge(scenario, result, play.facts)
    return result


class _Play:
    def __init__(
        self, scenario: Scenario, world: LocalWorld, lms: LmsService, result: ScenarioResult, sink: EntrySink
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.config: EnvironmentConfig = world.config
        self.lms = lms
        self.healthy_url = lms.base_url
        self.result = result
        self.sink = sink
        self.now = 0
        self.pending = sorted(scenario.events, key=lambda e: e.at)
        self.service = scenario.release.service
        self.lms_service = self.config.lms.services[self.service]
        self.new_task_definition = ""
        self.old_task_definition = ""
        self.hook_payloads: dict[str, tuple[str, dict[str, str]]] = {}
        self.played_deployments: set[str] = set()
        self._production_listeners: list[str] | None = None  # the wiring does not change during a play
        self.facts: dict[str, Any] = {"new_percents": [], "database_restored": False, "failed_gate": None}
        self.canary = self.config.deployment.strategy is Strategy.CANARY
        self.traffic: AlbTrafficModel | None = None
        # (monotonic, virtual now, virtual end) of a wait the wall clock drives: an approval, the post-shift window
        self._wait_started: tuple[float, int, int] | None = None

    # -- the story ------------------------------------------------------------------------------------

    def run(self) -> None:
        _give_the_database_a_backup_history(self.config.lms.rds_cluster)
        self.old_task_definition, self.new_task_definition = self._register_release()
        if self.config.deployment.strategy is Strategy.ROLLING:
            self._play_rolling()
        else:
            self._play_blue_green()
        end = self.now + self.scenario.watch
        while self.pending:  # what the scenario injects after the deployment ended: the watch window
            self._fire(self.pending.pop(0))
            self._play_tollgate_rollbacks()
        self.now = max(self.now, end)
        self.result.duration_seconds = self.now
        self.facts["final_new_percent"] = self._new_percent()
        serving = self._serving_task_definition()
        if serving == self.new_task_definition:
            self.result.actual = Outcome.SUCCEEDED.value
        elif serving == self.old_task_definition:
            self.result.actual = Outcome.ROLLED_BACK.value
        else:
            self.result.actual = f"serving {serving.rsplit('/', 1)[-1]} (neither the release nor the one before)"
        self.result.messages = self.world.messages_sent()

    def _play_blue_green(self) -> None:
        hooks = hook_functions(self.world, self.config)
        # The account's history: the running revision was itself deployed and succeeded, so the release's
        # previousRevision names it (what "redeploy the previous revision" reads), as in a real account.
        history = create_deployment_of(
            self.config, self.service, task_definition_arn=self.old_task_definition, description="the running release"
        )
        extensions.set_deployment_status(history, "Succeeded")
        self.played_deployments.add(history)
        deployment_id = create_deployment_of(
            self.config,
            self.service,
            task_definition_arn=self.new_task_definition,
            hooks=hooks,
            description=f"{self.service} {self.scenario.release.version} (scenario {self.scenario.name})",
        )
        self.result.deployment_id = deployment_id
        self.played_deployments.add(deployment_id)
        self._entry("deployment created", verdict=f"{deployment_id}: {self.scenario.release.version}")
        driver = self._driver()
        # ALB traffic follows the listener's split (the canary and the post-shift metric gate judge it).
        self.traffic = AlbTrafficModel(self.config, self.service)
        self.world.task_preludes.append(self._before_state_machine_task)
        self.world.task_listeners.append(self._on_state_machine_task)
        with self.traffic:
            play = driver.play(deployment_id)
            if play.status == "Ready":
                play = self._continue_from_ready(driver, play)
        self.result.deployment_status = play.status
        if play.status in ("Failed", "Stopped"):
            self.result.rollbacks += 1  # CodeDeploy put traffic back on the original task set
            failed = [s for s in play.steps if s.outcome == "Failed"]
            self.facts["failed_gate"] = failed[0].name if failed else None
            self._entry(
                f"deployment {play.status.lower()}",
                verdict="traffic back on the original task set",
                decision="CodeDeploy auto rollback",
            )
        self._play_tollgate_rollbacks()

    def _driver(self) -> CodeDeployEcsDriver:
        return CodeDeployEcsDriver(
            invoke_hook=self._invoke_hook,
            emit_event=self._emit,
            report_wait_seconds=REPORT_WAIT_SECONDS,
            while_waiting=self._while_state_machine_runs,
        )

    # -- the canary (its state machine runs on the embedded AWS's own threads) ---------------------------

    def _while_state_machine_runs(self, hook: str, deployment_id: str) -> None:
        """While a state machine holds a hook (the canary, the post-shift watch): the faults active now shape
        the new version's ALB metrics, and due events fire. The virtual clock moves with the canary's bake
        polls (see ``_on_state_machine_task``), and with the wall clock (times LOCAL_TIME_SCALE) while an
        approval or the post-shift window is waited for."""
        if self._wait_started is not None:
            started, virtual, end = self._wait_started
            self.now = max(self.now, min(end, virtual + int((time.monotonic() - started) * LOCAL_TIME_SCALE)))
        if self.traffic is not None:
            active = [f for f in self.scenario.lms if f.version is Version.NEW and f.active_at(self.now)]
            self.traffic.fault = NewVersionFault(
                error_percent=max((f.error_percent for f in active), default=0.0),
                extra_latency_seconds=max((f.latency_ms for f in active), default=0) / 1000,
                from_percent=min((f.from_percent for f in active), default=0),
            )
        self._fire_due()

    def _before_state_machine_task(self, _function: str, payload: Any) -> None:
        """The post-shift watch checks AfterAllowTraffic once its window has passed: what the scenario has due
        within the window (an alarm storm, say) happens first, however late the driver's last look was on a
        loaded machine."""
        if isinstance(payload, dict) and "ShiftedAt" in payload and self._wait_started is not None:
            self.now = max(self.now, self._wait_started[2])
            self._while_state_machine_runs(Hook.AFTER_ALLOW_TRAFFIC.value, str(payload.get("DeploymentId", "")))

    def _on_state_machine_task(self, function: str, payload: Any, report: Report) -> None:
        """Each task of the canary's execution (the steps that change or judge traffic go on the timeline), and
        AfterAllowTraffic run by the post-shift watch once the window after the shift has passed."""
        first = report.results[0] if report.results else {}
        if isinstance(payload, dict) and "ShiftedAt" in payload:
            if self._wait_started is not None:  # the window has passed, however long the machine took
                self.now = max(self.now, self._wait_started[2])
            self._wait_started = None
            self._keep("hook AfterAllowTraffic (after the shift window)", report)
            passed = first.get("decision") == "Succeeded"
            self._entry(
                "AfterAllowTraffic checks",
                check=f"{self._checks_of(Hook.AFTER_ALLOW_TRAFFIC.value)} over the window after the shift",
                verdict=f"{'pass' if passed else 'fail'}: {first.get('reason', report.reason)}"[:300],
                alerts=report.notifications,
                gate="pass" if passed else "fail",
            )
            return
        action = str(payload.get("action", "")) if isinstance(payload, dict) else ""
        self._keep(f"canary {action}", report)
        output = first.get("output") if isinstance(first.get("output"), dict) else {}
        outcome = str((output or {}).get("outcome", first.get("decision", "")))
        reason = str((output or {}).get("reason", first.get("reason", "")))
        step = payload.get("step_percent") if isinstance(payload, dict) else None
        approval_deadline = self.now + self.config.deployment.approval_timeout_seconds
        self._wait_started = (
            (time.monotonic(), self.now, approval_deadline)
            if action == "await_approval" and outcome == "waiting"
            else None
        )
        if action == "bake":
            # Each bake check follows one Wait of the poll interval: the state machine's own pace, in virtual time.
            self.now += self._bake_poll_virtual_seconds()
        if action == "bake" and outcome == "baking":
            return  # a poll of the bake: nothing changed
        label = {
            "await_approval": "approval wait",
            "shift": f"canary shift {step}%",
            "bake": f"canary bake {step}%",
            "analyse": f"canary analysis {step}%",
            "succeed": "canary report",
            "fail": "canary report",
        }.get(action, f"canary {action}")
        gate = {"passed": "pass", "failed": "fail"}.get(outcome, "")
        self._entry(
            label,
            check="canary vs baseline" if action == "analyse" else "",
            verdict=f"{outcome}: {reason}"[:300],
            alerts=report.notifications,
            gate=gate,
        )

    def _bake_poll_virtual_seconds(self) -> int:
        """The poll Wait as synthesized locally (scaled down, at least a second), scaled back up."""
        return local_seconds(self.config.deployment.bake_poll_seconds) * LOCAL_TIME_SCALE

    def _continue_from_ready(self, driver: CodeDeployEcsDriver, play: DeploymentPlay) -> DeploymentPlay:
        """Ready waits for a person: the operator events up to the approval fire, then the pipeline continues."""
        self._entry("Ready", verdict="waiting for ContinueDeployment (approval)")
        while self.pending:
            event = self.pending.pop(0)
            self._fire(event)
            if event.operator and event.operator.action in (OperatorAction.APPROVE, OperatorAction.REJECT):
                break
        aws.client("codedeploy").continue_deployment(deploymentId=play.deployment_id, deploymentWaitType="READY_WAIT")
        rest = driver.resume(play.deployment_id)
        return DeploymentPlay(play.deployment_id, rest.status, play.steps + rest.steps, rest.rollback_deployment_id)

    def _play_rolling(self) -> None:
        ecs = aws.client("ecs")
        cluster, name = self.config.lms.ecs_cluster, self.lms_service.ecs_service
        self._apply_faults()
        ecs.update_service(cluster=cluster, service=name, taskDefinition=self.new_task_definition)
        deployment_id = _start_ecs_deployment(cluster, name, self.new_task_definition)
        self.result.deployment_id = deployment_id
        self._entry("UpdateService", verdict=f"rolling update to {self.scenario.release.version}")
        # The ARN as EventBridge delivers it from the LMS's account (the embedded AWS has one local account).
        service_arn = f"arn:aws:ecs:{self.config.region}:{self.config.account}:service/{cluster}/{name}"
        self._emit_ecs(service_arn, deployment_id, "SERVICE_DEPLOYMENT_IN_PROGRESS")
        for _ in range(2):  # the rollout takes two steps; alarms may come while it runs
            self._put_metrics()
            self.now += self.scenario.step_seconds
            self._fire_due()
            self._play_tollgate_rollbacks()
        still_new = self._serving_task_definition() == self.new_task_definition
        if still_new:
            _set_ecs_rollout_state(cluster, name, deployment_id, "COMPLETED")
            self._emit_ecs(service_arn, deployment_id, "SERVICE_DEPLOYMENT_COMPLETED")
        self.result.deployment_status = "Succeeded" if still_new else "Rolled back"

    # -- callbacks of the driver ----------------------------------------------------------------------

    def _invoke_hook(self, hook: str, function_name: str, payload: dict[str, str]) -> None:
        self._apply_faults()
        self._put_metrics()
        self.hook_payloads[hook] = (function_name, payload)
        report = self.world.replay(payload, function=function_name)
        self._keep(f"hook {hook}", report)
        own = report.results[0] if report.results else {"decision": report.decision, "reason": report.reason}
        passed = own["decision"] == "Succeeded"
        # The canary's execution or the post-shift watch reports the hook.
        handed_over = own["decision"] in ("started", "duplicate", "watching")
        self._entry(
            hook,
            check=self._checks_of(hook),
            verdict=f"{own['decision'] if handed_over else 'pass' if passed else 'fail'}: {own['reason']}",
            alerts=report.notifications,
            gate="" if handed_over else "pass" if passed else "fail",
        )
        self.now += self.scenario.step_seconds
        if own["decision"] == "watching":  # the virtual clock follows the post-shift window's wall clock
            window = self.config.thresholds.evaluation_window_minutes * 60
            self._wait_started = (time.monotonic(), self.now, self.now + window)
        self._fire_due()

    def _emit(self, event: dict[str, Any]) -> None:
        report = self.world.replay(event)
        state_name = event["detail"]["state"]
        self._keep(f"event {state_name}", report)
        self._entry(f"CodeDeploy {state_name}", alerts=report.notifications)

    def _emit_ecs(self, service_arn: str, deployment_id: str, event_name: str) -> None:
        report = self.world.replay(ecs_deployment_event(self.config, service_arn, deployment_id, event_name))
        self._keep(f"event {event_name}", report)
        self._entry(f"ECS {event_name.removeprefix('SERVICE_DEPLOYMENT_')}", alerts=report.notifications)

    # -- injected events ------------------------------------------------------------------------------

    def _fire_due(self) -> None:
        # Held, so that the driver's thread and a state machine task's (``_before_state_machine_task``) fire the
        # due events one at a time and in order.
        with self.world.paused():
            while self.pending and self.pending[0].at < self.now:
                self._fire(self.pending.pop(0))

    def _fire(self, event: Injection) -> None:
        # Stamped at its own moment (inside the step that just ran, or later), never before the last entry.
        step_end = self.now
        self.now = max(event.at, self.result.timeline[-1].t if self.result.timeline else 0)
        if event.alarm:
            service = event.alarm.service or self.service
            reports = [
                self.world.replay(alarm_event(self.config, service, event.alarm.kind)) for _ in range(event.alarm.count)
            ]
            label = f"alarm {event.alarm.kind.value}" + (f" x{event.alarm.count}" if event.alarm.count > 1 else "")
            for report in reports:
                self._keep(label, report)
            self._entry(
                label,
                verdict=f"ALARM on {service}",
                decision=_decisions(reports),
                alerts=[n for r in reports for n in r.notifications],
            )
        elif event.operator:
            self._operator(event.operator)
        elif event.duplicate_hook:
            self._duplicate_hook(event.duplicate_hook)
        elif event.operator_rollback:
            request = event.operator_rollback
            services = request.services or (self.service,)
            report = self.world.replay(
                operator_rollback_event(
                    self.config,
                    rollback_type=request.type.value,
                    services=services,
                    confirmed=request.confirmed,
                    by=request.by,
                )
            )
            self._keep(f"operator rollback {request.type.value}", report)
            restored = [
                c
                for c in report.aws_calls
                if c["operation"].startswith("RestoreDBCluster") and not c.get("error")  # point-in-time restore
            ]
            self.facts["database_restored"] = self.facts["database_restored"] or bool(restored)
            self._entry(
                f"operator rollback ({request.type.value})",
                check=f"requested by {request.by}: {', '.join(services)}",
                verdict=report.reason,
                decision=_decisions([report]),
                alerts=report.notifications,
            )
        self.now = max(self.now, step_end)

    def _operator(self, operator: OperatorInjection) -> None:
        action, by = operator.action, operator.by
        slack_user = self._slack_user(by)
        if self.canary and slack_user:
            # The operator clicks the living message's button: a signed interactivity request to Tollgate's
            # Slack function, which puts the same request on Tollgate's bus as the CLI does.
            click = signed_click(
                f"tollgate_{action.value}",
                deployment_id=self.result.deployment_id,
                service=self.service,
                user_id=slack_user,
                at=time.time(),
            )
            report = self.world.replay(click, function="SlackActions")
            self._keep(f"Slack {action.value}", report)
            self._entry(
                f"Slack button {action.value}", check=f"clicked by {by} ({slack_user})", decision=_decisions([report])
            )
            return
        if self.canary:
            # The same request `tollgate approve|reject|canary promote|abort --live` puts on Tollgate's bus.
            detail: dict[str, Any] = {"by": by, "reason": f"scenario {self.scenario.name}"}
            if action in (OperatorAction.APPROVE, OperatorAction.REJECT):
                detail["deployment_id"] = self.result.deployment_id
            else:
                detail["service"] = self.service
            report = self.world.replay(operator_request_event(self.config, OPERATOR_REQUESTS[action].value, detail))
            self._keep(f"operator {action.value}", report)
            self._entry(
                f"operator {action.value}", check=f"by {by}", decision=_decisions([report]), verdict=report.reason[:300]
            )
            return
        if action is OperatorAction.APPROVE:
            self._record_approval(by)
            self._entry(f"operator {action.value}", check=f"by {by}", decision="approval recorded")
        else:
            # Today's blue/green flow has only the approval; promote/abort need the canary controller (the
            # schema refuses them without `requires: [canary-controller]`), reject is the absence of an approval.
            self._entry(f"operator {action.value}", check=f"by {by}", decision="no approval recorded")

    def _slack_user(self, approver: str) -> str | None:
        """The Slack user the config maps to this approver, where the environment has Slack buttons."""
        alerts = self.config.alerts
        if not alerts.slack_signing_secret:
            return None
        return next((user for user, name in sorted(alerts.slack_approvers.items()) if name == approver), None)

    def _duplicate_hook(self, hook: Hook) -> None:
        if hook.value not in self.hook_payloads:
            self._entry(f"duplicate {hook.value}", verdict="the hook had not run yet: nothing to duplicate")
            return
        function_name, payload = self.hook_payloads[hook.value]
        report = self.world.replay(payload, function=function_name)
        self._keep(f"duplicate hook {hook.value}", report)
        own = report.results[0] if report.results else {"reason": report.reason}
        self._entry(f"duplicate {hook.value}", check="same execution id again", verdict=str(own["reason"]))

    def _record_approval(self, by: str) -> None:
        spec = self.world.template.function_by_name(
            hook_functions(self.world, self.config)[Hook.BEFORE_ALLOW_TRAFFIC.value]
        )
        table = (
            function_environment(self.world.template, spec.logical_id, self.world.stack).get("TOLLGATE_STATE_TABLE")
            if spec
            else None
        )
        if not table or not self.result.deployment_id:
            return
        state.record_approval(
            table,
            Approval(
                deployment_id=self.result.deployment_id,
                environment=self.config.name,
                approved_by=by,
                approved_at=datetime.now(UTC),
                reason=f"approved in scenario {self.scenario.name}",
            ),
        )

    # -- rollbacks Tollgate started -------------------------------------------------------------------

    def _play_tollgate_rollbacks(self) -> None:
        """Redeployments of the previous revision the rollback function created are played like any deployment."""
        if not self.config.lms.codedeploy_application or not self.lms_service.deployment_group:
            return
        codedeploy = aws.client("codedeploy")
        listed = codedeploy.list_deployments(
            applicationName=self.config.lms.codedeploy_application,
            deploymentGroupName=self.lms_service.deployment_group,
        )["deployments"]
        for deployment_id in listed:
            if deployment_id in self.played_deployments:
                continue
            info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            if info.get("status") != "Created" or not str(info.get("description", "")).startswith(
                ROLLBACK_DESCRIPTION_PREFIX
            ):
                continue
            self.played_deployments.add(deployment_id)
            self.result.rollbacks += 1
            self.now += self.scenario.step_seconds
            driver = self._driver()
            self._wait_started = None
            play = driver.play(deployment_id)
            if play.status == "Ready":
                codedeploy.continue_deployment(deploymentId=deployment_id, deploymentWaitType="READY_WAIT")
                play = driver.resume(deployment_id)
            self._entry(
                "rollback deployment",
                verdict=f"{deployment_id} {play.status}: the previous revision serves",
                decision="redeployed the previous revision",
            )

    # -- the world ------------------------------------------------------------------------------------

    def _register_release(self) -> tuple[str, str]:
        """The new release: the running task definition again, with the release's image tag."""
        ecs = aws.client("ecs")
        current = ecs.describe_services(cluster=self.config.lms.ecs_cluster, services=[self.lms_service.ecs_service])[
            "services"
        ][0]["taskDefinition"]
        definition = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        containers = []
        for container in definition["containerDefinitions"]:
            image = str(container.get("image", "")).rsplit(":", 1)[0]
            containers.append({**container, "image": f"{image}:{self.scenario.release.version}"})
        kept = ("executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory")
        new = ecs.register_task_definition(
            family=definition["family"],
            containerDefinitions=containers,
            **{k: definition[k] for k in kept if definition.get(k)},
        )["taskDefinition"]["taskDefinitionArn"]
        return str(current), str(new)

    def _faults_now(self, version: Version) -> dict[str, Any]:
        share = self._new_percent() if any(f.from_percent for f in self.scenario.lms) else 0
        active = [
            f
            for f in self.scenario.lms
            if f.version is version and f.active_at(self.now) and (not f.from_percent or share >= f.from_percent)
        ]
        return {
            "error_percent": max((f.error_percent for f in active), default=0.0),
            "latency_ms": max((f.latency_ms for f in active), default=0),
            "wrong_answers": any(f.wrong_answers for f in active),
            "refused": any(f.refused for f in active),
        }

    def _apply_faults(self) -> None:
        """The stand-in LMS is the new version the hooks check: switch its faults to the ones active now."""
        faults = self._faults_now(Version.NEW)
        self.lms.faults.error_percent = faults["error_percent"]
        self.lms.faults.delay_seconds = faults["latency_ms"] / 1000
        self.lms.faults.wrong_json = faults["wrong_answers"]
        self.world.environment_overrides["TOLLGATE_SYNTHETICS_BASE_URL"] = (
            _refusing_url() if faults["refused"] else self.healthy_url
        )

    def _put_metrics(self) -> None:
        """A minute of ALB metrics per target group, from the faults of the version it serves."""
        blue, green = self.lms_service.target_groups.blue, self.lms_service.target_groups.green
        serving = self._task_definitions_by_target_group()
        at = datetime.now(UTC) - timedelta(minutes=1)
        data = []
        for target_group in (blue, green):
            if not target_group:
                continue
            version = Version.NEW if serving.get(target_group) == self.new_task_definition else Version.OLD
            faults = self._faults_now(version)
            dimensions = [
                {"Name": "TargetGroup", "Value": target_group},
                {"Name": "LoadBalancer", "Value": self.config.lms.load_balancer},
            ]
            errors = _REQUESTS_PER_STEP * faults["error_percent"] / 100
            latency = 0.05 + faults["latency_ms"] / 1000
            data += [
                {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": _REQUESTS_PER_STEP, "Timestamp": at},
                {"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dimensions, "Value": errors, "Timestamp": at},
                {"MetricName": "TargetResponseTime", "Dimensions": dimensions, "Value": latency, "Timestamp": at},
            ]
        if data:
            aws.client("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)

    def _task_definitions_by_target_group(self) -> dict[str, str]:
        """Short target group name (``targetgroup/...``) -> the task definition serving behind it."""
        service = aws.client("ecs").describe_services(
            cluster=self.config.lms.ecs_cluster, services=[self.lms_service.ecs_service]
        )["services"][0]
        found: dict[str, str] = {}
        for task_set in service.get("taskSets", []):
            if task_set.get("status") == "DRAINING":
                continue
            for balancer in task_set.get("loadBalancers", []):
                found[_short(balancer["targetGroupArn"])] = task_set["taskDefinition"]
        for balancer in service.get("loadBalancers", []):
            found.setdefault(_short(balancer["targetGroupArn"]), service["taskDefinition"])
        blue = self.lms_service.target_groups.blue
        found.setdefault(blue, service["taskDefinition"] if not service.get("taskSets") else self.old_task_definition)
        return found

    def _weights(self) -> dict[str, int]:
        """Production traffic share per short target group name, from the listener rule CodeDeploy rewrites."""
        blue = self.lms_service.target_groups.blue
        if self.config.deployment.strategy is Strategy.ROLLING:
            return {blue: 100}
        elbv2 = aws.client("elbv2")
        if self._production_listeners is None:
            listeners = elbv2.describe_listeners(LoadBalancerArn=_load_balancer_arn(self.config.lms.load_balancer))
            self._production_listeners = [
                listener["ListenerArn"]
                for listener in listeners["Listeners"]
                if listener["Port"] == self.config.lms.production_listener_port
            ]
        for listener_arn in self._production_listeners:
            rules = elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
            # The first rule that matches wins: the canary's own rule sits before the service's (lower number).
            rules.sort(key=lambda r: int(r["Priority"]) if str(r.get("Priority")).isdigit() else 1_000_000)
            for rule in rules:
                groups = [
                    tg
                    for action in rule.get("Actions", [])
                    for tg in action.get("ForwardConfig", {}).get("TargetGroups", [])
                ]
                weights = {_short(tg["TargetGroupArn"]): int(tg.get("Weight", 0)) for tg in groups}
                if blue in weights:
                    return weights
        return {blue: 100}

    def _new_percent(self) -> int:
        serving = self._task_definitions_by_target_group()
        weights = self._weights()
        total = sum(weights.values()) or 1
        new = sum(w for tg, w in weights.items() if serving.get(tg) == self.new_task_definition)
        return round(100 * new / total)

    def _serving_task_definition(self) -> str:
        weights = self._weights()
        top = max(weights, key=lambda tg: weights[tg])
        return self._task_definitions_by_target_group().get(top, self.old_task_definition)

    # -- recording ------------------------------------------------------------------------------------

    def _keep(self, trigger: str, report: Report) -> None:
        self.result.reports.append({"at": self.now, "trigger": trigger, **report.as_dict()})
        self.result.alerts.extend(report.notifications)
        self.result.stop_deployments += sum(
            1
            for c in report.aws_calls
            if c["service"] == "codedeploy" and c["operation"] == "StopDeployment" and not c.get("error")
        )
        if self.config.deployment.strategy is Strategy.ROLLING:
            self.result.rollbacks += sum(
                1
                for c in report.aws_calls
                if c["service"] == "ecs" and c["operation"] == "UpdateService" and not c.get("error")
            )

    def _entry(
        self,
        step: str,
        *,
        check: str = "",
        verdict: str = "",
        decision: str = "",
        alerts: list[dict[str, Any]] | None = None,
        gate: str = "",
    ) -> None:
        new_percent = self._new_percent()
        errors_new = self._faults_now(Version.NEW)["error_percent"]
        errors_old = self._faults_now(Version.OLD)["error_percent"]
        entry = TimelineEntry(
            t=self.now,
            step=step,
            new_percent=new_percent,
            check=check,
            verdict=verdict,
            decision=decision,
            alerts=tuple(f"{n['channel']} {n['to']}: {n['summary']}" for n in alerts or []),
            error_percent=round((new_percent * errors_new + (100 - new_percent) * errors_old) / 100, 2),
            gate=gate,
        )
        self.facts["new_percents"].append(new_percent)
        self.result.timeline.append(entry)
        self.sink(entry)

    def _checks_of(self, hook: str) -> str:
        checks = self.config.checks.hooks.get(Hook(hook), {}).get(self.service)
        parts = list(checks.flows) if checks else []
        if checks and checks.metric_gate:
            parts.append("metric gate")
        if hook == Hook.BEFORE_INSTALL.value:
            parts.append("change freeze")
        if hook == Hook.BEFORE_ALLOW_TRAFFIC.value and self.config.deployment.requires_approval:
            parts.append("approval")
        return ", ".join(parts) or "no checks"


def _decisions(reports: list[Report]) -> str:
    """What the functions decided, counted: "Rollback: rollback x1, skipped x24"."""
    counts: dict[str, int] = {}
    for report in reports:
        for result in report.results:
            if result["function"].startswith("Notifier"):
                continue
            word = f"{result['function'].rsplit('/', 1)[-1]}: {result['decision']}"
            counts[word] = counts.get(word, 0) + 1
    return ", ".join(f"{word}" + (f" x{n}" if n > 1 else "") for word, n in counts.items())


def judge(scenario: Scenario, result: ScenarioResult, facts: dict[str, Any]) -> list[str]:
    """Every way the result differs from the scenario's expectations, one sentence each."""
    expect = scenario.expect
    problems = []
    if result.actual != expect.outcome.value:
        problems.append(f"expected {expect.outcome.value}, got {result.actual}")
    if expect.deployment_status and result.deployment_status != expect.deployment_status:
        problems.append(f"expected the deployment {expect.deployment_status}, it ended {result.deployment_status}")
    if expect.stop_deployments is not None and result.stop_deployments != expect.stop_deployments:
        problems.append(f"expected {expect.stop_deployments} StopDeployment call(s), saw {result.stop_deployments}")
    if expect.rollbacks is not None and result.rollbacks != expect.rollbacks:
        problems.append(f"expected {expect.rollbacks} rollback(s), saw {result.rollbacks}")
    if expect.failed_gate and facts.get("failed_gate") != expect.failed_gate.value:
        problems.append(f"expected the {expect.failed_gate.value} gate to fail, failed: {facts.get('failed_gate')}")
    summaries = [f"{a['channel']} {a['to']}: {a['summary']}" for a in result.alerts]
    for wanted in expect.alerts:
        if not any(wanted in s for s in summaries):
            problems.append(f"expected an alert containing {wanted!r}, none was sent")
    for unwanted in expect.no_alerts:
        if any(unwanted in s for s in summaries):
            problems.append(f"expected no alert containing {unwanted!r}, one was sent")
    if expect.database_restored is not None and facts.get("database_restored") != expect.database_restored:
        problems.append(f"expected database restored {expect.database_restored}, was {facts.get('database_restored')}")
    if expect.canary_steps is not None:
        seen = _steps_seen(facts.get("new_percents", []))
        if tuple(seen) != expect.canary_steps:
            problems.append(f"expected canary steps {list(expect.canary_steps)}, saw {seen}")
    if expect.final_traffic_percent is not None and facts.get("final_new_percent") != expect.final_traffic_percent:
        saw = facts.get("final_new_percent")
        problems.append(f"expected {expect.final_traffic_percent}% on the new version at the end, saw {saw}%")
    return problems


def _steps_seen(percents: list[int]) -> list[int]:
    """The new version's traffic shares as they rose, e.g. [10, 50, 100]."""
    seen: list[int] = []
    for p in percents:
        if p > 0 and (not seen or p > seen[-1]):
            seen.append(p)
    return seen


def _short(target_group_arn: str) -> str:
    at = target_group_arn.find("targetgroup/")
    return target_group_arn[at:] if at >= 0 else target_group_arn


def _load_balancer_arn(short_name: str) -> str:
    balancers = aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
    return next((b["LoadBalancerArn"] for b in balancers if b["LoadBalancerArn"].endswith(short_name)), "")


def _moto_ecs_service(cluster: str, service_name: str) -> Any:
    from moto.ecs import models as ecs_models  # noqa: PLC0415 - local runtime only: the embedded AWS's state

    for account_backends in dict.values(ecs_models.ecs_backends):
        for backend in dict.values(account_backends):
            for service in backend.services.values():
                if service.name == service_name and service.cluster_arn.endswith(f"/{cluster}"):
                    return service
    raise LookupError(f"no ECS service {service_name} in {cluster}")


def _start_ecs_deployment(cluster: str, service_name: str, task_definition_arn: str) -> str:
    """What ECS does on UpdateService with a new task definition and moto does not: a new PRIMARY deployment
    (rolloutState IN_PROGRESS) for it, the one before becoming ACTIVE.
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
    """
    service = _moto_ecs_service(cluster, service_name)
    now = datetime.now(UTC)
    template = dict(service.deployments[0]) if service.deployments else {}
    for deployment in service.deployments:
        deployment["status"] = "ACTIVE"
    deployment_id = f"ecs-svc/{uuid.uuid4().int % 10**19}"
    template.update(
        id=deployment_id,
        status="PRIMARY",
        taskDefinition=task_definition_arn,
        rolloutState="IN_PROGRESS",
        rolloutStateReason="ECS deployment in progress.",
        createdAt=now,
        updatedAt=now,
    )
    service.deployments.insert(0, template)
    return deployment_id


def _set_ecs_rollout_state(cluster: str, service_name: str, deployment_id: str, rollout_state: str) -> None:
    for deployment in _moto_ecs_service(cluster, service_name).deployments:
        if deployment["id"] == deployment_id:
            deployment.update(rolloutState=rollout_state, updatedAt=datetime.now(UTC))


def _give_the_database_a_backup_history(cluster_id: str | None, days: int = 1) -> None:
    """The seed creates the LMS's cluster just now; a real one has backups from before the release.

    RDS restores only between EarliestRestorableTime and LatestRestorableTime (the backup retention), so a
    database rollback to "one minute before the deployment" needs a cluster older than the deployment.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html
    """
    from moto.rds import models as rds_models  # noqa: PLC0415 - local runtime only: the embedded AWS's state

    if not cluster_id:
        return
    # dict.values() on moto's BackendDicts lists only the backends already created (no side effects).
    for account_backends in dict.values(rds_models.rds_backends):
        for backend in dict.values(account_backends):
            cluster = backend.clusters.get(cluster_id)
            if cluster is not None:
                cluster.earliest_restorable_time = datetime.now(UTC) - timedelta(days=days)


def _refusing_url() -> str:
    """A loopback port nobody listens on: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def _stand_in_lms(world: LocalWorld) -> Iterator[LmsService]:
    """A stand-in LMS of our own (the world's synthetic user) whose faults the scenario switches."""
    secret = aws.client("secretsmanager").get_secret_value(SecretId=synthetic_user_secret_name(world.config.name))
    user = json.loads(secret["SecretString"])
    with LmsService(username=user["username"], password=user["password"]) as lms:
        world.environment_overrides["TOLLGATE_SYNTHETICS_BASE_URL"] = lms.base_url
        yield lms
