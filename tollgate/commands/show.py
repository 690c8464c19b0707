"""``tollgate show DEPLOYMENT_ID [--format text|markdown|json] [--env ENV] [--live [--table NAME]]``.

The deployment's whole story from the ledger, as its compliance record. On the embedded AWS (default)
the environment's deployments are played first (``tollgate simulate``: a healthy release and one that
answers 5xx and rolls back); ``last`` and ``last-rolled-back`` name the played ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.ledger.compliance import compliance_record
from lambdas.ledger.model import DeploymentStory
from lambdas.ledger.ports import LedgerReader
from tollgate.cli import CommandError, environment_config
from tollgate.ledger.render import story_json, story_markdown, story_text
from tollgate.ledger.source import LedgerSourceError, live_ledger, played_ledger

ALIASES = ("last", "last-rolled-back")
FORMATS = {"text": story_text, "markdown": story_markdown}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "show",
        help="a deployment's full story and compliance record (who deployed and approved, gates, evidence)",
        description="Print one deployment from Tollgate's ledger: who deployed and approved it, every gate "
        "with its evidence, canary numbers, alerts, outcome.",
    )
    parser.add_argument("deployment_id", help=f"a CodeDeploy deployment id, or {' | '.join(ALIASES)}")
    parser.add_argument("--format", default="text", choices=["text", "markdown", "json"])
    parser.add_argument("--env", default="staging", help="the environment's ledger (default staging)")
    parser.add_argument("--live", action="store_true", help="read the real account's ledger")
    parser.add_argument("--table", help="live: the ledger table (default: from the Tollgate-ENV stack)")
    parser.set_defaults(run=run)


def resolve(reader: LedgerReader, environment: str, wanted: str) -> str:
    if wanted not in ALIASES:
        return wanted
    now = datetime.now(UTC)
    deployments = [d for d in reader.deployments(environment, now - timedelta(days=30), now) if not d.is_rollback]
    if wanted == "last-rolled-back":
        deployments = [d for d in deployments if d.rolled_back]
    if not deployments:
        raise CommandError(f"no deployment matches {wanted!r} in {environment}'s ledger")
    return deployments[-1].deployment_id


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.env)
    try:
        reader: LedgerReader = live_ledger(args.table, config.name) if args.live else played_ledger(config.name)
        deployment_id = resolve(reader, config.name, args.deployment_id)
        deployment = reader.deployment(deployment_id)
        if deployment is None:
            where = "the real account" if args.live else "the embedded AWS (ids there last one run; try 'last')"
            raise CommandError(f"deployment {deployment_id} is not in {config.name}'s ledger on {where}")
        story = DeploymentStory(deployment, tuple(reader.decisions_of(deployment_id)))
    except LedgerSourceError as error:
        raise CommandError(str(error)) from error
    record = compliance_record(story, config)
    if args.format == "json":
        json.dump(story_json(record), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(FORMATS[args.format](record))
    return 0
