"""A deployment's compliance record (pure): who deployed and approved, every gate with its evidence,
canary numbers, alerts, outcome — built from the ledger's story and the environment's alert routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.core.config import EnvironmentConfig
from lambdas.ledger.model import DecisionRecord, DeploymentStory

APPROVALS = frozenset(
    {"Approval Given", "Approval Rejected", "Approval Refused", "Approval Timed Out", "Approval Needed"}
)
CANARY = frozenset({"Canary Started", "Canary Step Passed", "Canary Step Failed", "Canary Promoted", "Canary Aborted"})
ROLLBACK = frozenset({"Rollback Started", "Rollback Restored", "Rollback Skipped", "Alarm Joined Rollback"})


@dataclass(frozen=True)
class Gate:
    hook: str
    name: str
    passed: bool
    reason: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class ComplianceRecord:
    story: DeploymentStory
    gates: tuple[Gate, ...]
    approvals: tuple[DecisionRecord, ...]
    canary: tuple[DecisionRecord, ...]
    rollback: tuple[DecisionRecord, ...]
    alerts: tuple[tuple[DecisionRecord, tuple[str, ...]], ...]  # each announcement and where it was routed


def routes_for(severity: str, config: EnvironmentConfig) -> tuple[str, ...]:
    """Where the notifier sends an announcement of this severity (the config's alert routes)."""
    targets: list[str] = []
    for route in config.alerts.routes:
        if any(s.value == severity for s in route.severities):
            targets += [route.slack_channel] if route.slack_channel else []
            targets += list(route.emails)
    return tuple(dict.fromkeys(targets))


def gates_of(decision: DecisionRecord) -> list[Gate]:
    checks = decision.evidence.get("checks")
    hook = str(decision.evidence.get("hook", "hook"))
    if not isinstance(checks, list) or not checks:
        return [Gate(hook, decision.summary, decision.evidence.get("status") == "Succeeded", decision.why, {})]
    gates = []
    for check in checks:
        if isinstance(check, dict):
            details = check.get("details")
            gates.append(
                Gate(
                    hook=hook,
                    name=str(check.get("name", "check")),
                    passed=bool(check.get("passed")),
                    reason=str(check.get("reason", "")),
                    evidence=details if isinstance(details, dict) else {},
                )
            )
    return gates


def compliance_record(story: DeploymentStory, config: EnvironmentConfig) -> ComplianceRecord:
    decisions = story.decisions
    return ComplianceRecord(
        story=story,
        gates=tuple(g for d in decisions if d.what == "Hook Verdict" for g in gates_of(d)),
        approvals=tuple(d for d in decisions if d.what in APPROVALS),
        canary=tuple(d for d in decisions if d.what in CANARY),
        rollback=tuple(d for d in decisions if d.what in ROLLBACK or d.what == "Alarm Announced"),
        alerts=tuple((d, routes_for(d.severity, config)) for d in decisions),
    )
