"""Adapter: the ApprovalReader port on the approval records of ``lambdas.hooks.state``."""

from __future__ import annotations

from lambdas.hooks import state
from lambdas.hooks.policy import Approval


class StateTableApprovals:
    def find_approval(self, table: str, deployment_id: str) -> Approval | None:
        return state.find_approval(table, deployment_id)
