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
