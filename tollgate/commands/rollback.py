"""``tollgate rollback -e ENV -t service|database|full -s backend,frontend [--to REV] [--dry-run] [--yes] [--live]``.

The seed's ``rollback.sh`` as a command, with the same flags. By default it runs on the embedded AWS:
starts it, seeds the environment (the LMS's services with a previous and a current release, its
database), runs the operator-rollback function's own domain and adapters in-process, and prints the
plan and every AWS call made. With ``--live`` it asks Tollgate in the real account: the custom event
``Operator Rollback Requested`` on Tollgate's bus, or a direct invoke of the function (``--function``).

A database rollback restores into a NEW cluster and needs ``--yes``; the original is never changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from lambdas.core import aws
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig, Strategy
from lambdas.rollback.operator import OperatorRollbackPlan, OperatorRollbackRequest, RollbackType, request_event
from tollgate.cli import CommandError, environment_config

_SHOWN_PARAMS = 6


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollback",
        help="roll the LMS back: services, database (point-in-time restore to a new cluster) or both",
        description="Roll back LMS services to their previous revision and/or restore the database to just "
        "before the deployment, on the embedded AWS (default) or the real account (--live).",
    )
    parser.add_argument("-e", "--environment", required=True, choices=ENVIRONMENT_NAMES)
    parser.add_argument("-t", "--type", required=True, choices=[t.value for t in RollbackType])
    parser.add_argument("-s", "--services", help="comma-separated services (default: all of the environment's)")
    parser.add_argument(
        "--to",
        help="revision to go back to: task definition revision number, family:N or ARN; "
        "for -t database, an ISO-8601 time with zone",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    parser.add_argument("--yes", action="store_true", help="confirm a database or full rollback")
    parser.add_argument("--live", action="store_true", help="ask Tollgate in the real AWS account")
    parser.add_argument("--event-bus", help="live: Tollgate's bus (default: $TOLLGATE_EVENT_BUS or tollgate-ENV)")
    parser.add_argument("--function", help="live: invoke this operator-rollback function directly and print its report")
    parser.add_argument("--by", default=None, help="who asks (default: the login name)")
    parser.set_defaults(run=run)


def build_request(args: argparse.Namespace, config: EnvironmentConfig) -> OperatorRollbackRequest:
    if args.services is not None and not any(s.strip() for s in args.services.split(",")):
        raise CommandError("invalid rollback request: -s names no service; give e.g. -s backend,frontend or omit -s")
    services = tuple(s.strip() for s in (args.services or ",".join(config.lms.services)).split(","))
    try:
        return OperatorRollbackRequest(
            environment=config.name,
            type=RollbackType(args.type),
            services=services,
            to=args.to,
            dry_run=args.dry_run,
            confirmed=args.yes,
            requested_by=args.by or _login(),
        )
    except ValidationError as error:
        message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise CommandError(f"invalid rollback request: {message}") from error


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.environment)
    request = build_request(args, config)
    if args.live:
        return _run_live(request, args)
    return _run_embedded(request, config)


# -- on the embedded AWS --------------------------------------------------------------------------------


def _run_embedded(request: OperatorRollbackRequest, config: EnvironmentConfig) -> int:
    from lambdas.rollback.adapters.database import Database  # noqa: PLC0415 - after the embedded AWS starts
    from lambdas.rollback.adapters.ledger import OperatorSteps  # noqa: PLC0415
    from lambdas.rollback.operator_run import run_operator_rollback  # noqa: PLC0415
    from lambdas.rollback.wiring import RollbackSettings, rollback_ports  # noqa: PLC0415

    with _seeded_world(config) as (recorder, function_settings):
        start = len(recorder.calls)
        chosen = RollbackSettings(
            environment=config.name, event_bus=function_settings.event_bus, state_table=function_settings.state_table
        )
        steps = OperatorSteps(function_settings.state_table)
        result = run_operator_rollback(
            request, config, rollback_ports(chosen), Database(), _now(), steps=steps, request_id=str(uuid.uuid4())
        )
        calls = recorder.since(start)
    out = sys.stdout
    out.write(render_plan(result.plan))
    for execution in result.executions:
        extra = execution.rollback_deployment_id or execution.stop_status or ""
        out.write(
            f"  done     {execution.decision.service}: {execution.decision.outcome.value} {extra}\n".rstrip() + "\n"
        )
    if result.restored_cluster_arn:
        out.write(f"  done     database restore started: {result.restored_cluster_arn}\n")
    out.write(f"AWS calls made on the embedded AWS ({len(calls)}):\n")
    for call in calls:
        out.write(f"  {call.service} {call.operation} {_brief(call.params)}\n")
    if result.plan.refusal:
        raise CommandError(f"refused: {result.plan.refusal}")
    if request.dry_run:
        out.write("Dry run: nothing was changed.\n")
    return 0


@contextmanager
def _seeded_world(config: EnvironmentConfig) -> Iterator[tuple[Any, Any]]:
    """A fresh embedded AWS with Tollgate's tables and bus, the LMS seeded, and a recorder of calls."""
    from lambdas.core.settings import FunctionSettings  # noqa: PLC0415
    from tollgate.embedded_aws import EmbeddedAws  # noqa: PLC0415 - local runtime only
    from tollgate.embedded_aws.seed import create_succeeded_deployment, seed_environment  # noqa: PLC0415
    from tollgate.embedded_aws.tables import IDEMPOTENCY_TABLE, STATE_TABLE, create_tollgate_tables  # noqa: PLC0415
    from tollgate.local.recorder import CallRecorder  # noqa: PLC0415

    with EmbeddedAws(region=config.region) as embedded:
        embedded.reset()  # moto's state is per process: start from nothing even if another server ran here
        recorder = CallRecorder(current_function="tollgate-operator-rollback")
        recorder.attach()
        create_tollgate_tables(aws.client("dynamodb"))
        bus = f"tollgate-{config.name}"
        aws.client("events").create_event_bus(Name=bus)
        seeded = seed_environment(config)
        if config.deployment.strategy is not Strategy.ROLLING:
            # The release being rolled back: the previous revision, then the current one, both deployed.
            for name in config.lms.services:
                service = seeded.service(name)
                create_succeeded_deployment(
                    config, seeded, name, task_definition_arn=service.previous_task_definition_arn
                )
                create_succeeded_deployment(
                    config, seeded, name, task_definition_arn=service.current_task_definition_arn
                )
        backdate_database_backups(config, seeded.account_id, seeded.region)
        function_settings = FunctionSettings.model_validate(
            {
                "TOLLGATE_ENVIRONMENT": config.name,
                "TOLLGATE_EVENT_BUS": bus,
                "TOLLGATE_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
                "TOLLGATE_STATE_TABLE": STATE_TABLE,
            }
        )
        yield recorder, function_settings


def backdate_database_backups(config: EnvironmentConfig, account_id: str, region: str, days: int = 7) -> None:
    """Let the freshly seeded cluster's backups reach back ``days``, as a long-lived LMS database's do.

    moto starts a cluster's restorable window at its creation, which in the embedded AWS is seconds
    before the release being rolled back: every point in time before it would be refused.
    """
    from moto.rds.models import rds_backends  # noqa: PLC0415 - local runtime only

    cluster = rds_backends[account_id][region].clusters[config.lms.rds_cluster]
    cluster.earliest_restorable_time = _now() - timedelta(days=days)


# -- on the real account --------------------------------------------------------------------------------


def _run_live(request: OperatorRollbackRequest, args: argparse.Namespace) -> int:
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise CommandError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
    if request.touches_database and not request.confirmed and not request.dry_run:
        raise CommandError(
            f"a {request.type.value} rollback restores the database into a new cluster and needs explicit "
            "confirmation: run again with --yes (or --dry-run to see the plan)"
        )
    if args.function:
        response = aws.client("lambda").invoke(
            FunctionName=args.function, Payload=json.dumps({"request": request.model_dump(mode="json")}).encode()
        )
        report = json.loads(response["Payload"].read() or b"{}")
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        if response.get("FunctionError") or report.get("decision") == "refused":
            raise CommandError(f"the function answered {report.get('decision')}: {report.get('reason')}")
        return 0
    from lambdas.core.bus import AnnounceError, announce  # noqa: PLC0415

    bus = args.event_bus or os.environ.get("TOLLGATE_EVENT_BUS") or f"tollgate-{request.environment}"
    try:
        event_id = announce(request_event(request, _now()), bus_name=bus)
    except AnnounceError as error:
        raise CommandError(f"Tollgate's bus {bus} did not accept the request: {error}") from error
    print(f"sent 'Operator Rollback Requested' to {bus} (event {event_id}); follow it in Slack or the ledger")
    return 0


# -- rendering ------------------------------------------------------------------------------------------


def render_plan(plan: OperatorRollbackPlan) -> str:
    request = plan.request
    mode = "dry run" if request.dry_run else "confirmed" if request.confirmed else "unconfirmed"
    lines = [
        f"Rollback plan: {request.environment}, type {request.type.value}, services {', '.join(request.services)} "
        f"({mode}, requested by {request.requested_by})"
    ]
    if plan.database:
        db = plan.database
        lines.append(
            f"  database {db.source_cluster} -> NEW cluster {db.target_cluster} at {db.restore_to.isoformat()} "
            f"({db.reason}); the original is not changed"
        )
    for decision in plan.services:
        target = f" -> {decision.target_task_definition}" if decision.target_task_definition else ""
        lines.append(f"  service  {decision.service}: {decision.action.value}{target} [{decision.outcome.value}]")
        lines.append(f"           {decision.reason}")
    if plan.cut_over:
        lines.append("Cut-over steps after the restore (Tollgate does not repoint the LMS itself):")
        lines.extend(f"  {step}" for step in plan.cut_over)
    if plan.refusal:
        lines.append(f"Refused: {plan.refusal}")
    return "\n".join(lines) + "\n"


def _brief(params: dict[str, Any]) -> str:
    shown = [(k, v) for k, v in params.items() if isinstance(v, str | int | float | bool)][:_SHOWN_PARAMS]
    return " ".join(f"{k}={str(v)[:80]}" for k, v in shown)


def _now() -> datetime:
    return datetime.now(UTC)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "operator"
