"""Use case: one Slack button click -> verified, mapped to an approver, put on Tollgate's bus (ports only).

Slack waits three seconds for the answer (https://docs.slack.dev/tools/bolt-python/concepts/acknowledge):
the work here is one PutEvents and, for the clicker, one ephemeral reply to the click's ``response_url``;
the acting function (lambdas/canary/request_handler.py) does the rest, as for the CLI, and records each
decision once, so a double click is one approval.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lambdas.core.config import EnvironmentConfig, Severity
from lambdas.core.observability import logger
from lambdas.core.tollgate_events import DetailType, TollgateEvent
from lambdas.slack_actions.interaction import Click, Refusal, decide, parse_click
from lambdas.slack_actions.signature import refusal


class ClickPorts(Protocol):
    def signing_secret(self) -> str: ...

    def put(self, detail_type: DetailType, detail: Mapping[str, Any]) -> None: ...

    def announce(self, event: TollgateEvent) -> None: ...

    def reply(self, response_url: str, text: str) -> None: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: str

    def as_function_url(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": {"Content-Type": "text/plain"}, "body": self.body}


def handle_click(event: Mapping[str, Any], config: EnvironmentConfig, ports: ClickPorts, now: datetime) -> Answer:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    body = _body(event)
    if body is None:
        return Answer(400, "unreadable body")
    why = refusal(
        ports.signing_secret(),
        timestamp=headers.get("x-slack-request-timestamp"),
        signature=headers.get("x-slack-signature"),
        body=body,
        now=now.timestamp(),
    )
    if why is not None:
        logger.warning("refused a request not signed by Slack", extra={"reason": why})
        return Answer(401, "not signed by Slack")
    click = parse_click(body)
    if isinstance(click, str):
        logger.info("ignored a Slack interaction", extra={"reason": click})
        return Answer(200, "")
    decision = decide(click, config)
    if isinstance(decision, Refusal):
        logger.warning("Slack click refused", extra={"reason": decision.reason})
        _record_refusal(ports, config, decision, click, now)
        _reply(ports, click.response_url, decision.reply)
        return Answer(200, "")
    try:
        ports.put(decision.detail_type, decision.detail)
    except Exception as error:
        logger.exception("could not put the Slack request on the bus")
        _reply(ports, click.response_url, f"Tollgate could not take the request ({type(error).__name__}); try again.")
        return Answer(200, "")
    logger.info("Slack click requested", extra={"detail_type": decision.detail_type.value, **decision.detail})
    _reply(ports, click.response_url, decision.reply)
    return Answer(200, "")


def _record_refusal(
    ports: ClickPorts, config: EnvironmentConfig, refused: Refusal, click: Click, now: datetime
) -> None:
    deployment_id, service = click.deployment_id, click.service
    event = TollgateEvent(
        detail_type=DetailType.APPROVAL_REFUSED,
        environment=config.name,
        severity=Severity.WARNING,
        summary=f"Slack click refused for {deployment_id}"[:500],
        reason=refused.reason,
        service=service,
        deployment_id=deployment_id if deployment_id.startswith("d-") else None,
        occurred_at=now,
        evidence={"via": "slack", "slack_user": click.user_id, "action": click.action_id},
    )
    try:
        ports.announce(event)
    except Exception:
        logger.exception("could not record the refused Slack click", extra={"reason": refused.reason})


def _reply(ports: ClickPorts, response_url: str | None, text: str) -> None:
    if not response_url:
        return
    try:
        ports.reply(response_url, text)
    except Exception:
        logger.warning("could not reply to the Slack click")


def _body(event: Mapping[str, Any]) -> bytes | None:
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None
    return raw.encode("utf-8")
