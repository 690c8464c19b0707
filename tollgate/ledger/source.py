"""Where ``tollgate history`` and ``tollgate show`` read the ledger.

* ``--live``: the real account's ledger table (``--table`` or the stack output, from your credentials).
* default, the embedded AWS: it lives only as long as one process, so the command first plays the
  environment's deployments with ``tollgate simulate`` (the real hook, rollback, notifier and ledger
  functions; a healthy release and one whose backend answers 5xx and rolls back) and reads the ledger
  those functions wrote before the embedded AWS goes away.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lambdas.ledger.adapters.table import LedgerTable
from lambdas.ledger.model import BuildRecord, DecisionRecord, DeploymentRecord
from tollgate.local.replay import LocalWorld
from tollgate.local.simulation import Simulation, simulate_deployment

LEDGER_WRITER = "Ledger/Writer"
# What the embedded AWS plays per environment: (service, fault) in order.
PLAYS = {"staging": (("backend", "none"), ("backend", "5xx")), "production": (("backend", "none"),)}


class LedgerSourceError(Exception):
    """The ledger cannot be read as asked."""


@dataclass
class MemoryLedger:
    """Records read from embedded worlds that are gone (a LedgerReader over lists)."""

    deployments_by_id: dict[str, DeploymentRecord] = field(default_factory=dict)
    decisions_by_deployment: dict[str, list[DecisionRecord]] = field(default_factory=dict)
    simulations: list[Simulation] = field(default_factory=list)

    def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return self.deployments_by_id.get(deployment_id)

    def decisions_of(self, deployment_id: str) -> Sequence[DecisionRecord]:
        return self.decisions_by_deployment.get(deployment_id, [])

    def deployments(self, environment: str, since: datetime, until: datetime) -> Sequence[DeploymentRecord]:
        return sorted(
            (
                d
                for d in self.deployments_by_id.values()
                if d.environment == environment and d.started_at and since <= d.started_at <= until
            ),
            key=lambda d: (d.started_at, d.deployment_id),
        )

    def decisions(self, environment: str, since: datetime, until: datetime) -> Sequence[DecisionRecord]:
        return [x for xs in self.decisions_by_deployment.values() for x in xs if since <= x.occurred_at <= until]

    def builds(self, environment: str, since: datetime, until: datetime) -> Sequence[BuildRecord]:
        return []


def ledger_table_of(world: LocalWorld) -> str:
    spec = world.template.function_by_name(LEDGER_WRITER)
    if spec is None:
        raise LedgerSourceError(f"Tollgate-{world.config.name} has no ledger writer")
    from tollgate.local.deploy import function_environment  # noqa: PLC0415

    return function_environment(world.template, spec.logical_id, world.stack)["TOLLGATE_LEDGER_TABLE"]


def played_ledger(environment: str, plays: Sequence[tuple[str, str]] | None = None) -> MemoryLedger:
    """Play the environment's deployments on the embedded AWS and keep what the ledger recorded."""
    ledger = MemoryLedger()
    chosen = plays if plays is not None else PLAYS.get(environment)
    if not chosen:
        raise LedgerSourceError(
            f"the embedded AWS plays CodeDeploy deployments in staging and production, not {environment}"
        )

    def keep(world: LocalWorld, simulation: Simulation) -> None:
        table = LedgerTable(ledger_table_of(world))
        for deployment in table.deployments(
            environment, datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
        ):
            ledger.deployments_by_id[deployment.deployment_id] = deployment
            ledger.decisions_by_deployment[deployment.deployment_id] = list(
                table.decisions_of(deployment.deployment_id)
            )
        ledger.simulations.append(simulation)

    for service, fault in chosen:
        simulate_deployment(environment, service, fault=fault, approve=environment == "production", inspect=keep)
    return ledger


def live_ledger(table: str | None, environment: str) -> LedgerTable:
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise LedgerSourceError("--live with AWS_ENDPOINT_URL set would not reach the real account; unset it")
    name = table or _stack_output(environment)
    return LedgerTable(name)


def _stack_output(environment: str) -> str:
    from lambdas.core import aws  # noqa: PLC0415

    try:
        stack = aws.client("cloudformation").describe_stack_resources(StackName=f"Tollgate-{environment}")[
            "StackResources"
        ]
    except Exception as error:
        raise LedgerSourceError(f"cannot find Tollgate-{environment}'s ledger table ({error}); pass --table") from error
    for resource in stack:
        if resource["ResourceType"] == "AWS::DynamoDB::Table" and resource["LogicalResourceId"].startswith(
            "LedgerTable"
        ):
            return str(resource["PhysicalResourceId"])
    raise LedgerSourceError(f"Tollgate-{environment} has no ledger table; pass --table")
