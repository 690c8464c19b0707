"""``tollgate approve|reject --env ENV --deployment-id ID --by NAME [--reason TEXT] [--live]``.

Records an operator's decision on one deployment, once (the first decision wins), with who and when. Only
the config's ``deployment.approvers`` may decide; anyone else is refused. By default the decision goes to
the embedded AWS (the one ``AWS_ENDPOINT_URL`` points at, or a fresh one for this command) through the same
use case the canary's request function runs; ``--live`` puts the request on Tollgate's bus in the real
account (APPROVE_REQUESTED / REJECT_REQUESTED), where the request function records it, announces it and
releases a canary waiting for it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any, Literal

from lambdas.canary import domain
from lambdas.canary.adapters.records import StateTableRecords
from lambdas.canary.adapters.stepfunctions import StepFunctionsExecutions
from lambdas.canary.controller import RequestPorts
from lambdas.canary.requests import decide_approval
from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig
from lambdas.core.state_table import StateTable
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType, TollgateEvent
from lambdas.hooks.adapters import codedeploy
from tollgate.cli import CommandError, environment_config

NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{1,32}$")


class _Collected:
    """Announcements of a local decision: printed, since nothing listens on a bus here."""

    def __init__(self) -> None:
        self.events: list[TollgateEvent] = []

    def announce(self, event: TollgateEvent) -> None:
        self.events.append(event)


def register(subparsers: Any) -> None:
    for kind in ("approve", "reject"):
        parser = subparsers.add_parser(
            kind,
            help=f"{kind} a production deployment (the canary's approval wait; only deployment.approvers may)",
            description=f"Record that NAME {kind}s DEPLOYMENT_ID (once; the first decision wins).",
        )
        parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
        parser.add_argument("--deployment-id", required=True, help="CodeDeploy deployment id, d-XXXXXXXXX")
        parser.add_argument("--by", required=True, help="who decides (one of the config's deployment.approvers)")
        parser.add_argument("--reason", default="", help="why (kept with the decision)")
        parser.add_argument("--live", action="store_true", help="put the request on Tollgate's bus in the real account")
        parser.add_argument("--state-table", help="state table name (embedded AWS: defaults to Tollgate's)")
        parser.add_argument("--event-bus", help="Tollgate's bus (live: required unless TOLLGATE_EVENT_BUS is set)")
        parser.set_defaults(run=run, kind=kind)


def run(args: argparse.Namespace) -> int:
    kind: Literal["approve", "reject"] = "reject" if args.kind == "reject" else "approve"
    config = environment_config(args.env)
    if not NAME.match(args.by or ""):
        raise CommandError(f"--by must be a name of 1-64 letters, digits or . _ @ -; got {args.by!r}")
    if not DEPLOYMENT_ID.match(args.deployment_id):
        raise CommandError(f"--deployment-id must look like d-XXXXXXXXX; got {args.deployment_id!r}")
    if not config.deployment.requires_approval:
        print(f"note: {config.name} does not require approvals; recording it anyway", file=sys.stderr)
    if args.live:
        return _request_live(args, config, kind)
    if domain.judge_approver(config.deployment.approvers, args.by) is domain.ApprovalOutcome.REFUSED:
        allowed = ", ".join(config.deployment.approvers) or "nobody (deployment.approvers is empty)"
        raise CommandError(f"{args.by} may not {kind} deployments in {config.name}; approvers: {allowed}")
    with ExitStack() as stack:
        table = args.state_table or _embedded_state_table(stack, config)
        _check_deployment(config, args.deployment_id)
        announcer = _Collected()
        ports = RequestPorts(
            announcer=announcer,
            records=StateTableRecords(StateTable(table)),
            executions=StepFunctionsExecutions(""),
        )
        outcome = decide_approval(
            kind,
            deployment_id=args.deployment_id,
            by=args.by,
            reason=args.reason,
            config=config,
            ports=ports,
            now=datetime.now(UTC),
            writer=f"cli-{uuid.uuid4()}",  # this one command: a second run is another writer
        )
    if outcome.outcome == "already":
        raise CommandError(outcome.reason)
    verb = "approved" if kind == "approve" else "rejected"
    print(f"{verb} {config.name}/{args.deployment_id} by {args.by} in the embedded AWS ({table})")
    for event in announcer.events:
        print(f"announced {event.detail_type.value}: {event.summary}")
    return 0


def _request_live(args: argparse.Namespace, config: EnvironmentConfig, kind: str) -> int:
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise CommandError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
    bus = args.event_bus or os.environ.get("TOLLGATE_EVENT_BUS")
    if not bus:
        raise CommandError("--live needs --event-bus (Tollgate's bus name, output EventBusName of the stack)")
    detail_type = DetailType.APPROVE_REQUESTED if kind == "approve" else DetailType.REJECT_REQUESTED
    detail = {"deployment_id": args.deployment_id, "by": args.by, "reason": args.reason, "environment": config.name}
    answer = aws.client("events").put_events(
        Entries=[
            {
                "Source": TOLLGATE_SOURCE,
                "DetailType": detail_type.value,
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise CommandError(f"the bus refused the request: {answer['Entries'][0].get('ErrorMessage', '?')}")
    print(f"{kind} request for {config.name}/{args.deployment_id} by {args.by} put on {bus}")
    return 0


def _check_deployment(config: EnvironmentConfig, deployment_id: str) -> None:
    try:
        target = codedeploy.describe_deployment(deployment_id)
    except codedeploy.DeploymentLookupError:
        return  # an approval may come before the deployment exists
    if target.application != config.lms.codedeploy_application:
        raise CommandError(
            f"deployment {deployment_id} belongs to '{target.application}', not {config.name}'s "
            f"'{config.lms.codedeploy_application}'"
        )


def _embedded_state_table(stack: ExitStack, config: EnvironmentConfig) -> str:
    from tollgate.embedded_aws import EmbeddedAws  # noqa: PLC0415 - local runtime only
    from tollgate.embedded_aws.tables import STATE_TABLE, create_tollgate_tables  # noqa: PLC0415

    if not os.environ.get("AWS_ENDPOINT_URL"):
        # No embedded AWS is running: start one for this command (the decision lives as long as it does).
        stack.enter_context(EmbeddedAws(region=config.region))
        create_tollgate_tables(aws.client("dynamodb"))
    return STATE_TABLE
