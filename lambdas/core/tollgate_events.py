"""The events Tollgate's functions announce on Tollgate's own bus.

Actors decide and announce; the notifier and the ledger subscribe. One model for every announcement
keeps the notifier's routing and the ledger's records independent of who announced.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lambdas.core.config import Severity

TOLLGATE_SOURCE = "tollgate"


# How Tollgate marks the CodeDeploy deployments its rollback creates (the previous revision, redeployed): the
# canary's starter lets them through without an approval wait or canary steps, since they restore what ran.
ROLLBACK_DESCRIPTION_PREFIX = "Tollgate rollback"


class DetailType(StrEnum):
    HOOK_VERDICT = "Hook Verdict"
    CANARY_STEP_PASSED = "Canary Step Passed"
    CANARY_STEP_FAILED = "Canary Step Failed"
    ROLLBACK_STARTED = "Rollback Started"
    ROLLBACK_RESTORED = "Rollback Restored"
    ROLLBACK_SKIPPED = "Rollback Skipped"
    ALARM_ANNOUNCED = "Alarm Announced"
    APPROVAL_NEEDED = "Approval Needed"
    OPERATOR_ROLLBACK_REQUESTED = "Operator Rollback Requested"
    # Production release flow (the canary controller and its operators).
    CANARY_STARTED = "Canary Started"
    CANARY_PROMOTED = "Canary Promoted"
    CANARY_ABORTED = "Canary Aborted"
    APPROVAL_GIVEN = "Approval Given"
    APPROVAL_REJECTED = "Approval Rejected"
    APPROVAL_REFUSED = "Approval Refused"
    APPROVAL_TIMED_OUT = "Approval Timed Out"
    # Requests from operators (CLI, Slack buttons) carried on the bus to the function that acts.
    APPROVE_REQUESTED = "Approve Requested"
    REJECT_REQUESTED = "Reject Requested"
    CANARY_PROMOTE_REQUESTED = "Canary Promote Requested"
    CANARY_ABORT_REQUESTED = "Canary Abort Requested"
    # A further alarm about a deployment whose rollback is already under way: recorded, never paged again.
    ROLLBACK_JOINED = "Alarm Joined Rollback"


# Requests carried on the bus to the function that acts on them; what that function decides is announced.
OPERATOR_REQUESTS = frozenset(
    {
        DetailType.APPROVE_REQUESTED,
        DetailType.REJECT_REQUESTED,
        DetailType.CANARY_PROMOTE_REQUESTED,
        DetailType.CANARY_ABORT_REQUESTED,
    }
)


class TollgateEvent(BaseModel):
    """What a Tollgate function decided, with why and the evidence."""

    model_config = ConfigDict(frozen=True)

    detail_type: DetailType
    environment: str
    severity: Severity
    summary: str = Field(min_length=1, max_length=500)
    reason: str = ""
    service: str | None = None
    deployment_id: str | None = None
    occurred_at: datetime
    evidence: dict[str, Any] = Field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"detail_type"})
