"""cdk-nag acknowledgments: every one carries a written reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept a cdk-nag finding on ``construct`` (and its children) for the given reason."""
    if len(reason) < 20:
        raise ValueError(f"{rule_id}: write a real reason for the acknowledgment")
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
