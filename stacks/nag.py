"""cdk-nag acknowledgments: every one carries a written reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

# cdk-nag 3 reports findings through CDK's Validations as `<pack>::<rule>[<finding>]`.
NAG_PACK = "AwsSolutions"


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Accept a cdk-nag finding (``AwsSolutions-IAM5`` or ``AwsSolutions-IAM5[Action::x]``) for the given reason."""
    if len(reason) < 20:
        raise ValueError(f"{rule_id}: write a real reason for the acknowledgment")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{NAG_PACK}::{rule_id}", reason=reason))
