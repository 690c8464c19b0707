"""The ``workflow_run`` webhook payload -> a build record (pure).

https://docs.github.com/en/webhooks/webhook-events-and-payloads#workflow_run — ``action`` is
``requested`` | ``in_progress`` | ``completed``; only completed runs are builds with a result. The run's
``run_started_at`` and ``updated_at`` bound its duration, ``conclusion`` is its result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.ledger.model import BuildRecord

# A repository's full name ("owner/name") is part of the build record's partition key (at most 2,048 bytes:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-partition-sort-keys);
# GitHub's owner and repository names are at most 39 and 100 characters.
KEY_TEXT_MAX = 200


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


def _text(value: object, limit: int = 1000) -> str | None:
    """A string field as stored, or None: not a string, or not UTF-8 (a lone surrogate), or too long."""
    if not isinstance(value, str) or len(value) > limit:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _key_text(value: object, name: str) -> str:
    """A field that becomes part of a record's key (DynamoDB keys are bounded): short printable ASCII."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= KEY_TEXT_MAX
        or not value.isascii()
        or not value.isprintable()
    ):
        raise NotABuildError(f"{name} is not a usable name")
    return value


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else None


def build_from_payload(payload: Any) -> BuildRecord:
    """Every field is checked for its type: whoever holds the secret can still sign an odd payload."""
    if not isinstance(payload, dict) or payload.get("action") != "completed":
        raise NotABuildError("not a completed workflow run")
    run, repository = payload.get("workflow_run"), payload.get("repository")
    if not isinstance(run, dict) or not isinstance(repository, dict):
        raise NotABuildError("workflow_run or repository is missing")
    run_id, attempt = _number(run.get("id")), _number(run.get("run_attempt", 1))
    if run_id is None or attempt is None:
        raise NotABuildError("workflow_run.id or run_attempt is not a number")
    conclusion, sha = _text(run.get("conclusion"), 64), _text(run.get("head_sha"), 64)
    if conclusion is None or sha is None:
        raise NotABuildError("workflow_run.conclusion or head_sha is missing")
    actor = run.get("triggering_actor") or run.get("actor")
    workflow = payload.get("workflow")
    return BuildRecord(
        run_id=run_id,
        run_attempt=attempt,
        repository=_key_text(repository.get("full_name"), "repository.full_name"),
        workflow=_text(run.get("name"), 200)
        or (_text(workflow.get("name"), 200) if isinstance(workflow, dict) else None)
        or "workflow",
        conclusion=conclusion,
        head_sha=sha,
        head_branch=_text(run.get("head_branch"), 255),
        actor=_text(actor.get("login"), 100) if isinstance(actor, dict) else None,
        started_at=_time(run.get("run_started_at") or run.get("created_at"), "run_started_at"),
        completed_at=_time(run.get("updated_at"), "updated_at"),
        url=_text(run.get("html_url"), 2000),
    )
