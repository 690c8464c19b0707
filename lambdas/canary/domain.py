"""Pure decisions of the canary controller: weights, rule placement, bakes, verdicts, approvals. No boto3, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from lambdas.core.config import Deployment


class BakeState(StrEnum):
    BAKING = "baking"
    DONE = "done"  # the bake is over (or was promoted): analyse
    ABORTED = "aborted"


class StepDecision(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    EXTEND = "extend"  # too little traffic to decide: bake longer


class ApprovalOutcome(StrEnum):
    RECORD = "record"
    REFUSED = "refused"


@dataclass(frozen=True)
class Weights:
    original: int
    replacement: int


def weights_for(step_percent: int) -> Weights:
    """The listener's split for one partial step: blue (100 - p) / green p."""
    if not 0 < step_percent < 100:
        raise ValueError(f"a partial canary step is 1..99 percent, not {step_percent}")
    return Weights(original=100 - step_percent, replacement=step_percent)


def partial_steps(deployment: Deployment) -> tuple[int, ...]:
    """The steps the controller holds; CodeDeploy's AllowTraffic makes the final 100."""
    return tuple(step for step in deployment.canary_steps if step < 100)


def canary_rule_priority(taken: set[int], service_rule_priority: int) -> int:
    """The lowest free priority, which must come before the service's own rule so it wins.

    ELBv2 evaluates rules from the lowest priority number; 1 is the highest priority.
    """
    for priority in range(1, service_rule_priority):
        if priority not in taken:
            return priority
    raise ValueError(f"no free listener rule priority before the service's rule (priority {service_rule_priority})")


@dataclass(frozen=True)
class Bake:
    started_at: datetime
    until: datetime
    extended_seconds: int = 0


def bake_state(bake: Bake, *, now: datetime, promoted: bool, aborted: bool) -> BakeState:
    if aborted:
        return BakeState.ABORTED
    if promoted or now >= bake.until:
        return BakeState.DONE
    return BakeState.BAKING


def decide_step(
    verdict: dict[str, Any], *, bake: Bake, max_extension_seconds: int, extension_seconds: int
) -> StepDecision:
    """pass passes; fail fails; inconclusive extends while it asks for more traffic and extension is left,
    and otherwise fails: inconclusive never passes."""
    outcome = verdict.get("verdict")
    if outcome == "pass":
        return StepDecision.PASSED
    asks_for_traffic = outcome == "inconclusive" and verdict.get("more_traffic_needed") is True
    room = extension_seconds > 0 and bake.extended_seconds + extension_seconds <= max_extension_seconds
    if asks_for_traffic and room:
        return StepDecision.EXTEND
    return StepDecision.FAILED


def extended(bake: Bake, seconds: int) -> Bake:
    return Bake(bake.started_at, bake.until + timedelta(seconds=seconds), bake.extended_seconds + seconds)


def judge_approver(approvers: tuple[str, ...], by: str) -> ApprovalOutcome:
    return ApprovalOutcome.RECORD if by in approvers else ApprovalOutcome.REFUSED


def bake_left_seconds(bake: Bake, *, now: datetime) -> int:
    return max(0, int((bake.until - now).total_seconds()))
