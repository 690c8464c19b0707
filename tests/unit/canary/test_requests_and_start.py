"""Approve/reject, promote/abort/status and the BeforeAllowTraffic starter, on fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from lambdas.canary.controller import APPROVAL, CANARY, CURRENT, DECISION, PROGRESS, WAITING, run_task
from lambdas.canary.model import TaskRequest
from lambdas.canary.requests import decide_approval, operate_canary
from lambdas.canary.start import StartOutcome, start_canary
from lambdas.core.config import EnvironmentConfig
from tests.unit.canary.fakes import World

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DEPLOYMENT = "d-ABCDEF123"


def _start(world: World, config: EnvironmentConfig, hook_execution: str = "exec-1") -> StartOutcome:
    """BeforeAllowTraffic's starter for DEPLOYMENT, on the world's fakes."""
    return start_canary(
        DEPLOYMENT,
        hook_execution,
        config=config,
        deployments=world.deployments,
        executions=world.executions,
        reporter=world.reporter,
    )


def _waiting_canary(world: World) -> None:
    """A canary waiting on DEPLOYMENT's approval with task token "tok"."""
    world.executions.open_tokens.add("tok")
    world.records.put(APPROVAL, DEPLOYMENT, WAITING, {"task_token": "tok"}, now=NOW, only_if_absent=False)


def _decide(
    world: World,
    config: EnvironmentConfig,
    kind: Literal["approve", "reject"],
    by: str,
    *,
    writer: str,
    reason: str = "",
) -> Any:
    return decide_approval(
        kind, deployment_id=DEPLOYMENT, by=by, reason=reason, config=config, ports=world.ports, now=NOW, writer=writer
    )


def _operate(world: World, config: EnvironmentConfig, kind: Any, by: str, *, writer: str) -> Any:
    """promote/abort/status of the backend's canary."""
    return operate_canary(
        kind, service="backend", by=by, reason="", config=config, ports=world.ports, now=NOW, writer=writer
    )


def test_an_approval_is_recorded_once_with_who_and_when(production: EnvironmentConfig) -> None:
    world = World()
    first = _decide(world, production, "approve", "release-manager", writer="invocation-1")
    second = _decide(world, production, "reject", "lms-lead", writer="invocation-2")
    assert first.outcome == "recorded"
    assert second.outcome == "already" and "approved by release-manager" in second.reason
    record = world.records.get(APPROVAL, DEPLOYMENT, "approval")
    assert (
        record is not None and record["approved_by"] == "release-manager" and record["approved_at"] == NOW.isoformat()
    )
    assert world.announcer.types() == ["Approval Given"]


def test_the_writers_own_retry_announces_and_releases_what_it_recorded(production: EnvironmentConfig) -> None:
    # Given an invocation recorded the approval and died before announcing it (or its answer was lost)
    world = World()
    _waiting_canary(world)
    record = {"decision": "approved", "approved_by": "release-manager", "approved_at": NOW.isoformat()}
    world.records.put(APPROVAL, DEPLOYMENT, DECISION, record, now=NOW, only_if_absent=True, writer="request-1")
    # When Lambda retries that invocation (the same request id)
    retry = _decide(world, production, "approve", "release-manager", writer="request-1")
    # Then it finishes the work: announced and released, once
    assert retry.outcome == "recorded" and retry.details["released_wait"] is True
    assert world.announcer.types() == ["Approval Given"]
    assert [token for token, *_ in world.executions.released] == ["tok"]


def test_a_duplicate_after_a_lost_release_releases_the_wait_with_the_first_decision(
    production: EnvironmentConfig,
) -> None:
    # Given the first rejection was recorded but its invocation died before releasing the waiting canary
    world = World()
    _waiting_canary(world)
    first = {"decision": "rejected", "approved_by": "lms-lead", "approved_at": NOW.isoformat(), "reason": "freeze"}
    world.records.put(APPROVAL, DEPLOYMENT, DECISION, first, now=NOW, only_if_absent=True, writer="request-1")
    # When another invocation asks to approve
    later = _decide(world, production, "approve", "release-manager", writer="request-2")
    # Then the first decision stands, nothing is announced again, and the wait ends with the first decision
    assert later.outcome == "already" and "rejected by lms-lead" in later.reason
    assert later.details["released_wait"] is True and "released with it" in later.reason
    assert world.announcer.types() == []
    assert world.executions.released == [
        ("tok", "Tollgate.ApprovalRejected", {"cause": "rejected by lms-lead: freeze"})
    ]


def test_a_stranger_is_refused_and_the_refusal_announced(production: EnvironmentConfig) -> None:
    world = World()
    outcome = _decide(world, production, "approve", "mallory", writer="invocation-3")
    assert outcome.outcome == "refused"
    assert "mallory may not approve" in outcome.reason and "release-manager" in outcome.reason
    assert world.records.get(APPROVAL, DEPLOYMENT, "approval") is None
    assert world.announcer.types() == ["Approval Refused"]


def test_an_approval_during_the_wait_releases_the_token(production: EnvironmentConfig) -> None:
    world = World()
    _waiting_canary(world)
    outcome = _decide(world, production, "reject", "lms-lead", writer="invocation-4", reason="freeze")
    assert outcome.details["released_wait"] is True
    assert world.executions.released == [
        ("tok", "Tollgate.ApprovalRejected", {"cause": "rejected by lms-lead: freeze"})
    ]


def test_promote_and_abort_refuse_when_no_canary_runs(production: EnvironmentConfig) -> None:
    world = World()
    for kind in ("promote", "abort", "status"):
        outcome = operate_canary(
            kind,
            service="backend",
            by="lms-lead",
            reason="",  # type: ignore[arg-type]
            config=production,
            ports=world.ports,
            now=NOW,
            writer="invocation-5",
        )
        assert outcome.outcome == "no_canary"
        assert "no canary" in outcome.reason and "backend" in outcome.reason
    assert world.announcer.events == []


def test_status_tells_step_split_bake_left_and_last_verdict(production: EnvironmentConfig) -> None:
    world = World()
    world.records.put(CANARY, "backend", CURRENT, {"deployment_id": DEPLOYMENT}, now=NOW, only_if_absent=False)
    world.records.put(
        CANARY,
        DEPLOYMENT,
        PROGRESS,
        {
            "canary_status": "running",
            "step_percent": "50",
            "weights": '{"blue": 50, "green": 50}',
            "bake_until": "2026-12-01T12:02:00+00:00",
            "last_verdict": '{"step_percent": 10, "verdict": "pass", "reason": "5xx 0.1% vs 0.1%"}',
        },
        now=NOW,
        only_if_absent=False,
    )
    outcome = _operate(world, production, "status", "-", writer="invocation-6")
    assert outcome.reason == (
        f"{DEPLOYMENT}: running at 50%; split blue 50% / green 50%; bake left 120 s; "
        "last verdict at 10%: pass (5xx 0.1% vs 0.1%)"
    )
    again = _operate(world, production, "promote", "lms-lead", writer="invocation-7")
    twice = _operate(world, production, "promote", "lms-lead", writer="invocation-8")
    assert (again.outcome, twice.outcome) == ("recorded", "already")


def test_a_duplicated_before_allow_traffic_starts_no_second_execution(production: EnvironmentConfig) -> None:
    world = World()
    first = _start(world, production)
    second = _start(world, production)
    assert (first.decision, second.decision) == ("started", "duplicate")
    assert world.executions.started == {
        DEPLOYMENT: {"deployment_id": DEPLOYMENT, "hook_execution_id": "exec-1", "service": "backend"}
    }
    assert world.reporter.reports == []


def test_a_foreign_deployment_fails_the_hook_at_once(production: EnvironmentConfig) -> None:
    world = World()
    world.deployments.group = "someone-else"
    outcome = _start(world, production)
    assert outcome.decision == "failed"
    assert world.reporter.reports == [(DEPLOYMENT, "exec-1", False)]
    assert world.executions.started == {}


def test_codedeploys_own_rollback_is_let_through_without_a_canary(production: EnvironmentConfig) -> None:
    # Given the deployment CodeDeploy created to roll back (its creator is CodeDeploy's to set)
    world = World()
    world.deployments.creator, world.deployments.description = "codeDeployRollback", "automatic rollback"
    # When its BeforeAllowTraffic runs
    outcome = _start(world, production)
    # Then no approval wait and no canary: the hook is reported Succeeded at once
    assert outcome.decision == "rollback"
    assert world.reporter.reports == [(DEPLOYMENT, "exec-1", True)]
    assert world.executions.started == {}


def test_a_deployment_that_only_says_it_is_a_rollback_gets_the_approval_and_the_canary(
    production: EnvironmentConfig,
) -> None:
    # Given a user's deployment whose description claims to be Tollgate's rollback (anyone can write one;
    # Tollgate's own redeployments carry no hooks and never reach the starter)
    world = World()
    world.deployments.creator = "user"
    world.deployments.description = "Tollgate rollback of d-ABC123: alarm tollgate-production-backend-5xx-rate"
    # When its BeforeAllowTraffic runs
    outcome = _start(world, production)
    # Then the canary starts (its approval wait first); nothing is reported Succeeded by the starter
    assert outcome.decision == "started"
    assert list(world.executions.started) == [DEPLOYMENT]
    assert world.reporter.reports == []


def test_the_analysis_leaves_out_the_minutes_cloudwatch_has_not_filled_yet(production: EnvironmentConfig) -> None:
    # Given a 10% step whose 7-minute bake just ended
    world = World()
    common = {"deployment_id": DEPLOYMENT, "hook_execution_id": "exec-1", "service": "backend", "step_percent": 10}
    run_task(TaskRequest.model_validate({"action": "shift", "bake_seconds": 420, **common}), config=production,
             ports=world.ports, now=NOW)  # fmt: skip
    # When it is analysed with ALB's one-minute reporting delay
    later = NOW + timedelta(seconds=420)
    request = TaskRequest.model_validate(
        {"action": "analyse", "period_seconds": 60, "reporting_delay_seconds": 60, **common}
    )
    run_task(request, config=production, ports=world.ports, now=later)
    # Then both target groups were read from the weight change to a minute before now, not to now
    assert world.metrics.windows == [(NOW, later - timedelta(seconds=60))] * 2
