"""The ledger writer killed or refused at each AWS call, then retried by Lambda: the same records, once.

| call site (per event)                    | faults                                  | after the retry              |
|------------------------------------------|-----------------------------------------|------------------------------|
| codedeploy:GetDeployment                 | throttle, denied, 5xx, timeout          | recorded without the release |
|                                          |                                         | fields; the next event fills |
| dynamodb:UpdateItem (merge, then order)  | each fault, kill before, kill after     | identical deployment item    |
| dynamodb:PutItem (decision)              | each fault, kill before, kill after     | one decision item            |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.ledger import handler as ledger_handler
from lambdas.ledger.adapters.table import LedgerError, LedgerTable
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.ledger.ledger_world import LEDGER_TABLE, LedgerWorld, ledger_world
from tollgate.embedded_aws.seed import create_deployment_of


@pytest.fixture
def world(embedded_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    with ledger_world(monkeypatch) as created:
        yield created


def _strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _deliver_until_done(world: LedgerWorld, event: dict[str, Any]) -> None:
    """Lambda's async retries: run again after an error or a kill."""
    for _ in range(3):
        try:
            ledger_handler.handler(event, world.context())
            return
        except (LedgerError, SimulatedKill):
            continue
    raise AssertionError("never recorded")


@pytest.mark.parametrize("operation", ["dynamodb:UpdateItem", "dynamodb:PutItem"])
@pytest.mark.parametrize("nth", [1, 2])
@pytest.mark.parametrize("kind", [*CALL_FAULTS, *KILLS])
def test_a_fault_at_any_write_then_a_retry_gives_the_records_of_a_clean_run(
    world: LedgerWorld, operation: str, nth: int, kind: FaultKind
) -> None:
    t = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    deployment = create_deployment_of(world.config, "backend", description="tollgate version=9.9.9")
    events = [
        world.codedeploy_event(deployment, "SUCCESS", t + timedelta(minutes=5)),
        world.codedeploy_event(deployment, "START", t),
        world.announcement("Hook Verdict", t + timedelta(minutes=2), service="backend", deployment_id=deployment),
    ]
    # Given a clean run's records
    for event in events:
        ledger_handler.handler(event, world.context())
    clean = _strip(world.items())
    world_items = world.items()
    assert len(world_items) == 2
    dynamodb = aws.client("dynamodb")
    for item in world_items:
        dynamodb.delete_item(TableName=LEDGER_TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
    # When the same events arrive with the fault injected at that call, and Lambda retries
    with injected_faults() as faults:
        faults.inject(operation, kind, nth=nth)
        for event in events:
            _deliver_until_done(world, event)
    # Then the ledger is exactly the clean run's
    assert _strip(world.items()) == clean
    record = LedgerTable(LEDGER_TABLE).deployment(deployment)
    assert record is not None and record.started_at == t and record.version == "9.9.9"


@pytest.mark.parametrize("kind", CALL_FAULTS)
def test_codedeploy_unreachable_still_records_the_state(world: LedgerWorld, kind: FaultKind) -> None:
    t = datetime.now(UTC).replace(microsecond=0)
    deployment = create_deployment_of(world.config, "backend", description="tollgate version=1.0.0")
    with injected_faults() as faults:
        faults.inject("codedeploy:GetDeployment", kind, times=10)
        result = ledger_handler.handler(world.codedeploy_event(deployment, "START", t), world.context())
    assert result["decision"] == "recorded"
    record = LedgerTable(LEDGER_TABLE).deployment(deployment)
    assert record is not None and record.version is None and record.states == {"START": t}
    # And the next event of the deployment fills in the release
    ledger_handler.handler(world.codedeploy_event(deployment, "SUCCESS", t + timedelta(minutes=1)), world.context())
    filled = LedgerTable(LEDGER_TABLE).deployment(deployment)
    assert filled is not None and filled.version == "1.0.0"
