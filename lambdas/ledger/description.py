"""The CodeDeploy deployment description the LMS's workflow writes, read back for exact lead times.

The LMS deploy workflow creates each deployment with a description of ``key=value`` pairs
(docs/lms-deploy-workflow.md), e.g.::

    tollgate version=1.4.2 commit=9fceb02d0ae598e95dc970b74767f19372d61af8 committed_at=2026-03-12T13:58:02Z
    actor=octocat run=https://github.com/acme/lms/actions/runs/30433642

CodeDeploy keeps the description with the deployment (GetDeployment ``description``, at most 256 chars),
so the ledger knows which commit went live and when it was committed without asking GitHub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

MAX_DESCRIPTION = 256  # CodeDeploy CreateDeployment: description length constraint
_PAIR = re.compile(r"(?P<key>[a-z_]+)=(?P<value>\S+)")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class ReleaseDescription:
    version: str | None = None
    commit: str | None = None
    committed_at: datetime | None = None
    actor: str | None = None
    run: str | None = None


def format_description(*, version: str, commit: str, committed_at: str, actor: str, run: str | None = None) -> str:
    """The description the workflow writes (same format the parser reads); fits CodeDeploy's limit."""
    text = f"tollgate version={version} commit={commit} committed_at={committed_at} actor={actor}"
    if run and len(text) + len(run) + 5 <= MAX_DESCRIPTION:
        text += f" run={run}"
    return text[:MAX_DESCRIPTION]


def parse_description(text: str | None) -> ReleaseDescription:
    """Whatever the description says; anything missing or malformed is None, never an error."""
    if not text:
        return ReleaseDescription()
    pairs = {m["key"]: m["value"] for m in _PAIR.finditer(text)}
    commit = pairs.get("commit", "").lower()
    committed_at: datetime | None = None
    try:
        raw = pairs.get("committed_at")
        committed_at = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        if committed_at is not None and committed_at.tzinfo is None:
            committed_at = None
    except ValueError:
        committed_at = None
    return ReleaseDescription(
        version=pairs.get("version"),
        commit=commit if _SHA.match(commit) else None,
        committed_at=committed_at,
        actor=pairs.get("actor"),
        run=pairs.get("run"),
    )
