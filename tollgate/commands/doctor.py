"""``tollgate doctor --env ENV [--live]``: is the LMS side ready for Tollgate? One line per check, with the fix.

Without ``--live`` it checks a fresh embedded AWS seeded as the other local commands seed it (it must pass);
with ``--live`` the real account, with the default credentials, read-only. Exit 0 when every line is green,
1 when any is red, 2 when the doctor could not read what it needs. Decision 0062.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig
from tollgate.cli import CommandError, environment_config
from tollgate.doctor.facts import DoctorError, gather, known_functions, lambda_function_exists
from tollgate.doctor.judge import Finding, diagnose, failures
from tollgate.local.replay import LocalWorld, LocalWorldError, local_world


def check_world(world: LocalWorld) -> list[Finding]:
    """Every check against an embedded AWS world (its functions are the synthesized template's)."""
    names = (spec.name for spec in world.template.functions.values())
    return diagnose(world.config, gather(world.config, aws.client, known_functions(names)))


def check_live(config: EnvironmentConfig) -> list[Finding]:
    """Every check against the real account of ``config`` with the default credentials."""
    import boto3  # noqa: PLC0415 - only the live path needs its own session

    session = boto3.session.Session(region_name=config.region)
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service)
        return clients[service]

    return diagnose(config, gather(config, client, lambda_function_exists(client)))


def report(findings: list[Finding], *, where: str, environment: str) -> str:
    red = failures(findings)
    lines = [f"tollgate doctor: {environment} on {where}", *(f.line() for f in findings)]
    verdict = "all green" if not red else f"{len(red)} to fix"
    lines.append(f"{len(findings)} checks, {verdict}")
    return "\n".join(lines) + "\n"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the LMS side Tollgate depends on (deployment groups, alarms, hooks, secrets, ALB)",
        description="Check what Tollgate needs of the LMS in one environment: CodeDeploy deployment groups "
        "(blue/green, target groups, listeners, Tollgate's composite alarms with rollback on alarm), the "
        "AppSpec's hook functions, secrets, the ALB and its target groups. One line each, with the fix. "
        "Embedded AWS (seeded) by default; --live reads the real account with the default credentials.",
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
    parser.add_argument("--live", action="store_true", help="check the real account (read-only)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.env)
    try:
        if args.live:
            if os.environ.get("AWS_ENDPOINT_URL"):
                raise CommandError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
            findings = check_live(config)
            where = f"the real account {config.account} ({config.region})"
        else:
            with local_world(config.name) as world:
                findings = check_world(world)
            where = "the embedded AWS (seeded)"
    except (DoctorError, LocalWorldError) as error:
        raise CommandError(str(error)) from error
    sys.stdout.write(report(findings, where=where, environment=config.name))
    return 1 if failures(findings) else 0
