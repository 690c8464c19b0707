"""Whole production deployments with the canary's state machine running on the embedded AWS (issue 8).

Each test plays one CodeDeploy blue/green deployment of production's backend: the real hook functions, the
BeforeAllowTraffic starter, the synthesized state machine (waits divided by LOCAL_TIME_SCALE) whose Lambda
tasks reach the real canary task function in-process, and ALB metrics that follow the listener's split.
Operators act while the driver waits for the canary's report, through the CLI or Tollgate's bus.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import Hook, load_environment
from tollgate.cli import main
from tollgate.embedded_aws import extensions
from tollgate.local.deploy import function_environment
from tollgate.local.replay import LocalWorld
from tollgate.local.simulation import Simulation, simulate_deployment
from tollgate.local.slack_clicks import signed_click
from tollgate.local.template import local_seconds
from tollgate.scenarios.injections import operator_request_event

# A step's bake as the local state machine has it.
BAKE_SECONDS = local_seconds(load_environment("production").deployment.bake_seconds)


def _task_table(world: LocalWorld) -> str:
    spec = world.template.function_by_name("Canary/Task")
    assert spec is not None
    return function_environment(world.template, spec.logical_id, world.stack)["TOLLGATE_STATE_TABLE"]


def _record(world: LocalWorld, pk: str, sk: str) -> dict[str, Any] | None:
    item = aws.client("dynamodb").get_item(TableName=_task_table(world), Key={"pk": {"S": pk}, "sk": {"S": sk}})
    found: dict[str, Any] | None = item.get("Item")
    return found


def _canary_actions(simulation: Simulation) -> list[tuple[str, Any, str]]:
    return [(c["action"], c["step_percent"], c["outcome"]) for c in simulation.canary if c["outcome"] != "baking"]


def _before_allow_traffic_reports(world: LocalWorld, simulation: Simulation) -> list[str]:
    deployment = simulation.deployment_id
    executions = {e.execution_id for e in extensions.hook_executions(deployment) if e.hook_name == "BeforeAllowTraffic"}
    return [r.status for r in extensions.reported_hook_statuses(deployment) if r.execution_id in executions]


def _tollgate_rules(world: LocalWorld) -> list[dict[str, Any]]:
    """Listener rules other than the seeded ones: the canary's own split rule, while it exists."""
    elbv2 = aws.client("elbv2")
    (balancer,) = elbv2.describe_load_balancers(Names=[world.config.lms.load_balancer_name])["LoadBalancers"]
    found = []
    for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
        rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        found += [r for r in rules if str(r.get("Priority")).isdigit() and int(r["Priority"]) < 10]
    return found


def _once(action: Callable[[LocalWorld, Simulation], bool]) -> Callable[[LocalWorld, Simulation], None]:
    """A while_waiting callback that acts until ``action`` says it did (then never again)."""
    done = {"yes": False}

    def callback(world: LocalWorld, simulation: Simulation) -> None:
        if not done["yes"]:
            done["yes"] = action(world, simulation)

    return callback


def _baking_at(step_percent: int, simulation: Simulation, *, baked_seconds: int = 0) -> bool:
    """Whether the task just run was a bake poll of the step with bake time still left, and at least
    ``baked_seconds`` of the bake behind it, by the task's own reckoning (its ``bake_left_seconds``).

    Acting from ``after_task`` at this point is deterministic: the execution waits for the listener. What the
    bake has behind it is read from the task, never counted in polls: on a loaded machine each poll (a Wait,
    then the synthetic flows) takes longer, so fewer of them fit in the bake.
    """
    latest = simulation.canary[-1] if simulation.canary else {}
    if (
        latest.get("action") != "bake"
        or latest.get("outcome") != "baking"
        or latest.get("step_percent") != step_percent
    ):
        return False
    return BAKE_SECONDS - int(latest["details"]["bake_left_seconds"]) >= baked_seconds


def _approve(by: str) -> Callable[[LocalWorld, Simulation], None]:
    """A while_waiting callback approving the release once the canary waits for approval."""

    def approve(world: LocalWorld, simulation: Simulation) -> bool:
        if _record(world, f"approval#{simulation.deployment_id}", "waiting") is None:
            return False  # the wait has not begun yet
        request = operator_request_event(
            world.config, "Approve Requested", {"deployment_id": simulation.deployment_id, "by": by, "reason": "ok"}
        )
        world.replay(request)
        simulation.approved = True
        return True

    return _once(approve)


def test_an_approved_healthy_release_goes_10_50_then_100_and_a_duplicate_hook_starts_nothing() -> None:
    seen: dict[str, Any] = {}

    def duplicate_the_hook(world: LocalWorld, simulation: Simulation) -> bool:
        (execution,) = [
            e for e in extensions.hook_executions(simulation.deployment_id) if e.hook_name == "BeforeAllowTraffic"
        ]
        payload = {"DeploymentId": simulation.deployment_id, "LifecycleEventHookExecutionId": execution.execution_id}
        report = world.replay(payload, function=f"CodeDeployHook_tollgate-production-{Hook.BEFORE_ALLOW_TRAFFIC.value}")
        seen["duplicate"] = report.results[0]["decision"]
        return True

    def inspect(world: LocalWorld, simulation: Simulation) -> None:
        seen["reports"] = _before_allow_traffic_reports(world, simulation)
        seen["rules"] = _tollgate_rules(world)
        machines = aws.client("stepfunctions").list_state_machines()["stateMachines"]
        seen["executions"] = [
            e["name"]
            for m in machines
            if m["name"] == "tollgate-production-canary"
            for e in aws.client("stepfunctions").list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        ]

    simulation = simulate_deployment(
        "production", "backend", approve=True, while_waiting=_once(duplicate_the_hook), inspect=inspect
    )

    assert simulation.status == "Succeeded"
    actions = _canary_actions(simulation)
    assert ("shift", 10, "shifted") in actions and ("shift", 50, "shifted") in actions
    assert [a for a in actions if a[0] == "analyse"][-2:] == [("analyse", 10, "passed"), ("analyse", 50, "passed")]
    assert actions[-1] == ("succeed", None, "reported")
    # A duplicated BeforeAllowTraffic invocation found the running execution and started no second one
    assert seen["duplicate"] == "duplicate"
    assert seen["executions"] == [simulation.deployment_id]
    # The hook was reported exactly once, Succeeded, and Tollgate's split rule is gone (CodeDeploy owns traffic)
    assert seen["reports"] == ["Succeeded"]
    assert seen["rules"] == []
    assert [s.name for s in simulation.steps][-2:] == ["AllowTraffic", "AfterAllowTraffic"]


def test_errors_rising_at_50_percent_shift_back_to_blue_fail_the_hook_and_roll_back() -> None:
    seen: dict[str, Any] = {}

    def inspect(world: LocalWorld, simulation: Simulation) -> None:
        seen["reports"] = _before_allow_traffic_reports(world, simulation)
        seen["rules"] = _tollgate_rules(world)

    simulation = simulate_deployment(
        "production", "backend", approve=True, fault="5xx", fault_from_percent=50, inspect=inspect
    )

    assert simulation.status == "Failed"
    assert simulation.rolled_back is True
    analyses = [a for a in _canary_actions(simulation) if a[0] == "analyse"]
    assert analyses[-2:] == [("analyse", 10, "passed"), ("analyse", 50, "failed")]
    assert seen["reports"] == ["Failed"]
    assert seen["rules"] == []  # 100% blue again
    (before,) = [s for s in simulation.steps if s.name == "BeforeAllowTraffic"]
    assert "50% step failed" in before.verdict and "5xx" in before.verdict
    summaries = " | ".join(n["summary"] for n in simulation.notifications)
    assert "Canary step failed" in summaries
    assert "AfterAllowTraffic" not in [s.name for s in simulation.steps]


def test_an_approval_given_while_the_canary_waits_releases_it_and_promote_ends_a_bake_early() -> None:
    seen: dict[str, Any] = {}

    def promote(world: LocalWorld, simulation: Simulation) -> bool:
        if not _baking_at(10, simulation, baked_seconds=BAKE_SECONDS // 2):
            return False  # promote half-way through the bake: the step has traffic data (it is still analysed)
        table = _task_table(world)
        with world.paused():
            seen["promote"] = main(["canary", "promote", "--env", "production", "--service", "backend",
                                    "--by", "lms-lead", "--state-table", table])  # fmt: skip
        return True

    simulation = simulate_deployment(
        "production", "backend", while_waiting=_approve("release-manager"), after_task=_once(promote)
    )

    assert seen["promote"] == 0
    assert simulation.status == "Succeeded"
    actions = _canary_actions(simulation)
    assert actions[0] == ("await_approval", None, "waiting")
    assert ("shift", 10, "shifted") in actions
    announced = [
        entry["DetailType"]
        for triggered in simulation.reports
        for call in triggered.report.aws_calls
        if call["operation"] == "PutEvents"
        for entry in call["params"]["Entries"]
    ]
    assert announced.count("Canary Promoted") == 1


def test_abort_from_the_cli_restores_blue_and_fails_the_hook(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, Any] = {}

    def abort_at_10(world: LocalWorld, simulation: Simulation) -> bool:
        if not _baking_at(10, simulation):
            return False
        table = _task_table(world)
        with world.paused():  # the CLI prints; no handler may redirect stdout meanwhile
            seen["status_code"] = main(["canary", "status", "--env", "production", "--service", "backend",
                                        "--state-table", table, "--json"])  # fmt: skip
            seen["status"] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
            abort = ["canary", "abort", "--env", "production", "--service", "backend", "--by", "lms-lead"]
            seen["abort_code"] = main([*abort, "--reason", "latency looks odd", "--state-table", table])
        return True

    def inspect(world: LocalWorld, simulation: Simulation) -> None:
        seen["rules"] = _tollgate_rules(world)
        seen["reports"] = _before_allow_traffic_reports(world, simulation)

    simulation = simulate_deployment(
        "production", "backend", approve=True, after_task=_once(abort_at_10), inspect=inspect
    )

    assert (seen["status_code"], seen["abort_code"]) == (0, 0)
    assert simulation.status == "Failed"
    assert seen["reports"] == ["Failed"]
    assert seen["rules"] == []
    (before,) = [s for s in simulation.steps if s.name == "BeforeAllowTraffic"]
    assert "aborted by lms-lead" in before.verdict
    # And the status the operator read before aborting named the step, the split and the bake left
    assert seen["status"]["outcome"] == "status"
    assert "running at 10%" in seen["status"]["reason"]
    assert "split blue 90% / green 10%" in seen["status"]["reason"]
    assert "bake left" in seen["status"]["reason"]


def test_a_rejection_fails_the_release_before_any_traffic_moves() -> None:
    def reject(world: LocalWorld, simulation: Simulation) -> bool:
        if _record(world, f"approval#{simulation.deployment_id}", "waiting") is None:
            return False
        request = operator_request_event(
            world.config, "Reject Requested", {"deployment_id": simulation.deployment_id, "by": "lms-lead"}
        )
        world.replay(request)
        return True

    simulation = simulate_deployment("production", "backend", while_waiting=_once(reject))

    assert simulation.status == "Failed"
    assert not [a for a in _canary_actions(simulation) if a[0] == "shift"]
    (before,) = [s for s in simulation.steps if s.name == "BeforeAllowTraffic"]
    assert "rejected by lms-lead" in before.verdict


def test_an_approval_from_someone_not_allowed_is_refused_and_the_deadline_fails_the_release() -> None:
    seen: dict[str, Any] = {}

    def stranger_approves(world: LocalWorld, simulation: Simulation) -> bool:
        if _record(world, f"approval#{simulation.deployment_id}", "waiting") is None:
            return False
        request = operator_request_event(
            world.config, "Approve Requested", {"deployment_id": simulation.deployment_id, "by": "mallory"}
        )
        seen["refusal"] = world.replay(request)
        return True

    simulation = simulate_deployment("production", "backend", while_waiting=_once(stranger_approves))

    assert simulation.status == "Failed"
    refusal = seen["refusal"]
    requests = [r for r in refusal.results if r["function"].endswith("Requests")]
    assert requests and requests[0]["decision"] == "refused"
    assert "mallory" in requests[0]["reason"]
    (before,) = [s for s in simulation.steps if s.name == "BeforeAllowTraffic"]
    assert "no approval within deployment.approval_timeout_seconds (1200 s)" in before.verdict


def test_approve_and_abort_clicked_in_slack_release_the_canary_then_restore_blue() -> None:
    """Issue 14: the living message's buttons drive the canary through the same requests as the CLI."""
    seen: dict[str, Any] = {}

    def click(world: LocalWorld, action: str, deployment_id: str, user: str) -> list[str]:
        """The detail types the click put on Tollgate's bus."""
        event = signed_click(f"tollgate_{action}", deployment_id=deployment_id, service="backend", user_id=user)
        report = world.replay(event, function="SlackActions")
        assert report.results[0]["output"]["statusCode"] == 200  # acknowledged within Slack's 3 seconds
        return [
            entry["DetailType"]
            for call in report.aws_calls
            if call["operation"] == "PutEvents" and call["function"].startswith("SlackActions")
            for entry in call["params"]["Entries"]
        ]

    def approve(world: LocalWorld, simulation: Simulation) -> bool:
        if _record(world, f"approval#{simulation.deployment_id}", "waiting") is None:
            return False
        seen["stranger"] = click(world, "approve", simulation.deployment_id, "U0STRANGER1")
        seen["approve"] = click(world, "approve", simulation.deployment_id, "U0RELEASEMGR")
        return True

    def abort(world: LocalWorld, simulation: Simulation) -> bool:
        if not _baking_at(10, simulation):
            return False
        seen["abort"] = click(world, "abort", simulation.deployment_id, "U0LMSLEAD01")
        return True

    def inspect(world: LocalWorld, simulation: Simulation) -> None:
        assert world.slack is not None
        living = [m for m in world.slack.messages if m.metadata and not m.thread_ts]
        seen["living"] = [(m.channel, m.updates, json.dumps(m.payload)) for m in living]
        seen["rules"] = _tollgate_rules(world)

    simulation = simulate_deployment(
        "production", "backend", while_waiting=_once(approve), after_task=_once(abort), inspect=inspect
    )

    # A stranger's click was refused; the release manager's released the wait; the lead's abort restored blue
    assert seen["stranger"] == ["Approval Refused"]
    assert seen["approve"] == ["Approve Requested"]
    assert seen["abort"] == ["Canary Abort Requested"]
    actions = _canary_actions(simulation)
    assert actions[0] == ("await_approval", None, "waiting")
    assert ("shift", 10, "shifted") in actions
    assert simulation.status == "Failed"
    assert seen["rules"] == []
    (before,) = [s for s in simulation.steps if s.name == "BeforeAllowTraffic"]
    assert "aborted by lms-lead" in before.verdict
    # And the deployment's one living message shows who approved and who aborted
    (living,) = [m for m in seen["living"] if simulation.deployment_id in m[2]]
    channel, updates, payload = living
    assert channel == "#lms-releases"
    assert updates >= 3
    assert "release-manager" in payload and "lms-lead" in payload
