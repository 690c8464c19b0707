"""decide_rollback: every branch as a table, and properties that hold for any alarm and deployment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.core.config import EnvironmentConfig, Severity, load_environment
from lambdas.rollback.alarms import AlarmKind, AlarmStateChange, alarm_name
from lambdas.rollback.decision import decide_rollback, service_to_inspect
from lambdas.rollback.models import (
    DeploymentPhase,
    DeploymentRecord,
    DeploymentState,
    Outcome,
    RollbackAction,
)
from tests.unit.rollback.builders import alarm_state_change

NOW = datetime(2026, 3, 12, 14, 21, tzinfo=UTC)
CURRENT = "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:7"
PREVIOUS = "arn:aws:ecs:eu-west-1:333333333333:task-definition/lms-production-backend:6"
CONFIGS = {name: load_environment(name) for name in ("development", "staging", "production")}


def _alarm(env: str = "production", kind: AlarmKind = AlarmKind.ERROR_RATE, **options: Any) -> AlarmStateChange:
    return AlarmStateChange.model_validate(alarm_state_change(alarm_name(env, "backend", kind), at=NOW, **options))


def _state(
    phase: DeploymentPhase = DeploymentPhase.IN_FLIGHT,
    *,
    finished_ago: timedelta | None = None,
    is_rollback: bool = False,
    previous: str | None = PREVIOUS,
) -> DeploymentState:
    completed = NOW - finished_ago if finished_ago is not None else None
    latest = DeploymentRecord(
        deployment_id="d-ABCDEF123",
        phase=phase,
        created_at=NOW - timedelta(minutes=30),
        completed_at=completed,
        is_rollback=is_rollback,
        task_definition=CURRENT,
    )
    return DeploymentState(service="backend", latest=latest, previous_task_definition=previous)


@pytest.mark.parametrize(
    ("env", "state", "outcome", "action"),
    [
        # In flight: CodeDeploy stops and rolls back; rolling updates go back to the previous task definition.
        ("production", _state(), Outcome.ROLLBACK, RollbackAction.STOP_DEPLOYMENT),
        ("staging", _state(), Outcome.ROLLBACK, RollbackAction.STOP_DEPLOYMENT),
        ("development", _state(), Outcome.ROLLBACK, RollbackAction.UPDATE_SERVICE),
        # Finished within the watch window: redeploy the previous revision.
        ("production", _state(DeploymentPhase.SUCCEEDED, finished_ago=timedelta(minutes=5)), Outcome.ROLLBACK,
         RollbackAction.REDEPLOY_PREVIOUS),
        ("development", _state(DeploymentPhase.SUCCEEDED, finished_ago=timedelta(minutes=5)), Outcome.ROLLBACK,
         RollbackAction.UPDATE_SERVICE),
        # Finished outside the window, failed or stopped: announce only.
        ("production", _state(DeploymentPhase.SUCCEEDED, finished_ago=timedelta(hours=3)), Outcome.ANNOUNCED,
         RollbackAction.NONE),
        ("staging", _state(DeploymentPhase.FAILED, finished_ago=timedelta(minutes=1)), Outcome.ANNOUNCED,
         RollbackAction.NONE),
        ("staging", _state(DeploymentPhase.STOPPED, finished_ago=timedelta(minutes=1)), Outcome.ANNOUNCED,
         RollbackAction.NONE),
        # A rollback is never rolled back; without a previous revision there is nothing to go back to.
        ("production", _state(is_rollback=True), Outcome.SKIPPED, RollbackAction.NONE),
        ("production", _state(DeploymentPhase.SUCCEEDED, finished_ago=timedelta(minutes=5), previous=None),
         Outcome.SKIPPED, RollbackAction.NONE),
        ("development", _state(previous=None), Outcome.SKIPPED, RollbackAction.NONE),
        # No deployment known at all.
        ("production", DeploymentState(service="backend"), Outcome.ANNOUNCED, RollbackAction.NONE),
        ("production", None, Outcome.ANNOUNCED, RollbackAction.NONE),
    ],
)  # fmt: skip
def test_decision_for_each_deployment_situation(
    env: str, state: DeploymentState | None, outcome: Outcome, action: RollbackAction
) -> None:
    # Given an ALARM of the environment's backend 5xx alarm and the backend's deployments
    # When the decision is made
    decision = decide_rollback(_alarm(env), state, CONFIGS[env], NOW)

    # Then it takes the expected branch and explains itself
    assert (decision.outcome, decision.action) == (outcome, action)
    assert decision.reason
    assert decision.service == "backend"


def test_redeploy_targets_the_previous_task_definition() -> None:
    decision = decide_rollback(
        _alarm(), _state(DeploymentPhase.SUCCEEDED, finished_ago=timedelta(minutes=5)), CONFIGS["production"], NOW
    )
    assert decision.target_task_definition == PREVIOUS
    assert decision.deployment_id == "d-ABCDEF123"


@pytest.mark.parametrize(("env", "restore"), [("production", True), ("staging", False)])
def test_only_tollgates_canary_restores_blue_before_stopping(env: str, restore: bool) -> None:
    decision = decide_rollback(_alarm(env), _state(), CONFIGS[env], NOW)
    assert decision.restore_blue_first is restore


def test_watch_window_edge_is_inclusive() -> None:
    window = timedelta(minutes=CONFIGS["production"].deployment.watch_window_minutes)
    at_edge = decide_rollback(
        _alarm(), _state(DeploymentPhase.SUCCEEDED, finished_ago=window), CONFIGS["production"], NOW
    )
    past_edge = decide_rollback(
        _alarm(), _state(DeploymentPhase.SUCCEEDED, finished_ago=window + timedelta(seconds=1)),
        CONFIGS["production"], NOW,
    )  # fmt: skip
    assert at_edge.outcome is Outcome.ROLLBACK
    assert past_edge.outcome is Outcome.ANNOUNCED


@pytest.mark.parametrize(
    ("options", "kind", "outcome", "words"),
    [
        ({"state": "OK"}, AlarmKind.ERROR_RATE, Outcome.IGNORED, "is OK"),
        ({"state": "INSUFFICIENT_DATA"}, AlarmKind.P99_LATENCY, Outcome.IGNORED, "INSUFFICIENT_DATA"),
        ({"suppressed_by": "WaitPeriod"}, AlarmKind.SERVICE_UNHEALTHY, Outcome.ANNOUNCED, "suppressed by WaitPeriod"),
        ({"muted": True}, AlarmKind.ERROR_RATE, Outcome.ANNOUNCED, "muted"),
        ({}, AlarmKind.LOAN_SUBMISSIONS_ANOMALY, Outcome.ANNOUNCED, "only critical ones roll back"),
    ],
)
def test_alarm_states_that_never_roll_back(
    options: dict[str, Any], kind: AlarmKind, outcome: Outcome, words: str
) -> None:
    # Given a deployment in flight, When an alarm arrives that must not act
    decision = decide_rollback(_alarm(kind=kind, **options), _state(), CONFIGS["production"], NOW)

    # Then nothing is rolled back, for a stated reason; and the deployments need not even be read
    assert decision.outcome is outcome
    assert words in decision.reason
    assert service_to_inspect(_alarm(kind=kind, **options), CONFIGS["production"]) is None


@pytest.mark.parametrize(
    "name",
    [
        "tollgate-staging-backend-5xx-rate",  # another environment's alarm
        "tollgate-production-payments-5xx-rate",  # not an LMS service
        "tollgate-production-backend-cpu",  # not a Tollgate alarm kind
        "billing-queue-depth",
    ],
)
def test_alarm_not_guarded_in_this_environment_is_ignored(name: str) -> None:
    alarm = AlarmStateChange.model_validate(alarm_state_change(name, at=NOW))
    decision = decide_rollback(alarm, _state(), CONFIGS["production"], NOW)
    assert decision.outcome is Outcome.IGNORED
    assert "guards nothing" in decision.reason


@pytest.mark.parametrize(
    ("tags", "outcome"),
    [
        ({"tollgate:environment": "production", "tollgate:service": "backend"}, Outcome.ROLLBACK),
        ({"tollgate:environment": "production", "tollgate:service": "backend", "tollgate:severity": "WARNING"},
         Outcome.ANNOUNCED),
        ({"tollgate:environment": "production", "tollgate:service": "backend", "tollgate:severity": "sev1"},
         Outcome.ROLLBACK),
        ({"tollgate:environment": "staging", "tollgate:service": "backend"}, Outcome.IGNORED),
        ({"tollgate:service": "backend"}, Outcome.IGNORED),
    ],
)  # fmt: skip
def test_alarms_opt_in_by_tags(tags: dict[str, str], outcome: Outcome) -> None:
    alarm = AlarmStateChange.model_validate(alarm_state_change("lms-team-alarm", tags=tags, at=NOW))
    assert decide_rollback(alarm, _state(), CONFIGS["production"], NOW).outcome is outcome


def test_alarm_tags_in_the_api_list_shape_are_read() -> None:
    event = alarm_state_change("lms-team-alarm", at=NOW)
    event["detail"]["alarmTags"] = [
        {"Key": "tollgate:environment", "Value": "production"},
        {"Key": "tollgate:service", "Value": "backend"},
    ]
    alarm = AlarmStateChange.model_validate(event)
    assert decide_rollback(alarm, _state(), CONFIGS["production"], NOW).outcome is Outcome.ROLLBACK


# -- properties -------------------------------------------------------------------------------------

phases = st.sampled_from(list(DeploymentPhase))
states = st.sampled_from(["OK", "ALARM", "INSUFFICIENT_DATA"])
kinds = st.sampled_from(list(AlarmKind))
environments = st.sampled_from(list(CONFIGS))
ages = st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))


@st.composite
def situations(draw: st.DrawFn) -> tuple[EnvironmentConfig, AlarmStateChange, DeploymentState | None]:
    env = draw(environments)
    alarm = _alarm(
        env,
        draw(kinds),
        state=draw(states),
        suppressed_by=draw(st.sampled_from([None, "Alarm", "ExtensionPeriod"])),
        muted=draw(st.booleans()),
    )
    if draw(st.booleans()):
        return CONFIGS[env], alarm, None
    state = _state(
        draw(phases),
        finished_ago=draw(ages),
        is_rollback=draw(st.booleans()),
        previous=draw(st.sampled_from([PREVIOUS, None])),
    )
    return CONFIGS[env], alarm, state


@settings(max_examples=300, deadline=None)
@given(situations())
def test_only_a_critical_unsuppressed_alarm_ever_acts(
    situation: tuple[EnvironmentConfig, AlarmStateChange, DeploymentState | None],
) -> None:
    config, alarm, state = situation
    decision = decide_rollback(alarm, state, config, NOW)
    if decision.acts:
        detail = alarm.detail
        assert detail.state.value.value == "ALARM"
        assert not detail.state.actions_suppressed_by
        assert not detail.mute_detail
        assert decision.severity is Severity.CRITICAL
        assert state is not None and state.latest is not None
        assert not state.latest.is_rollback
        assert decision.deployment_id == state.latest.deployment_id


@settings(max_examples=300, deadline=None)
@given(situations())
def test_the_action_matches_the_strategy_and_names_its_target(
    situation: tuple[EnvironmentConfig, AlarmStateChange, DeploymentState | None],
) -> None:
    config, alarm, state = situation
    decision = decide_rollback(alarm, state, config, NOW)
    if decision.action is RollbackAction.STOP_DEPLOYMENT:
        assert config.deployment.strategy != "rolling"
        assert state is not None and state.latest is not None
        assert state.latest.phase is DeploymentPhase.IN_FLIGHT
    if decision.action in (RollbackAction.REDEPLOY_PREVIOUS, RollbackAction.UPDATE_SERVICE):
        assert decision.target_task_definition == PREVIOUS
        assert (decision.action is RollbackAction.UPDATE_SERVICE) == (config.deployment.strategy == "rolling")
    assert decision.acts == (decision.action is not RollbackAction.NONE)


@settings(max_examples=200, deadline=None)
@given(situations(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
def test_the_decision_is_pure(
    situation: tuple[EnvironmentConfig, AlarmStateChange, DeploymentState | None], later: timedelta
) -> None:
    config, alarm, state = situation
    assert decide_rollback(alarm, state, config, NOW) == decide_rollback(alarm, state, config, NOW)
    # A finished deployment only ever leaves the watch window as time passes, never re-enters it.
    finished = state and state.latest and state.latest.phase is not DeploymentPhase.IN_FLIGHT
    if finished and not decide_rollback(alarm, state, config, NOW).acts:
        assert not decide_rollback(alarm, state, config, NOW + later).acts
