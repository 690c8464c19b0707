"""Local stand-in for GitHub's side of the webhook: the shared secret the samples in events/ are signed with.

The samples ``events/github-workflow-run-completed-*.json`` are Lambda function URL events (payload
format 2.0) carrying real-shaped ``workflow_run`` deliveries, signed with ``LOCAL_WEBHOOK_SECRET``; the
local world stores that value under the secret name the webhook function is configured with.
"""

from __future__ import annotations

import json
from typing import Any

from lambdas.github_webhook.signature import sign

LOCAL_WEBHOOK_SECRET = "local-github-webhook-secret"  # noqa: S105  # nosec B105 - a local stand-in, never real
SECRET_VARIABLE = "TOLLGATE_GITHUB_WEBHOOK_SECRET"  # noqa: S105  # nosec B105 - a variable name


def install_webhook_secret(functions: Any, secretsmanager: Any) -> None:
    """Create the webhook secret each function names (once), with the local value the samples are signed with."""
    names = {str(f.environment[SECRET_VARIABLE]) for f in functions if SECRET_VARIABLE in f.environment}
    for name in sorted(names):
        secretsmanager.create_secret(Name=name, SecretString=LOCAL_WEBHOOK_SECRET)


def function_url_event(
    payload: dict[str, Any], *, delivery_id: str, secret: str = LOCAL_WEBHOOK_SECRET, event: str = "workflow_run"
) -> dict[str, Any]:
    """A Lambda function URL request (payload format 2.0) as GitHub's delivery of ``payload`` arrives."""
    body = json.dumps(payload, separators=(",", ":"))
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "user-agent": "GitHub-Hookshot/7a3c9f2",
            "x-github-event": event,
            "x-github-delivery": delivery_id,
            "x-github-hook-id": "461752301",
            "x-hub-signature-256": sign(secret, body.encode()),
            "content-length": str(len(body.encode())),
            "host": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghijklmnopqrstuvwxyz012345",
            "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefghijklmnopqrstuvwxyz012345",
            "http": {
                "method": "POST",
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "140.82.115.25",
                "userAgent": "GitHub-Hookshot/7a3c9f2",
            },
            "requestId": delivery_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2026:14:20:31 +0000",
            "timeEpoch": 1773325231000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def workflow_run_payload(*, run_id: int, conclusion: str, started: str, completed: str, sha: str) -> dict[str, Any]:
    """A ``workflow_run`` completed delivery with the fields GitHub sends (octokit/webhooks schema)."""
    repository = {
        "id": 712340581,
        "node_id": "R_kgDOKnVbZQ",
        "name": "lms",
        "full_name": "acme-lending/lms",
        "private": True,
        "owner": {"login": "acme-lending", "id": 98123456, "type": "Organization"},
        "html_url": "https://github.com/acme-lending/lms",
        "default_branch": "main",
    }
    actor = {"login": "octocat", "id": 583231, "type": "User"}
    return {
        "action": "completed",
        "workflow_run": {
            "id": run_id,
            "name": "Deploy LMS",
            "node_id": "WFR_kwLOKnVbZc8AAAAB",
            "head_branch": "main",
            "head_sha": sha,
            "path": ".github/workflows/deploy.yml",
            "display_title": "Release loan scoring v1.4.2",
            "run_number": 412,
            "event": "push",
            "status": "completed",
            "conclusion": conclusion,
            "workflow_id": 78123401,
            "check_suite_id": 21098765432,
            "url": f"https://api.github.com/repos/acme-lending/lms/actions/runs/{run_id}",
            "html_url": f"https://github.com/acme-lending/lms/actions/runs/{run_id}",
            "pull_requests": [],
            "created_at": started,
            "updated_at": completed,
            "actor": actor,
            "triggering_actor": actor,
            "run_attempt": 1,
            "run_started_at": started,
            "previous_attempt_url": None,
            "head_commit": {
                "id": sha,
                "tree_id": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                "message": "Loan scoring: cap the debt-to-income ratio",
                "timestamp": started,
                "author": {"name": "Mona Lisa", "email": "mona@acme-lending.example"},
            },
            "repository": repository,
            "head_repository": repository,
        },
        "workflow": {
            "id": 78123401,
            "name": "Deploy LMS",
            "path": ".github/workflows/deploy.yml",
            "state": "active",
        },
        "repository": repository,
        "organization": {"login": "acme-lending", "id": 98123456},
        "sender": actor,
    }
