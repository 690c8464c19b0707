"""`tollgate simulate`: whole CodeDeploy blue/green deployments on the embedded AWS with the real functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.core.config import Hook
from tollgate.cli import main
from tollgate.commands.simulate import render
from tollgate.local.simulation import simulate_deployment

HOOKS = [hook.value for hook in Hook]


def _simulate_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["simulate", *args, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def _steps(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [s for s in result["steps"] if s["name"] == name]


def _slack_for(result: dict[str, Any], trigger: str) -> list[dict[str, Any]]:
    return [
        n for r in result["reports"] if r["trigger"] == trigger for n in r["notifications"] if n["channel"] == "slack"
    ]


def test_a_healthy_staging_deployment_succeeds_with_every_hook_reported_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When a backend deployment is simulated on staging against a healthy LMS
    result = _simulate_json(capsys, "--env", "staging", "--service", "backend")
    # Then the deployment succeeded and traffic stayed on the replacement
    assert (result["environment"], result["service"]) == ("staging", "backend")
    assert result["deployment_id"].startswith("d-")
    assert result["status"] == "Succeeded"
    assert result["rolled_back"] is False
    # And every hook ran exactly once, its handler reported Succeeded, and the lifecycle step says so
    # (AfterAllowTraffic reports from its post-shift watch, once the window after the shift has passed)
    for hook in HOOKS:
        reporting = f"hook {hook} (after the shift window)" if hook == "AfterAllowTraffic" else f"hook {hook}"
        hook_reports = [r for r in result["reports"] if r["trigger"] == reporting]
        assert len(hook_reports) == 1, hook
        assert hook_reports[0]["results"][0]["decision"] == "Succeeded", hook_reports[0]["results"]
        assert [s["outcome"] for s in _steps(result, hook)] == ["Succeeded"]
    assert [s["outcome"] for s in _steps(result, "AllowTraffic")] == ["Succeeded"]
    # And Slack heard the start and the success of the deployment
    assert any(result["deployment_id"] in n["summary"] for n in _slack_for(result, "event START"))
    assert any(result["deployment_id"] in n["summary"] for n in _slack_for(result, "event SUCCESS"))
    assert not [r for r in result["reports"] if r["trigger"] == "event FAILURE"]


def test_a_failing_lms_fails_the_staging_deployment_at_the_hook_that_checks_it() -> None:
    # When the stand-in LMS answers every request with a 5xx during a staging backend deployment
    simulation = simulate_deployment("staging", "backend", fault="5xx")
    # Then the deployment failed and traffic was rolled back
    assert simulation.status == "Failed"
    assert simulation.rolled_back is True
    # And the first hook with synthetic checks failed, naming the failing check and the status it saw
    failed = [s for s in simulation.steps if s.outcome == "Failed"]
    assert [s.name for s in failed] == ["AfterAllowTestTraffic"]
    assert "backend-health" in failed[0].verdict
    assert "503" in failed[0].verdict
    # And production traffic never moved, and the failure was announced
    assert "AllowTraffic" not in [s.name for s in simulation.steps]
    assert any(r.trigger == "event FAILURE" and r.report.notifications for r in simulation.reports)
    # And the timeline a person reads says the same
    timeline = render(simulation)
    assert "AfterAllowTestTraffic  Failed" in timeline
    assert "status       Failed" in timeline
    assert "rolled back  yes" in timeline


def test_production_without_an_approval_fails_before_traffic_moves(capsys: pytest.CaptureFixture[str]) -> None:
    # When a production deployment is simulated without --approve
    result = _simulate_json(capsys, "--env", "production", "--service", "frontend")
    # Then it waited in Ready, was continued, and BeforeAllowTraffic failed for want of an approval
    assert [s["outcome"] for s in _steps(result, "Ready")] == ["Waiting", "Succeeded"]
    (before,) = _steps(result, "BeforeAllowTraffic")
    assert before["outcome"] == "Failed"
    assert "approval" in before["verdict"]
    # And the deployment failed and rolled back without AfterAllowTraffic running
    assert result["status"] == "Failed"
    assert result["rolled_back"] is True
    assert not _steps(result, "AfterAllowTraffic")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "development", "--service", "backend"], "rolling"),
        (["--env", "qa", "--service", "backend"], "qa"),
        (["--env", "staging", "--service", "database"], "no service 'database'"),
        (["--env", "staging", "--service", "backend", "--fault", "flood"], "unknown fault 'flood'"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    # When the simulation is asked for something it cannot simulate
    assert main(["simulate", *args]) == 2
    # Then one line on stderr says what is wrong, and nothing is printed as a result
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]


def test_after_allow_traffic_is_judged_over_the_window_after_the_shift() -> None:
    # When a healthy staging release is simulated
    seen: dict[str, Any] = {}

    def inspect(world: Any, simulation: Any) -> None:
        machines = aws.client("stepfunctions").list_state_machines()["stateMachines"]
        seen["watches"] = [
            e["name"]
            for m in machines
            if m["name"].endswith("-after-shift")
            for e in aws.client("stepfunctions").list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
        ]

    simulation = simulate_deployment("staging", "backend", inspect=inspect)
    # Then AfterAllowTraffic handed over to the post-shift watch, which ran the checks after its wait and reported
    assert simulation.status == "Succeeded"
    assert seen["watches"] == [simulation.deployment_id]
    triggers = [r.trigger for r in simulation.reports]
    first_call = triggers.index("hook AfterAllowTraffic")
    assert triggers.index("hook AfterAllowTraffic (after the shift window)") > first_call
    assert simulation.reports[first_call].report.results[0]["decision"] == "watching"
    (after,) = [s for s in simulation.steps if s.name == "AfterAllowTraffic"]
    assert after.outcome == "Succeeded" and "checks passed" in after.verdict
