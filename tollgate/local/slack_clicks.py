"""Click a Slack button locally: the interactivity request Slack would send, correctly signed.

``signed_click(...)`` builds the Lambda function URL event of a ``block_actions`` click on one of the living
message's buttons, signed with the signing secret the way Slack signs (lambdas/slack_actions/signature.py),
so the real handler verifies it. Used by tests and by anything that plays a deployment "from Slack".
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from lambdas.slack_actions.signature import sign

LOCAL_SIGNING_SECRET = "tollgate-local-signing-secret"  # noqa: S105 - local runs only  # nosec B105


def signed_click(
    action_id: str,
    *,
    deployment_id: str,
    service: str | None,
    user_id: str,
    response_url: str | None = None,
    secret: str = LOCAL_SIGNING_SECRET,
    at: float | None = None,
) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower()},
        "actions": [
            {"action_id": action_id, "value": json.dumps({"deployment_id": deployment_id, "service": service})}
        ],
        **({"response_url": response_url} if response_url else {}),
    }
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time() if at is None else at))
    return {
        "version": "2.0",
        "headers": {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": sign(secret, timestamp, body.encode()),
        },
        "body": body,
        "isBase64Encoded": False,
    }
