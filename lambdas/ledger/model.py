"""What the ledger holds: one record per deployment, per decision, per build (pure, no AWS).

A deployment record is merged from many events that may arrive twice and in any order, so it keeps the
first time each state was seen instead of a single "current" state; the outcome, start and end are
derived from those times here, the same way for every reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    IN_PROGRESS = "in_progress"
    UNKNOWN = "unknown"


# CodeDeploy's states (START, READY, SUCCESS, FAILURE, STOP) and the ones ECS deployment events map to.
START, READY, SUCCESS, FAILURE, STOP = "START", "READY", "SUCCESS", "FAILURE", "STOP"
TERMINAL_OUTCOMES = {SUCCESS: Outcome.SUCCEEDED, FAILURE: Outcome.FAILED, STOP: Outcome.STOPPED}
KNOWN_STATES = (START, READY, SUCCESS, FAILURE, STOP)


@dataclass(frozen=True)
class DeploymentRecord:
    deployment_id: str
    environment: str
    service: str | None = None
    states: Mapping[str, datetime] = field(default_factory=dict)
    created_at: datetime | None = None  # CodeDeploy's createTime: the start even if START is lost
    version: str | None = None
    commit: str | None = None
    committed_at: datetime | None = None
    started_by: str | None = None
    description: str | None = None
    is_rollback: bool = False  # a deployment that rolls another one back (CodeDeploy or Tollgate)
    rollback_of: str | None = None
    rolled_back: bool = False
    rollback_deployment_id: str | None = None
    restored_at: datetime | None = None
    time_to_restore_seconds: float | None = None  # measured by the rollback function, when it says so

    @property
    def outcome(self) -> Outcome:
        # A terminal state wins whatever arrived before or after it (SUCCESS before START is still success).
        terminal = [(when, state) for state, when in self.states.items() if state in TERMINAL_OUTCOMES]
        if terminal:
            return TERMINAL_OUTCOMES[min(terminal)[1]]
        return Outcome.IN_PROGRESS if self.states else Outcome.UNKNOWN

    @property
    def started_at(self) -> datetime | None:
        candidates = [t for t in (self.created_at, self.states.get(START)) if t is not None]
        if not candidates and self.states:
            candidates = list(self.states.values())
        return min(candidates) if candidates else None

    @property
    def ended_at(self) -> datetime | None:
        ends = [when for state, when in self.states.items() if state in TERMINAL_OUTCOMES]
        return min(ends) if ends else None

    @property
    def duration_seconds(self) -> float | None:
        start, end = self.started_at, self.ended_at
        return (end - start).total_seconds() if start and end else None

    @property
    def restore_seconds(self) -> float | None:
        """Time to restore: the rollback function's measure, else failure -> rollback deployment done."""
        if self.time_to_restore_seconds is not None:
            return self.time_to_restore_seconds
        if self.restored_at and self.ended_at:
            return max(0.0, (self.restored_at - self.ended_at).total_seconds())
        return None


@dataclass(frozen=True)
class DecisionRecord:
    """One thing Tollgate (or a person through Tollgate) decided: what, why, evidence, actor, when."""

    event_id: str
    environment: str
    what: str  # the announcement's detail type, e.g. "Hook Verdict"
    summary: str
    why: str
    severity: str
    occurred_at: datetime
    actor: str
    service: str | None = None
    deployment_id: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildRecord:
    """One completed GitHub Actions workflow run."""

    run_id: int
    run_attempt: int
    repository: str
    workflow: str
    conclusion: str  # success | failure | cancelled | timed_out | ...
    head_sha: str
    head_branch: str | None
    actor: str | None
    started_at: datetime
    completed_at: datetime
    url: str | None = None

    @property
    def duration_seconds(self) -> float:
        return max(0.0, (self.completed_at - self.started_at).total_seconds())

    @property
    def succeeded(self) -> bool:
        return self.conclusion == "success"


@dataclass(frozen=True)
class DeploymentStory:
    """A deployment with every decision about it, oldest first (what `tollgate show` prints)."""

    deployment: DeploymentRecord
    decisions: tuple[DecisionRecord, ...] = ()
