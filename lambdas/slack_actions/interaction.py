"""What a button click asks for, and whether its clicker may (pure).

The click is a ``block_actions`` interaction: a form body whose ``payload`` field is JSON naming the user,
the action (``action_id``) and its ``value``
(https://docs.slack.dev/interactivity/handling-user-interaction). Tollgate's buttons carry the
deployment and service in the value (lambdas/notifier/living_message.py). The Slack user must be one of
``alerts.slack_approvers``; the approver name it maps to is what the request says ``by``, so the function
that acts checks and records it exactly as for the CLI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from lambdas.core.config import EnvironmentConfig
from lambdas.core.tollgate_events import DetailType

ACTIONS: dict[str, DetailType] = {
    "tollgate_approve": DetailType.APPROVE_REQUESTED,
    "tollgate_reject": DetailType.REJECT_REQUESTED,
    "tollgate_promote": DetailType.CANARY_PROMOTE_REQUESTED,
    "tollgate_abort": DetailType.CANARY_ABORT_REQUESTED,
}
VERBS = {
    "tollgate_approve": "approve",
    "tollgate_reject": "reject",
    "tollgate_promote": "promote",
    "tollgate_abort": "abort",
}


@dataclass(frozen=True)
class Click:
    user_id: str
    user_name: str
    action_id: str
    deployment_id: str
    service: str | None
    response_url: str | None


@dataclass(frozen=True)
class Request:
    """Put this on Tollgate's bus: the same request the CLI makes."""

    detail_type: DetailType
    detail: dict[str, Any]
    reply: str


@dataclass(frozen=True)
class Refusal:
    reason: str
    reply: str


def parse_click(body: bytes) -> Click | str:
    """The click, or why the body is not one of Tollgate's button clicks."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, ValueError, KeyError, IndexError):
        return "not an interaction payload"
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return "not a block_actions interaction"
    actions = payload.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    action_id = str(action.get("action_id", ""))
    if action_id not in ACTIONS:
        return f"unknown action {action_id[:40]!r}"
    try:
        value = json.loads(str(action.get("value", "")))
    except ValueError:
        return "button value is not JSON"
    raw_user = payload.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    if not isinstance(value, dict) or not value.get("deployment_id") or not user.get("id"):
        return "button value names no deployment, or no user"
    response_url = payload.get("response_url")
    return Click(
        user_id=str(user["id"])[:32],
        user_name=str(user.get("username") or user.get("name") or "")[:64],
        action_id=action_id,
        deployment_id=str(value["deployment_id"])[:64],
        service=str(value["service"])[:32] if value.get("service") else None,
        response_url=str(response_url) if isinstance(response_url, str) else None,
    )


def decide(click: Click, config: EnvironmentConfig) -> Request | Refusal:
    verb = VERBS[click.action_id]
    approver = config.alerts.slack_approvers.get(click.user_id)
    if approver is None:
        reason = f"Slack user {click.user_id} ({click.user_name or '?'}) is not an approver in {config.name}"
        return Refusal(reason=reason, reply=f"You may not {verb} deployments in {config.name}: {reason}.")
    detail: dict[str, Any] = {
        "environment": config.name,
        "deployment_id": click.deployment_id,
        "by": approver,
        "reason": f"clicked {verb} in Slack as {click.user_id}",
    }
    if click.service:
        detail["service"] = click.service
    reply = f"{verb.capitalize()} requested for {click.deployment_id} by {approver}; the message shows the outcome."
    return Request(detail_type=ACTIONS[click.action_id], detail=detail, reply=reply)
