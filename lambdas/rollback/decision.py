"""The rollback decision: pure, so every branch is tested without AWS and without a clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from lambdas.core.config import EnvironmentConfig, Severity, Strategy
from lambdas.rollback.alarms import AlarmStateChange, AlarmStateValue, Guard, identify_guard
from lambdas.rollback.models import (
    DeploymentPhase,
    DeploymentRecord,
    DeploymentState,
    Outcome,
    RollbackAction,
    RollbackDecision,
)


def rollback_of(
    latest: DeploymentRecord, state: DeploymentState, config: EnvironmentConfig, *, service: str, why: str
) -> RollbackDecision:
    """How to put back the service's previous version, given its latest deployment (alarm and operator share it)."""
    common = {"environment": config.name, "service": service, "deployment_id": latest.deployment_id}
    rolling = config.deployment.strategy is Strategy.ROLLING
    if latest.phase is DeploymentPhase.IN_FLIGHT and not rolling:
        return RollbackDecision(
            outcome=Outcome.ROLLBACK,
            action=RollbackAction.STOP_DEPLOYMENT,
            severity=Severity.CRITICAL,
            reason=f"{why}; deployment {latest.deployment_id} is in flight: stop it and let CodeDeploy roll back",
            restore_blue_first=config.deployment.strategy is Strategy.CANARY,
            **common,
        )
    if state.previous_task_definition is None:
        return RollbackDecision(
            outcome=Outcome.SKIPPED,
            severity=Severity.CRITICAL,
            reason=f"{why}; no task definition older than {latest.task_definition or 'the current one'} to go back to",
            **common,
        )
    action = RollbackAction.UPDATE_SERVICE if rolling else RollbackAction.REDEPLOY_PREVIOUS
    how = "update the ECS service" if rolling else "redeploy through CodeDeploy"
    return RollbackDecision(
        outcome=Outcome.ROLLBACK,
        action=action,
        severity=Severity.CRITICAL,
        target_task_definition=state.previous_task_definition,
        reason=f"{why}; {how} to the previous revision {state.previous_task_definition}",
        **common,
    )


def decide_rollback(
    alarm: AlarmStateChange, deployment_state: DeploymentState | None, config: EnvironmentConfig, now: datetime
) -> RollbackDecision:
    """Decide what an alarm state change means for the service it guards.

    ``deployment_state`` is None when the caller did not look it up (the alarm needs no rollback).
    Whether the deployment was already rolled back is not decided here: the caller claims the
    deployment with a conditional write before acting, so concurrent alarms act once.
    """
    first = _precheck(alarm, config)
    if isinstance(first, RollbackDecision):
        return first
    guard, detail = first, alarm.detail
    base = {"environment": guard.environment, "service": guard.service, "severity": guard.severity}
    latest = deployment_state.latest if deployment_state else None
    if deployment_state is None or latest is None:
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"alarm {detail.alarm_name} is in ALARM; no deployment of {guard.service} is known: no rollback",
            **base,
        )
    why = f"alarm {detail.alarm_name} is in ALARM"
    with_deployment = {**base, "deployment_id": latest.deployment_id}
    if latest.is_rollback:
        return RollbackDecision(
            outcome=Outcome.SKIPPED,
            reason=f"{why}; the latest deployment {latest.deployment_id} is itself a rollback: "
            "Tollgate never rolls back a rollback",
            **with_deployment,
        )
    began = detail.state.timestamp
    if began.tzinfo is None or latest.created_at.tzinfo is None or began < latest.created_at:
        # An alarm already in ALARM before the deployment existed says nothing about that deployment.
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"{why} since {began.isoformat()}, before deployment {latest.deployment_id} was created "
            f"({latest.created_at.isoformat()}): announced, no rollback",
            **with_deployment,
        )
    if latest.phase is DeploymentPhase.IN_FLIGHT:
        return rollback_of(latest, deployment_state, config, service=guard.service, why=why)
    window = timedelta(minutes=config.deployment.watch_window_minutes)
    if latest.phase is DeploymentPhase.SUCCEEDED and latest.completed_at is not None:
        since = now - latest.completed_at
        if since <= window:
            minutes = max(0, int(since.total_seconds() // 60))
            return rollback_of(
                latest,
                deployment_state,
                config,
                service=guard.service,
                why=f"{why} {minutes} min after deployment {latest.deployment_id} finished "
                f"(watch window {config.deployment.watch_window_minutes} min)",
            )
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"{why}; the last deployment {latest.deployment_id} finished at {latest.completed_at.isoformat()}, "
            f"outside the {config.deployment.watch_window_minutes}-minute watch window: no rollback",
            **with_deployment,
        )
    return RollbackDecision(
        outcome=Outcome.ANNOUNCED,
        reason=f"{why}; the last deployment {latest.deployment_id} ended {latest.phase.value}: "
        "the previous version is already serving, no rollback",
        **with_deployment,
    )


def service_to_inspect(alarm: AlarmStateChange, config: EnvironmentConfig) -> str | None:
    """The service whose deployments the decision depends on, or None when it does not depend on them."""
    first = _precheck(alarm, config)
    return None if isinstance(first, RollbackDecision) else first.service


def _precheck(alarm: AlarmStateChange, config: EnvironmentConfig) -> RollbackDecision | Guard:
    """Everything decided from the alarm alone; a Guard when the answer depends on the service's deployments."""
    detail = alarm.detail
    guard = identify_guard(alarm, config)
    if guard is None:
        return RollbackDecision(
            outcome=Outcome.IGNORED,
            environment=config.name,
            reason=f"alarm {detail.alarm_name} guards nothing of Tollgate's in {config.name} "
            f"(name is not tollgate-{config.name}-<service>-<kind> and no tollgate:environment/service tags)",
        )
    base = {"environment": guard.environment, "service": guard.service, "severity": guard.severity}
    if detail.state.value is not AlarmStateValue.ALARM:
        return RollbackDecision(
            outcome=Outcome.IGNORED, reason=f"alarm {detail.alarm_name} is {detail.state.value.value}", **base
        )
    if detail.state.actions_suppressed_by:
        suppressed = detail.state.actions_suppressed_reason or "no reason given"
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"alarm {detail.alarm_name} is in ALARM but its actions are suppressed by "
            f"{detail.state.actions_suppressed_by} ({suppressed}): no rollback",
            **base,
        )
    if detail.mute_detail:
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"alarm {detail.alarm_name} is in ALARM but muted: no rollback",
            **base,
        )
    if guard.severity is not Severity.CRITICAL:
        return RollbackDecision(
            outcome=Outcome.ANNOUNCED,
            reason=f"alarm {detail.alarm_name} is in ALARM; {guard.severity.value} alarms are announced, "
            "only critical ones roll back",
            **base,
        )
    return guard
