"""Use case: one webhook delivery -> at most one build record.

Order matters: size cap (413), then signature over the raw bytes (401, nothing parsed or recorded),
then the event type, then the record, written together with the delivery id so a redelivered or
replayed ``X-GitHub-Delivery`` records nothing twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from lambdas.github_webhook.ports import BuildWriter, SecretUnavailableError, WebhookSecret
from lambdas.github_webhook.signature import verify
from lambdas.github_webhook.workflow_run import NotABuildError, build_from_payload

DELIVERY_ID_MAX = 100  # GitHub's delivery ids are GUIDs (36 characters)


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]  # lower-cased names, as function URLs deliver them
    body: bytes | None  # None: the body was not valid base64
    size: int

    @classmethod
    def from_function_url(cls, event: Any) -> Delivery:
        if not isinstance(event, dict):
            return cls({}, b"", 0)
        raw_headers = event.get("headers")
        if not isinstance(raw_headers, dict):
            raw_headers = {}
        headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        text = event.get("body") or ""
        if not isinstance(text, str):
            return cls(headers, None, 0)
        if event.get("isBase64Encoded"):
            try:
                body: bytes | None = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                return cls(headers, None, len(text))
        else:
            body = text.encode("utf-8", errors="surrogatepass")
        return cls(headers, body, len(body or b""))


@dataclass(frozen=True)
class Answer:
    status: int
    decision: str
    reason: str

    def function_url_response(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"decision": self.decision, "reason": self.reason}),
        }


def receive(
    delivery: Delivery, *, secret: WebhookSecret, builds: BuildWriter, environment: str, max_body_bytes: int
) -> Answer:
    if delivery.size > max_body_bytes:
        return Answer(413, "rejected", f"body of {delivery.size} bytes is over the {max_body_bytes}-byte cap")
    if delivery.body is None:
        return Answer(400, "rejected", "body is not valid base64")
    try:
        key = secret.value()
    except SecretUnavailableError as error:
        return Answer(500, "error", f"webhook secret unavailable: {error}")
    if not verify(key, delivery.body, delivery.headers.get("x-hub-signature-256")):
        return Answer(401, "rejected", "missing or wrong X-Hub-Signature-256")
    event_name = delivery.headers.get("x-github-event", "")
    if event_name == "ping":
        return Answer(200, "ignored", "ping")
    if event_name != "workflow_run":
        return Answer(202, "ignored", f"event {event_name!r} is not recorded")
    delivery_id = delivery.headers.get("x-github-delivery", "")
    if (
        not delivery_id
        or len(delivery_id) > DELIVERY_ID_MAX
        or not delivery_id.isascii()
        or not delivery_id.isprintable()
    ):
        return Answer(400, "rejected", "X-GitHub-Delivery is missing or not a delivery id")  # it keys a record
    try:
        build = build_from_payload(json.loads(delivery.body))
    except (ValueError, RecursionError, NotABuildError) as error:  # JSONDecodeError is a ValueError
        return Answer(202, "ignored", str(error)[:200])
    if not builds.put_build_once(build, environment=environment, delivery_id=delivery_id):
        return Answer(200, "duplicate", f"delivery {delivery_id} was already recorded")
    return Answer(201, "recorded", f"{build.workflow} run {build.run_id} ({build.conclusion}) recorded")
