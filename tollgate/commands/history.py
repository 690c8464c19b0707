"""``tollgate history --env ENV [--service SVC] [--since 7d] [--json] [--live [--table NAME]]``."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from tollgate.cli import CommandError, environment_config
from tollgate.ledger.render import deployment_row, history_table
from tollgate.ledger.source import LedgerSourceError, live_ledger, played_ledger

_SINCE = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="the deployments of an environment: when, service, version, outcome, rollback, duration",
        description="List an environment's deployments from Tollgate's ledger: on the embedded AWS (after "
        "playing its deployments) by default, or the real account with --live.",
    )
    parser.add_argument("--env", required=True, help="development|staging|production")
    parser.add_argument("--service", help="only this LMS service")
    parser.add_argument("--since", default="7d", help="how far back: 30m, 12h, 7d, 2w (default 7d)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--live", action="store_true", help="read the real account's ledger")
    parser.add_argument("--table", help="live: the ledger table (default: from the Tollgate-ENV stack)")
    parser.set_defaults(run=run)


def parse_since(text: str) -> timedelta:
    match = _SINCE.match(text.strip())
    if not match:
        raise CommandError(f"--since {text!r}: expected a number and m, h, d or w (e.g. 7d)")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.env)
    now = datetime.now(UTC)
    since = now - parse_since(args.since)
    if args.service and args.service not in config.lms.services:
        raise CommandError(f"--service {args.service!r}: not an LMS service of {config.name}")
    try:
        reader = live_ledger(args.table, config.name) if args.live else played_ledger(config.name)
        deployments = [
            d for d in reader.deployments(config.name, since, now) if args.service is None or d.service == args.service
        ]
    except LedgerSourceError as error:
        raise CommandError(str(error)) from error
    if args.json:
        json.dump([deployment_row(d) for d in deployments], sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        where = "the real account" if args.live else "the embedded AWS, deployments just played"
        sys.stdout.write(f"{config.name} since {since:%Y-%m-%d %H:%M} UTC ({where})\n")
        sys.stdout.write(history_table(deployments))
    return 0
