"""``tollgate canary status|promote|abort --env ENV --service SVC [--by NAME] [--reason TEXT] [--live]``.

status: the running canary's step, split, bake left and last verdict with its numbers. promote: end the
current bake early (the step is still analysed). abort: blue gets 100% back and the hook fails. Each is
read from / recorded in Tollgate's state table where the canary's tasks look at every bake poll; a clear
refusal when no canary runs. By default against the embedded AWS; ``--live`` puts promote/abort on
Tollgate's bus (CANARY_PROMOTE_REQUESTED / CANARY_ABORT_REQUESTED) and reads status from the live table.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any, Literal

from lambdas.canary.adapters.records import StateTableRecords
from lambdas.canary.adapters.stepfunctions import StepFunctionsExecutions
from lambdas.canary.controller import RequestPorts
from lambdas.canary.requests import operate_canary
from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES
from lambdas.core.state_table import StateTable
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType
from tollgate.cli import CommandError, environment_config
from tollgate.commands.approve import NAME, _Collected, _embedded_state_table
from tollgate.commands.canary_judge import canary_subcommands


def register(subparsers: Any) -> None:
    actions = canary_subcommands(subparsers)
    for kind, text in (
        ("status", "the step, split, bake left and last verdict"),
        ("promote", "end the current bake early; the step is still analysed"),
        ("abort", "restore 100%% blue and fail the hook"),
    ):
        sub = actions.add_parser(kind, help=text)
        sub.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
        sub.add_argument("--service", required=True)
        sub.add_argument("--by", default=os.environ.get("USER", "operator"), help="who asks (recorded)")
        sub.add_argument("--reason", default="", help="why (recorded)")
        sub.add_argument("--live", action="store_true", help="the real account (promote/abort go on Tollgate's bus)")
        sub.add_argument("--state-table", help="state table name (live status: required unless TOLLGATE_STATE_TABLE)")
        sub.add_argument("--event-bus", help="Tollgate's bus (live: required unless TOLLGATE_EVENT_BUS is set)")
        sub.add_argument("--json", action="store_true", help="print one JSON object")
        sub.set_defaults(run=run, kind=kind)


def run(args: argparse.Namespace) -> int:
    kind: Literal["status", "promote", "abort"] = args.kind
    config = environment_config(args.env)
    if args.service not in config.lms.services:
        raise CommandError(f"{config.name} has no service '{args.service}' (known: {', '.join(config.lms.services)})")
    if not NAME.match(args.by or ""):
        raise CommandError(f"--by must be a name of 1-64 letters, digits or . _ @ -; got {args.by!r}")
    if args.live and os.environ.get("AWS_ENDPOINT_URL"):
        raise CommandError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
    if args.live and kind != "status":
        return _request_live(args, config.name, kind)
    with ExitStack() as stack:
        if args.live:
            table = args.state_table or os.environ.get("TOLLGATE_STATE_TABLE")
            if not table:
                raise CommandError("--live status needs --state-table (the stack's state table name)")
        else:
            table = args.state_table or _embedded_state_table(stack, config)
        announcer = _Collected()
        ports = RequestPorts(
            announcer=announcer,
            records=StateTableRecords(StateTable(table)),
            executions=StepFunctionsExecutions(""),
        )
        outcome = operate_canary(
            kind,
            service=args.service,
            by=args.by,
            reason=args.reason,
            config=config,
            ports=ports,
            now=datetime.now(UTC),
            writer=f"cli-{uuid.uuid4()}",  # this one command: a second run is another writer
        )
    if outcome.outcome in ("no_canary", "already"):
        raise CommandError(outcome.reason)
    if args.json:
        print(json.dumps({"outcome": outcome.outcome, "reason": outcome.reason, **outcome.details}))
    else:
        print(outcome.reason)
    return 0


def _request_live(args: argparse.Namespace, environment: str, kind: str) -> int:
    bus = args.event_bus or os.environ.get("TOLLGATE_EVENT_BUS")
    if not bus:
        raise CommandError("--live needs --event-bus (Tollgate's bus name, output EventBusName of the stack)")
    detail_type = DetailType.CANARY_PROMOTE_REQUESTED if kind == "promote" else DetailType.CANARY_ABORT_REQUESTED
    detail = {"service": args.service, "by": args.by, "reason": args.reason, "environment": environment}
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
    print(f"{kind} request for {environment}/{args.service} by {args.by} put on {bus}")
    return 0
