"""``tollgate approve --env ENV --deployment-id ID --by NAME [--reason TEXT] [--live]``.

Records an operator's approval of one deployment in Tollgate's state table; production's BeforeAllowTraffic
hook lets traffic move only with it. By default the approval goes to the embedded AWS (the one
``AWS_ENDPOINT_URL`` points at, or a fresh one for this command); ``--live`` writes to the real account.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig
from lambdas.hooks import state
from lambdas.hooks.adapters import codedeploy
from lambdas.hooks.policy import Approval
from tollgate.cli import CommandError, environment_config


def record_deployment_approval(
    config: EnvironmentConfig,
    *,
    deployment_id: str,
    approved_by: str,
    reason: str,
    state_table: str,
    now: datetime,
    require_deployment: bool,
) -> Approval:
    """Check the deployment belongs to the environment (when it can be found) and record the approval."""
    try:
        target = codedeploy.describe_deployment(deployment_id)
    except codedeploy.DeploymentLookupError as error:
        if require_deployment:
            raise CommandError(f"cannot approve {deployment_id}: {error}") from error
    else:
        if target.application != config.lms.codedeploy_application:
            raise CommandError(
                f"deployment {deployment_id} belongs to '{target.application}', not {config.name}'s "
                f"'{config.lms.codedeploy_application}'"
            )
    approval = Approval(
        deployment_id=deployment_id, environment=config.name, approved_by=approved_by, approved_at=now, reason=reason
    )
    try:
        state.record_approval(state_table, approval)
    except state.StateError as error:
        raise CommandError(f"cannot record the approval in {state_table}: {error}") from error
    return approval


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "approve",
        help="approve a deployment so its traffic may move (production's BeforeAllowTraffic gate)",
        description="Record an approval of DEPLOYMENT_ID in Tollgate's state table.",
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
    parser.add_argument("--deployment-id", required=True, help="CodeDeploy deployment id, d-XXXXXXXXX")
    parser.add_argument("--by", required=True, help="who approves")
    parser.add_argument("--reason", default="", help="why (kept with the approval)")
    parser.add_argument("--live", action="store_true", help="write to the real AWS account, not the embedded AWS")
    parser.add_argument("--state-table", help="state table name (live: required unless TOLLGATE_STATE_TABLE is set)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.env)
    if not config.deployment.requires_approval:
        print(f"note: {config.name} does not require approvals; recording it anyway", file=sys.stderr)
    with ExitStack() as stack:
        if args.live:
            if os.environ.get("AWS_ENDPOINT_URL"):
                raise CommandError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
            table = args.state_table or os.environ.get("TOLLGATE_STATE_TABLE")
            if not table:
                raise CommandError("--live needs --state-table (the stack's state table name)")
        else:
            table = args.state_table or _embedded_state_table(stack, config)
        approval = record_deployment_approval(
            config,
            deployment_id=args.deployment_id,
            approved_by=args.by,
            reason=args.reason,
            state_table=table,
            now=datetime.now(UTC),
            require_deployment=args.live,
        )
    where = "the AWS account" if args.live else "the embedded AWS"
    print(f"approved {approval.environment}/{approval.deployment_id} by {approval.approved_by} in {where} ({table})")
    return 0


def _embedded_state_table(stack: ExitStack, config: EnvironmentConfig) -> str:
    from tollgate.embedded_aws import EmbeddedAws  # noqa: PLC0415 - local runtime only
    from tollgate.embedded_aws.tables import STATE_TABLE, create_tollgate_tables  # noqa: PLC0415

    if not os.environ.get("AWS_ENDPOINT_URL"):
        # No embedded AWS is running: start one for this command (the approval lives as long as it does).
        stack.enter_context(EmbeddedAws(region=config.region))
        create_tollgate_tables(aws.client("dynamodb"))
    return STATE_TABLE
