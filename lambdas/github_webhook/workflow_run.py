"""The ``workflow_run`` webhook payload -> a build record (pure).

https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run — ``action`` is
``requested`` | ``in_progress`` | ``completed``; only completed runs are builds with a result. The run's
``run_started_at`` and ``updated_at`` bound its duration, ``conclusion`` is its result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.ledger.model import BuildRecord


class NotABuildError(ValueError):
    """The payload is not a completed workflow run (or lacks a field a build needs)."""


def _time(raw: object, name: str) -> datetime:
    if not isinstance(raw, str):
        raise NotABuildError(f"workflow_run.{name} is missing")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as error:
        raise NotABuildError(f"workflow_run.{name} is not a time") from error
    if moment.tzinfo is None:
        raise NotABuildError(f"workflow_run.{name} has no time zone")
    return moment


def build_from_payload(payload: Any) -> BuildRecord:
    if not isinstance(payload, dict) or payload.get("action") != "completed":
        raise NotABuildError("not a completed workflow run")
    run, repository = payload.get("workflow_run"), payload.get("repository")
    if not isinstance(run, dict) or not isinstance(repository, dict):
        raise NotABuildError("workflow_run or repository is missing")
    run_id, attempt = run.get("id"), run.get("run_attempt", 1)
    if not isinstance(run_id, int) or isinstance(run_id, bool) or not isinstance(attempt, int):
        raise NotABuildError("workflow_run.id or run_attempt is not a number")
    conclusion, sha = run.get("conclusion"), run.get("head_sha")
    if not isinstance(conclusion, str) or not isinstance(sha, str):
        raise NotABuildError("workflow_run.conclusion or head_sha is missing")
    actor = run.get("triggering_actor") or run.get("actor") or {}
    return BuildRecord(
        run_id=run_id,
        run_attempt=attempt,
        repository=str(repository.get("full_name", "")),
        workflow=str(run.get("name") or (payload.get("workflow") or {}).get("name") or "workflow"),
        conclusion=conclusion,
        head_sha=sha,
        head_branch=run.get("head_branch") if isinstance(run.get("head_branch"), str) else None,
        actor=actor.get("login") if isinstance(actor, dict) else None,
        started_at=_time(run.get("run_started_at") or run.get("created_at"), "run_started_at"),
        completed_at=_time(run.get("updated_at"), "updated_at"),
        url=run.get("html_url") if isinstance(run.get("html_url"), str) else None,
    )
