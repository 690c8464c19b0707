"""One living Slack message per deployment (pure): what it knows, how each notification changes it, how it looks.

The status is kept in the state table between events (adapters/living_messages.py) as JSON; each event is
applied once (its id is remembered), so applying a retried event again changes nothing and the message it
renders is the same: ``chat.update`` with it is idempotent. Out-of-order events only add what they know:
a finished deployment keeps its outcome and phase when a late hook verdict arrives.
docs/decisions/0100-living-slack-message.md.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lambdas.core.config import Severity
from lambdas.notifier.notification import Notification, NotificationKind
from lambdas.notifier.presentation import when_text
from lambdas.notifier.slack_message import (
    BLOCKS_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    FIELDS_LIMIT,
    HEADER_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    SlackMessage,
    escape_mrkdwn,
    fit_text,
)

# Slack message metadata naming the deployment (https://docs.slack.dev/messaging/message-metadata): a retry
# that lost the message's ts finds it again in conversations.history (include_all_metadata).
METADATA_EVENT_TYPE = "tollgate_deployment"
SEEN_LIMIT = 200  # event ids remembered per deployment (a deployment has a few dozen events)
GATES_LIMIT = 20
ALARMS_LIMIT = 10

# Kinds whose details are not replied in the thread: the start is the message itself; an alarm that flaps
# only moves its count and last state in the message.
NO_THREAD_REPLY = frozenset(
    {NotificationKind.DEPLOYMENT_STARTED, NotificationKind.ALARM, NotificationKind.ROLLBACK_JOINED}
)

_TERMINAL = {
    NotificationKind.DEPLOYMENT_SUCCEEDED: "Succeeded",
    NotificationKind.DEPLOYMENT_FAILED: "Failed",
    NotificationKind.DEPLOYMENT_STOPPED: "Stopped",
    NotificationKind.ROLLBACK_RESTORED: "Rolled back",
    NotificationKind.CANARY_ABORTED: "Canary aborted",
}
_PHASES: dict[NotificationKind, tuple[str, str | None]] = {
    NotificationKind.DEPLOYMENT_STARTED: ("Deploying", "100% on the current version"),
    NotificationKind.DEPLOYMENT_READY: ("Ready to reroute traffic", "100% on the current version; new version ready"),
    NotificationKind.DEPLOYMENT_SUCCEEDED: ("Done", "100% on the new version"),
    NotificationKind.DEPLOYMENT_FAILED: ("Failed", None),
    NotificationKind.DEPLOYMENT_STOPPED: ("Stopped", None),
    NotificationKind.DEPLOYMENT_ROLLING_BACK: ("Rolling back", "moving back to the previous version"),
    NotificationKind.ROLLBACK_STARTED: ("Rolling back", "moving back to the previous version"),
    NotificationKind.ROLLBACK_RESTORED: ("Rolled back", "100% on the previous version"),
    NotificationKind.CANARY_STARTED: ("Canary", None),
    NotificationKind.CANARY_PROMOTED: ("Canary promoted", "100% on the new version"),
    NotificationKind.CANARY_ABORTED: ("Canary aborted", "100% on the previous version"),
    NotificationKind.APPROVAL_NEEDED: ("Waiting for approval", None),
}
_HOOK_PHASES: dict[str, tuple[str, str | None]] = {
    "BeforeInstall": ("Installing the new version", None),
    "AfterInstall": ("New version installed", "100% on the current version"),
    "AfterAllowTestTraffic": ("Test traffic on the new version", "production 100% current; test listener on new"),
    "BeforeAllowTraffic": ("About to shift production traffic", "100% on the current version"),
    "AfterAllowTraffic": ("Production traffic on the new version", "100% on the new version"),
}
_APPROVALS = {
    NotificationKind.APPROVAL_NEEDED: "waiting",
    NotificationKind.APPROVAL_GIVEN: "approved",
    NotificationKind.APPROVAL_REJECTED: "rejected",
    NotificationKind.APPROVAL_REFUSED: "refused",
    NotificationKind.APPROVAL_TIMED_OUT: "timed out",
}
_ALARM_KINDS = frozenset({NotificationKind.ALARM, NotificationKind.ROLLBACK_JOINED})
_ACTED = {
    NotificationKind.APPROVAL_GIVEN: "approved",
    NotificationKind.APPROVAL_REJECTED: "rejected",
    NotificationKind.CANARY_PROMOTED: "promoted",
    NotificationKind.CANARY_ABORTED: "aborted",
}
ACTIONS_LIMIT = 10
# Buttons (docs/decisions/0101-slack-buttons.md): action ids lambdas/slack_actions/interaction.py knows.
BUTTON_ACTIONS = {
    "approval": (("Approve", "tollgate_approve", "primary"), ("Reject", "tollgate_reject", "danger")),
    "canary": (("Promote", "tollgate_promote", "primary"), ("Abort", "tollgate_abort", "danger")),
}


class Gate(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    reason: str = ""


class AlarmLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    count: int = 0
    last_state: str = ""
    last_at: datetime | None = None


class DeploymentStatus(BaseModel):
    """What the living message shows, and the events already applied to it."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str
    environment: str
    service: str | None = None
    version: str | None = None
    phase: str = "Deploying"
    traffic: str | None = None
    outcome: str | None = None
    approval: str | None = None
    canary: dict[str, Any] = Field(default_factory=dict)
    gates: tuple[Gate, ...] = ()
    alarms: tuple[AlarmLine, ...] = ()
    worst: Severity = Severity.INFO
    started_at: datetime | None = None
    updated_at: datetime | None = None
    console_url: str | None = None
    # Who did what, when: approvals, rejections, promotions, aborts (from Slack or the CLI).
    actions: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, raw: str) -> DeploymentStatus:
        return cls.model_validate_json(raw)


def new_status(notification: Notification) -> DeploymentStatus:
    return DeploymentStatus(deployment_id=str(notification.deployment_id), environment=notification.environment)


def apply(status: DeploymentStatus, notification: Notification) -> DeploymentStatus:
    """The status after ``notification``; the same status when it was applied already."""
    if notification.event_id in status.seen:
        return status
    update: dict[str, Any] = {
        "seen": (*status.seen, notification.event_id)[-SEEN_LIMIT:],
        "service": status.service or notification.service,
        "version": notification.version or status.version,
        "console_url": status.console_url or notification.console_url,
        "started_at": min(filter(None, (status.started_at, notification.occurred_at))),
        "updated_at": max(filter(None, (status.updated_at, notification.occurred_at))),
        "worst": max(status.worst, notification.severity, key=_rank),
    }
    latest = status.updated_at is None or notification.occurred_at >= status.updated_at
    kind = notification.kind
    phase, traffic = _PHASES.get(kind, (None, None))
    if kind is NotificationKind.HOOK_VERDICT:
        hook = str(notification.evidence.get("hook") or notification.title)
        verdict = str(notification.evidence.get("status") or notification.severity.value)
        update["gates"] = _upsert_gate(status.gates, Gate(name=hook, status=verdict, reason=notification.reason[:300]))
        phase, traffic = _HOOK_PHASES.get(hook, (None, None))
    elif kind in (NotificationKind.CANARY_STEP_PASSED, NotificationKind.CANARY_STEP_FAILED):
        update["canary"] = canary_numbers(notification.evidence)
        step = update["canary"].get("step_percent")
        phase = f"Canary at {step}%" if step is not None else "Canary"
        traffic = f"{step}% on the new version" if isinstance(step, int | float) else None
    elif kind in _ALARM_KINDS:
        update["alarms"] = _count_alarm(status.alarms, notification)
        phase, traffic = None, None
    by = notification.evidence.get("by") or notification.evidence.get("approved_by")
    if kind in _APPROVALS:
        update["approval"] = _APPROVALS[kind] + (f" by {by}" if by else "")
    if by and kind in _ACTED:
        done = f"{_ACTED[kind]} by {str(by)[:64]} at {when_text(notification.occurred_at)}"
        update["actions"] = (*status.actions, done)[-ACTIONS_LIMIT:]
    if kind in _TERMINAL and (status.outcome is None or kind is NotificationKind.ROLLBACK_RESTORED):
        update["outcome"] = _TERMINAL[kind]
    finished = status.outcome is not None and kind not in _TERMINAL
    if phase and latest and not finished:
        update["phase"] = phase
    if traffic and latest and not finished:
        update["traffic"] = traffic
    return status.model_copy(update=update)


def canary_numbers(evidence: dict[str, Any]) -> dict[str, Any]:
    """The canary step's numbers worth a glance: step, decision and the verdict's numeric fields."""
    numbers: dict[str, Any] = {}
    for key in ("step_percent", "decision"):
        if key in evidence:
            numbers[key] = evidence[key]
    verdict = evidence.get("verdict")
    if isinstance(verdict, dict):
        for key, value in verdict.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and len(numbers) < 8:
                numbers[str(key)[:40]] = value
    return numbers


def render(status: DeploymentStatus, *, buttons: bool = False) -> SlackMessage:
    """The living message: within Block Kit's limits (https://docs.slack.dev/reference/block-kit/blocks).

    With ``buttons`` (interactivity configured): Approve / Reject while an approval is awaited, Promote / Abort
    while the canary runs."""
    link = status.console_url if status.console_url and len(status.console_url) <= 3000 else None
    what = " ".join(filter(None, (status.service or "deployment", status.version)))
    header = f"{_emoji(status)} {what} \u00b7 {status.environment}"
    fields = [
        ("Phase", status.phase),
        ("Outcome", status.outcome or "in progress"),
        ("Traffic", status.traffic or "unknown"),
        ("Deployment", status.deployment_id),
        ("Started", when_text(status.started_at) if status.started_at else "unknown"),
        ("Updated", when_text(status.updated_at) if status.updated_at else "unknown"),
    ]
    if status.approval:
        fields.append(("Approval", status.approval))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit_text(header, HEADER_TEXT_LIMIT, mrkdwn=False)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": fit_text(f"*{k}*\n{escape_mrkdwn(v)}", FIELD_TEXT_LIMIT, link=link)}
                for k, v in fields[:FIELDS_LIMIT]
            ],
        },
    ]
    if status.gates:
        lines = [
            f"{_gate_mark(g.status)} *{escape_mrkdwn(g.name)}*: {escape_mrkdwn(g.status)}"
            for g in status.gates[:GATES_LIMIT]
        ]
        blocks.append(_section("*Gates*\n" + "\n".join(lines), link))
    if status.canary:
        numbers = ", ".join(f"{escape_mrkdwn(str(k))} {escape_mrkdwn(_number(v))}" for k, v in status.canary.items())
        blocks.append(_section(f"*Canary*\n{numbers}", link))
    if status.alarms:
        lines = [
            f"\u2022 *{escape_mrkdwn(a.name)}*: {escape_mrkdwn(a.last_state or '?')} "
            f"(\u00d7{a.count}{', last ' + when_text(a.last_at) if a.last_at else ''})"
            for a in status.alarms[:ALARMS_LIMIT]
        ]
        blocks.append(_section("*Alarms*\n" + "\n".join(lines), link))
    if status.actions:
        blocks.append(_section("*Actions*\n" + "\n".join(f"\u2022 {escape_mrkdwn(a)}" for a in status.actions), link))
    offered = button_set(status) if buttons else None
    if offered:
        value = json.dumps({"deployment_id": status.deployment_id, "service": status.service})[:2000]
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "action_id": action_id,
                        "value": value,
                        "style": style,
                    }
                    for label, action_id, style in BUTTON_ACTIONS[offered]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": fit_text(
                        f"Tollgate \u00b7 details in the thread \u00b7 {len(status.seen)} events", SECTION_TEXT_LIMIT
                    ),
                }
            ],
        }
    )
    state = f"{status.phase}" + (f" \u2013 {status.outcome}" if status.outcome else "")
    fallback = f"{_emoji(status)} {escape_mrkdwn(what)} in {status.environment} ({status.deployment_id}): {state}"
    return SlackMessage(text=fit_text(fallback, FALLBACK_TEXT_LIMIT), blocks=blocks[:BLOCKS_LIMIT])


def button_set(status: DeploymentStatus) -> str | None:
    """Which buttons the message offers now: ``approval``, ``canary`` or none (finished, or nothing to decide)."""
    if status.outcome is not None:
        return None
    if status.approval == "waiting":
        return "approval"
    if status.phase.startswith("Canary at") or status.phase == "Canary":
        return "canary"
    return None


def metadata(status: DeploymentStatus) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {"deployment_id": status.deployment_id, "environment": status.environment},
    }


def _section(text: str, link: str | None) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit_text(text, SECTION_TEXT_LIMIT, link=link)}}


def _upsert_gate(gates: tuple[Gate, ...], gate: Gate) -> tuple[Gate, ...]:
    if any(g.name == gate.name for g in gates):
        return tuple(gate if g.name == gate.name else g for g in gates)
    return (*gates, gate)


def _count_alarm(alarms: tuple[AlarmLine, ...], notification: Notification) -> tuple[AlarmLine, ...]:
    evidence = notification.evidence
    name = str(evidence.get("alarm_name") or evidence.get("alarm") or notification.title)[:200]
    state = str(evidence.get("alarm_state") or notification.severity.value)[:40]
    old = next((a for a in alarms if a.name == name), AlarmLine(name=name))
    newer = old.last_at is None or notification.occurred_at >= old.last_at
    line = old.model_copy(
        update={
            "count": old.count + 1,
            "last_state": state if newer else old.last_state,
            "last_at": notification.occurred_at if newer else old.last_at,
        }
    )
    if any(a.name == name for a in alarms):
        return tuple(line if a.name == name else a for a in alarms)
    return (*alarms, line)


def _rank(severity: Severity) -> int:
    return (Severity.INFO, Severity.WARNING, Severity.CRITICAL).index(severity)


def _emoji(status: DeploymentStatus) -> str:
    if status.outcome == "Succeeded":
        return "\u2705"
    if status.outcome is not None:
        return "\U0001f534"
    return "\U0001f680" if status.worst is Severity.INFO else "\u26a0\ufe0f"


def _gate_mark(verdict: str) -> str:
    return "\u2705" if verdict.lower() in ("succeeded", "success", "passed", "info") else "\u274c"


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if not isinstance(value, str) else value
