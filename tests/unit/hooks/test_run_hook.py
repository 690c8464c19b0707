"""The hook use case on in-memory fakes: every decision branch, leases that cannot strand, budgets, redaction."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.core.config import Hook, load_environment
from lambdas.hooks.adapters.codedeploy import DeploymentTarget
from lambdas.hooks.adapters.secrets import SyntheticUser
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import HookSetupError, ReportError, UnreportableHookError, WatchError
from lambdas.hooks.metric_gate import TargetGroupMetrics
from lambdas.hooks.model import ReportStatus
from lambdas.hooks.run_hook import HookInvocation, HookOutcome, HookTimes, run_hook
from lambdas.hooks.settings import HookSettings, HookSetup, load_setup
from tests.unit.hooks.fakes import FakeClaims, FakeWatch, Kill, World

DEPLOYMENT = "d-ABCDEF123"
EXECUTION = "exec-1"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def setup_for(environment: str, hook: Hook, *, table: str | None = "tollgate-state") -> HookSetup:
    settings = HookSettings.model_validate(
        {
            "TOLLGATE_ENVIRONMENT": environment,
            "TOLLGATE_EVENT_BUS": f"tollgate-{environment}",
            "TOLLGATE_HOOK": hook.value,
            "TOLLGATE_STATE_TABLE": table,
            "TOLLGATE_SYNTHETICS_BASE_URL": "http://lms.local",
        }
    )
    return HookSetup(settings=settings, config=load_environment(environment), hook=hook)


def world_for(environment: str = "staging", service: str = "backend") -> World:
    config = load_environment(environment)
    world = World()
    world.deployments.targets[DEPLOYMENT] = DeploymentTarget(
        application=config.lms.codedeploy_application,
        deployment_group=config.lms.services[service].deployment_group,
        status="InProgress",
    )
    world.secrets.user = SyntheticUser(username="synthetic", password="pa55-word-secret")
    return world


def run(
    world: World,
    setup: HookSetup | HookSetupError,
    *,
    now: datetime = NOW,
    seconds: float = 30,
    owner: str = "first",
) -> HookOutcome:
    invocation = HookInvocation.model_validate({"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION})
    times = HookTimes(now=now, end=Deadline(at=time.monotonic() + seconds))
    return run_hook(invocation, setup=setup, ports=world.ports(), times=times, owner=owner)


def later(minutes: float = 2) -> datetime:
    """Lambda retries an asynchronous invocation a minute or more after the failed one ended."""
    return NOW + timedelta(minutes=minutes)


def test_healthy_release_reports_succeeded_once_and_announces() -> None:
    # Given a healthy LMS at AfterAllowTestTraffic
    world = world_for()
    world.lms.echo_token = False
    # When the hook runs
    outcome = run(world, setup_for("staging", Hook.AFTER_ALLOW_TEST_TRAFFIC))
    # Then it reports Succeeded once, records it done and announces the verdict
    assert outcome.decision == "Succeeded", outcome.reason
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]
    assert world.claims is not None
    assert [item.status for item in world.claims.items.values()] == ["done"]
    assert [event.detail_type.value for event in world.announcer.events] == ["Hook Verdict"]


def test_a_second_invocation_after_a_report_is_a_duplicate_without_a_call() -> None:
    world = world_for()
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    first = run(world, setup)
    second = run(world, setup, now=later(), owner="second")
    assert first.decision == "Succeeded"
    assert second.decision == "duplicate"
    assert "already reported Succeeded" in second.reason
    assert len(world.reporter.calls) == 1


def test_dying_after_the_claim_before_the_report_does_not_strand_the_report() -> None:
    # Given an invocation that dies right after writing its claim (a Lambda timeout)
    world = world_for()
    assert world.claims is not None
    world.claims.kill.add("claim")
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    with pytest.raises(Kill):
        run(world, setup)
    assert world.reporter.calls == []
    # When Lambda retries the invocation after it ended
    retry = run(world, setup, now=later(), owner="retry")
    # Then the retry takes the expired lease over and reports, once
    assert retry.decision == "Succeeded", retry.reason
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


def test_a_transient_report_failure_whose_release_fails_is_reported_by_the_retry() -> None:
    # Given CodeDeploy throttles the report past every retry, and releasing the claim fails too
    world = world_for()
    assert world.claims is not None
    world.reporter.errors.append(ReportError("PutLifecycleEventHookExecutionStatus: ThrottlingException"))
    world.claims.fail["release"] = 1
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    # When the hook runs, Then the invocation raises (Lambda retries it, the health alarm sees it)
    with pytest.raises(UnreportableHookError, match="ThrottlingException"):
        run(world, setup)
    # And the retry, finding the lease expired, reports
    retry = run(world, setup, now=later(), owner="retry")
    assert retry.decision == "Succeeded", retry.reason
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


def test_a_concurrent_duplicate_leaves_the_report_to_the_lease_holder() -> None:
    world = world_for()
    assert world.claims is not None
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    world.claims.kill.add("claim")
    with pytest.raises(Kill):
        run(world, setup, seconds=600)
    # A duplicate while the first invocation's lease is live
    duplicate = run(world, setup, now=NOW + timedelta(seconds=5), owner="duplicate")
    assert duplicate.decision == "duplicate"
    assert "another invocation" in duplicate.reason
    assert world.reporter.calls == []


def test_dying_after_the_report_before_completing_is_reported_exactly_once() -> None:
    world = world_for()
    world.reporter.kill_after = True
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    with pytest.raises(Kill):
        run(world, setup)
    retry = run(world, setup, now=later(), owner="retry")
    # CodeDeploy answers "already completed": done, not a second report
    assert retry.decision == "duplicate"
    assert retry.report == "already_completed"
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


def test_a_failed_completion_still_returns_the_report() -> None:
    world = world_for()
    assert world.claims is not None
    world.claims.fail["complete"] = 1
    outcome = run(world, setup_for("staging", Hook.AFTER_INSTALL))
    assert outcome.decision == "Succeeded"
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


def test_a_state_table_that_is_down_does_not_stop_the_report() -> None:
    world = world_for()
    assert world.claims is not None
    world.claims.fail.update({"find": 1, "claim": 1})
    outcome = run(world, setup_for("staging", Hook.AFTER_INSTALL))
    assert outcome.decision == "Succeeded"
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


def test_without_a_state_table_the_hook_reports_directly() -> None:
    world = world_for()
    world.claims = None
    outcome = run(world, setup_for("staging", Hook.AFTER_INSTALL, table=None))
    assert outcome.decision == "Succeeded"
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]


@pytest.mark.parametrize(
    ("error", "raises"),
    [
        (ReportError("AccessDeniedException", access_denied=True), True),
        (ReportError("ThrottlingException"), True),
        (ReportError("no time left"), True),
        (ReportError("DeploymentDoesNotExistException", permanent=True), False),
    ],
    ids=["access-denied", "throttled", "out-of-time", "unknown-deployment"],
)
def test_a_report_that_cannot_be_made_raises_unless_no_retry_can_help(error: ReportError, raises: bool) -> None:
    world = world_for()
    world.reporter.errors.append(error)
    setup = setup_for("staging", Hook.AFTER_INSTALL)
    if raises:
        with pytest.raises(UnreportableHookError):
            run(world, setup)
    else:
        assert run(world, setup).decision == "unreported"
    assert world.claims is not None
    assert world.claims.items == {}  # the claim was released for the retry


def test_a_misconfigured_function_still_reports_failed() -> None:
    world = world_for()
    outcome = run(world, HookSetupError("TOLLGATE_HOOK is 'Sometime'"))
    assert outcome.decision == "Failed"
    assert "TOLLGATE_HOOK is 'Sometime'" in outcome.reason
    assert world.reporter.accepted() == [ReportStatus.FAILED]
    assert world.announcer.events == []  # no environment to announce in


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "TOLLGATE_ENVIRONMENT, TOLLGATE_EVENT_BUS, TOLLGATE_HOOK"),
        (
            {"TOLLGATE_ENVIRONMENT": "qa", "TOLLGATE_EVENT_BUS": "b", "TOLLGATE_HOOK": "AfterInstall"},
            "environment 'qa'",
        ),
        ({"TOLLGATE_ENVIRONMENT": "staging", "TOLLGATE_EVENT_BUS": "b", "TOLLGATE_HOOK": "Later"}, "TOLLGATE_HOOK is"),
    ],
)
def test_settings_name_the_missing_or_wrong_variable(variables: dict[str, str], message: str) -> None:
    with pytest.raises(HookSetupError, match=message):
        load_setup(variables)


def test_an_unknown_deployment_is_reported_failed() -> None:
    world = world_for()
    world.deployments.targets.clear()
    outcome = run(world, setup_for("staging", Hook.AFTER_INSTALL))
    assert outcome.decision == "Failed"
    assert "DeploymentDoesNotExistException" in outcome.reason
    assert world.reporter.accepted() == [ReportStatus.FAILED]


def test_a_foreign_application_is_reported_failed() -> None:
    world = world_for()
    world.deployments.targets[DEPLOYMENT] = DeploymentTarget(application="billing", deployment_group="x", status="")
    outcome = run(world, setup_for("staging", Hook.AFTER_INSTALL))
    assert outcome.decision == "Failed"
    assert "application 'billing'" in outcome.reason


def test_a_captured_bearer_token_is_redacted_from_verdict_report_reason_and_bus() -> None:
    # Given a stand-in LMS that echoes the bearer token where the flow reads the application's status
    world = world_for()
    outcome = run(world, setup_for("staging", Hook.AFTER_ALLOW_TEST_TRAFFIC))
    # Then the flow fails, and neither the token nor the password appears anywhere Tollgate sends it
    assert outcome.decision == "Failed"
    assert "read application" in outcome.reason
    assert "Bearer ***" in outcome.reason
    everything = outcome.model_dump_json() + "".join(event.model_dump_json() for event in world.announcer.events)
    assert world.announcer.events
    assert world.lms.token not in everything
    assert "pa55-word-secret" not in everything


def test_hanging_flows_still_leave_the_report_its_reserved_time() -> None:
    # Given an LMS that never answers and 6 s left (5 s margin reserved for the report)
    world = world_for()
    world.lms.hang = True
    outcome = run(world, setup_for("staging", Hook.AFTER_ALLOW_TEST_TRAFFIC), seconds=6)
    # Then each (concurrent) request was given only the second before the margin, the report its reserved time
    assert outcome.decision == "Failed"
    assert world.lms.timeouts and max(world.lms.timeouts) <= 1.0
    assert world.reporter.deadlines and world.reporter.deadlines[0] > 3.0


def test_metric_gate_without_the_replacement_group_fails() -> None:
    world = world_for("production", "frontend")
    world.lms.echo_token = False
    outcome = run(world, setup_for("production", Hook.AFTER_ALLOW_TRAFFIC))
    assert outcome.decision == "Failed"
    assert "cannot tell which target group" in outcome.reason
    assert world.metrics.asked == []


def test_metric_gate_judges_the_replacement_group() -> None:
    world = world_for("production", "frontend")
    world.traffic.target_group = "targetgroup/lms-prod-frontend-green/1"
    world.metrics.metrics = TargetGroupMetrics(
        target_group="targetgroup/lms-prod-frontend-green/1",
        requests=1000,
        errors_5xx=50,
        p99_latency_ms=100,
        window_minutes=5,
    )
    outcome = run(world, setup_for("production", Hook.AFTER_ALLOW_TRAFFIC))
    assert outcome.decision == "Failed"
    assert "5xx rate 5.00% > 1%" in outcome.reason


def test_a_lost_announcement_is_not_fatal() -> None:
    world = world_for()
    world.announcer.failing = True
    assert run(world, setup_for("staging", Hook.AFTER_INSTALL)).decision == "Succeeded"


def test_fake_claims_match_the_lease_rules() -> None:
    # The fake follows state_table's rules: a live lease is held, an expired one is taken over, done stays done
    claims = FakeClaims()
    deadline = Deadline(at=time.monotonic() + 5)
    first = claims.claim("d-A", "x", owner="a", lease=timedelta(seconds=10), now=NOW, attributes={}, deadline=deadline)
    held = claims.claim("d-A", "x", owner="b", lease=timedelta(seconds=10), now=NOW, attributes={}, deadline=deadline)
    taken = claims.claim(
        "d-A", "x", owner="c", lease=timedelta(seconds=10), now=later(), attributes={}, deadline=deadline
    )
    assert (first.state.value, held.state.value, taken.state.value) == ("won", "held", "taken_over")
    assert not claims.complete(first, now=NOW, attributes={}, deadline=deadline)
    assert claims.complete(taken, now=NOW, attributes={}, deadline=deadline)
    done: Any = claims.claim(
        "d-A", "x", owner="d", lease=timedelta(seconds=1), now=later(9), attributes={}, deadline=deadline
    )
    assert done.state.value == "done"


# -- AfterAllowTraffic judged after the shift (the post-shift watch, docs/decisions/0011) --------------------


def _after_shift_invocation(shifted_at: datetime | None) -> HookInvocation:
    payload: dict[str, Any] = {"DeploymentId": DEPLOYMENT, "LifecycleEventHookExecutionId": EXECUTION}
    if shifted_at is not None:
        payload["ShiftedAt"] = shifted_at.isoformat()
    return HookInvocation.model_validate(payload)


def _run_after_shift(world: World, *, shifted_at: datetime | None, now: datetime = NOW) -> HookOutcome:
    times = HookTimes(now=now, end=Deadline(at=time.monotonic() + 30))
    setup = setup_for("staging", Hook.AFTER_ALLOW_TRAFFIC)
    return run_hook(_after_shift_invocation(shifted_at), setup=setup, ports=world.ports(), times=times, owner="o")


def test_after_allow_traffic_starts_the_watch_and_reports_nothing_yet() -> None:
    # Given AfterAllowTraffic invoked by CodeDeploy right after the shift, with the watch configured
    world = world_for()
    world.watch = FakeWatch()
    # When the hook runs
    outcome = _run_after_shift(world, shifted_at=None)
    # Then it starts the watch (remembering when the traffic moved) and leaves the report to it
    assert outcome.decision == "watching", outcome.reason
    assert world.watch.started == {DEPLOYMENT: (EXECUTION, NOW)}
    assert world.reporter.accepted() == []
    assert world.metrics.asked == []
    # And a duplicated invocation starts nothing more
    assert _run_after_shift(world, shifted_at=None).decision == "duplicate"
    assert world.reporter.accepted() == []


def test_the_watch_invocation_judges_the_minutes_since_the_shift_and_reports() -> None:
    # Given the watch invoking AfterAllowTraffic five minutes after the shift, on a healthy target group
    world = world_for()
    world.watch = FakeWatch()
    world.lms.echo_token = False
    world.traffic.target_group = "targetgroup/green"
    world.metrics.metrics = TargetGroupMetrics(
        target_group="targetgroup/green", requests=1000, errors_5xx=0, p99_latency_ms=100, window_minutes=5
    )
    shifted = NOW - timedelta(minutes=5)
    # When it runs
    outcome = _run_after_shift(world, shifted_at=shifted)
    # Then the metric gate read exactly [shift, now] and the hook reported once
    assert outcome.decision == "Succeeded", outcome.reason
    assert [(a["start"], a["end"]) for a in world.metrics.asked] == [(shifted, NOW)]
    assert world.reporter.accepted() == [ReportStatus.SUCCEEDED]
    assert world.watch.started == {}


def test_a_watch_that_cannot_start_fails_the_hook_rather_than_judge_the_minutes_before_the_shift() -> None:
    world = world_for()
    world.watch = FakeWatch(error=WatchError("StartExecution of the post-shift watch failed: AccessDeniedException"))
    outcome = _run_after_shift(world, shifted_at=None)
    assert outcome.decision == "Failed"
    assert "AccessDeniedException" in outcome.reason
    assert world.reporter.accepted() == [ReportStatus.FAILED]
    assert world.metrics.asked == []
