"""Every path through the synthesized canary state machine reports the hook exactly once (decision 0010)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.canary.requests import decide_approval, operate_canary
from lambdas.core.config import EnvironmentConfig
from tests.unit.canary.asl import Interpreter
from tests.unit.canary.fakes import World

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INPUT = {"deployment_id": "d-ABCDEF123", "hook_execution_id": "hook-exec-1", "service": "backend"}


def _approve(interpreter: Interpreter) -> None:
    decide_approval(
        "approve",
        deployment_id="d-ABCDEF123",
        by="release-manager",
        reason="CAB ok",
        config=interpreter.config,
        ports=interpreter.world.ports,
        now=interpreter.now,
        writer="invocation-1",
    )


def _interpreter(definition: dict[str, Any], config: EnvironmentConfig, world: World, **kwargs: Any) -> Interpreter:
    return Interpreter(
        definition=definition,
        world=world,
        config=config,
        now=START,
        during_approval=kwargs.pop("during_approval", _approve),
        **kwargs,
    )


def _assert_reported_once(world: World, *, succeeded: bool) -> None:
    assert world.reporter.first_reports() == [("d-ABCDEF123", "hook-exec-1", succeeded)]
    # Whatever happened, Tollgate's rule is gone: CodeDeploy alone owns the listener when the hook reports.
    assert world.traffic.splits == {}


def test_approved_healthy_canary_walks_10_then_50_and_reports_succeeded(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    # Given a healthy new version and an approval given while the wait runs
    world = World()
    shifts: list[str] = []
    interpreter = _interpreter(production_definition, production, world, after_wait=lambda i, name: shifts.append(name))
    # When the execution runs
    run = interpreter.run(dict(INPUT))
    # Then both steps baked and passed, the hook reported Succeeded once, and every step's evidence was announced
    assert run.status == "SUCCEEDED", run.visited
    assert "Bake10" in shifts and "Bake50" in shifts
    _assert_reported_once(world, succeeded=True)
    types = world.announcer.types()
    assert types.count("Canary Step Passed") == 2
    assert {"Approval Needed", "Approval Given", "Canary Started"} <= set(types)
    passed = [e for e in world.announcer.events if e.detail_type.value == "Canary Step Passed"]
    assert [e.evidence["analysis"]["step_percent"] for e in passed] == [10, 50]
    assert world.flows.runs, "the synthetic flows ran during the bakes"


def test_errors_at_50_restore_blue_and_report_failed(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    # Given a new version that starts erroring once it gets 50%
    world = World()

    def errors_at_50(interpreter: Interpreter, name: str) -> None:
        if name == "Bake50":
            world.metrics.canary_errors = 40

    run = _interpreter(production_definition, production, world, after_wait=errors_at_50).run(dict(INPUT))
    assert run.status == "FAILED"
    _assert_reported_once(world, succeeded=False)
    failed = [e for e in world.announcer.events if e.detail_type.value == "Canary Step Failed"]
    assert failed and failed[0].evidence["step_percent"] == 50 and failed[0].severity.value == "critical"


@pytest.mark.parametrize(
    ("name", "during", "expected_type"),
    [
        (
            "rejected",
            lambda i: decide_approval(
                "reject",
                deployment_id="d-ABCDEF123",
                by="lms-lead",
                reason="not today",
                config=i.config,
                ports=i.world.ports,
                now=i.now,
                writer="invocation-2",
            ),
            "Approval Rejected",
        ),
        ("deadline", lambda i: None, "Approval Timed Out"),
        (
            "stranger",
            lambda i: decide_approval(
                "approve",
                deployment_id="d-ABCDEF123",
                by="mallory",
                reason="",
                config=i.config,
                ports=i.world.ports,
                now=i.now,
                writer="invocation-3",
            ),
            "Approval Timed Out",
        ),
    ],
)
def test_rejection_deadline_and_refused_approver_fail_cleanly(
    production_definition: dict[str, Any], production: EnvironmentConfig, name: str, during: Any, expected_type: str
) -> None:
    world = World()
    run = _interpreter(production_definition, production, world, during_approval=during).run(dict(INPUT))
    assert run.status == "FAILED"
    _assert_reported_once(world, succeeded=False)
    assert expected_type in world.announcer.types()
    assert world.traffic.calls.count("shift") == 0, "no traffic moved without an approval"


def test_approval_before_the_wait_releases_it_at_once(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    world = World()
    decide_approval(
        "approve",
        deployment_id="d-ABCDEF123",
        by="release-manager",
        reason="",
        config=production,
        ports=world.ports,
        now=START,
        writer="invocation-4",
    )
    run = _interpreter(production_definition, production, world, during_approval=lambda i: None).run(dict(INPUT))
    assert run.status == "SUCCEEDED"
    assert "Approval Needed" not in world.announcer.types()
    _assert_reported_once(world, succeeded=True)


@pytest.mark.parametrize("operation", ["abort", "promote"])
def test_operator_abort_and_promote_during_the_first_bake(
    production_definition: dict[str, Any], production: EnvironmentConfig, operation: str
) -> None:
    world = World()
    waits: list[str] = []

    def operate(interpreter: Interpreter, name: str) -> None:
        waits.append(name)
        if name == "Bake10" and waits.count("Bake10") == 1:
            outcome = operate_canary(
                operation,
                service="backend",
                by="lms-lead",  # type: ignore[arg-type]
                reason="operator",
                config=production,
                ports=world.ports,
                now=interpreter.now,
                writer="invocation-5",
            )
            assert outcome.outcome == "recorded", outcome.reason

    run = _interpreter(production_definition, production, world, after_wait=operate).run(dict(INPUT))
    if operation == "abort":
        assert run.status == "FAILED"
        _assert_reported_once(world, succeeded=False)
        assert "Canary Aborted" in world.announcer.types()
    else:
        assert run.status == "SUCCEEDED"
        # The bake of 10% ended at the first poll, yet the step was analysed.
        assert waits.count("Bake10") == 1
        assert "Canary Promoted" in world.announcer.types()
        assert len(world.judge.seen) == 2
        _assert_reported_once(world, succeeded=True)


def test_too_little_traffic_extends_the_bake_then_fails_when_the_limit_is_spent(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    world = World()
    world.metrics.requests = 1  # inconclusive, asking for more traffic, every time
    run = _interpreter(production_definition, production, world).run(dict(INPUT))
    assert run.status == "FAILED"
    assert len(world.judge.seen) >= 2, "the bake was extended before the inconclusive step failed"
    _assert_reported_once(world, succeeded=False)


def _task_states(definition: dict[str, Any]) -> list[str]:
    return [name for name, state in definition["States"].items() if state["Type"] == "Task"]


def test_the_definition_has_the_tasks_the_paths_cover(production_definition: dict[str, Any]) -> None:
    assert set(_task_states(production_definition)) == {
        "AwaitApproval",
        "Shift10",
        "BakeCheck10",
        "Analyse10",
        "Shift50",
        "BakeCheck50",
        "Analyse50",
        "ReportSucceeded",
        "ReportFailed",
    }


@pytest.mark.parametrize("times", [1, 100], ids=["transient", "persistent"])
def test_a_fault_in_any_task_reports_the_hook_exactly_once(
    production_definition: dict[str, Any], production: EnvironmentConfig, times: int
) -> None:
    for task in _task_states(production_definition):
        # Given a fault in one task (a transient one is retried; a persistent one exhausts the retries)
        world = World()
        interpreter = _interpreter(production_definition, production, world, faults={task: times})
        # When the execution runs
        run = interpreter.run(dict(INPUT))
        # Then the hook got exactly one report and Tollgate's rule is gone
        if times == 1 and task != "AwaitApproval":
            expected = True
        elif task == "ReportFailed":
            expected = True  # the healthy path never enters the failure task
        else:
            expected = False
        reports = world.reporter.first_reports()
        assert len(reports) == 1, (task, times, run.visited)
        assert reports[0][2] is expected, (task, times, run.visited)
        assert world.traffic.splits == {}, task


def test_a_failing_report_is_retried_until_it_lands_once(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    world = World()
    world.metrics.canary_errors = 10
    world.reporter.fail_times = 3
    run = _interpreter(production_definition, production, world).run(dict(INPUT))
    assert run.status == "FAILED"
    _assert_reported_once(world, succeeded=False)


def test_a_failing_restore_still_reports_failed_and_restores_on_retry(
    production_definition: dict[str, Any], production: EnvironmentConfig
) -> None:
    world = World()
    world.metrics.canary_errors = 10
    original_restore = world.traffic.restore
    failures = {"left": 1}

    def flaky_restore(service: str) -> bool:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("DeleteRule throttled")
        return original_restore(service)

    world.traffic.restore = flaky_restore  # type: ignore[method-assign]
    run = _interpreter(production_definition, production, world).run(dict(INPUT))
    assert run.status == "FAILED"
    _assert_reported_once(world, succeeded=False)
