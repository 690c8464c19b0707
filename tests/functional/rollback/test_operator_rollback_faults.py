"""The operator rollback under faults: each AWS call site of a service, database and full rollback x
{throttle, AccessDenied, 5xx, timeout}, and each step boundary x kill (a Lambda timeout), then Lambda's
retries of the same request (the same EventBridge event, later).

Invariants, after the retries: each requested step was done exactly once (one redeploy of the service,
one restored cluster, never two), the request was announced, and a resumed full rollback did not repeat
the steps already done. A request answered normally ends Lambda's retries: it must not answer before the
work is done.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.rollback import wiring
from lambdas.rollback.adapters.deployments import ROLLBACK_DESCRIPTION_PREFIX
from lambdas.rollback.operator import OperatorRollbackRequest, RollbackType, request_event
from tests.faults import CALL_FAULTS, KILLS, FaultKind, SimulatedKill, injected_faults
from tests.functional.rollback.scenario import RollbackScenario
from tollgate.local.context import LocalLambdaContext

REQUEST_ID = "5b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
# The function's timeout (stacks/constructs/rollback.py): a killed invocation ran until it.
TIMEOUT = timedelta(seconds=120)
# Lambda retries a failed asynchronous invocation twice: about 1 minute, then 2 minutes after a failure
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))

# Each type's AWS calls in order, as (call site, operation, nth call of that operation in the attempt).
SERVICE_SITES = [
    ("GetDeploymentGroup", "codedeploy:GetDeploymentGroup", 1),
    ("GetDeployment", "codedeploy:GetDeployment", 1),
    ("service claim", "dynamodb:PutItem", 1),
    ("CreateDeployment", "codedeploy:CreateDeployment", 1),
    ("rollback record", "dynamodb:PutItem", 2),
    ("service done", "dynamodb:UpdateItem", 1),
    ("announce", "events:PutEvents", 1),
]
DATABASE_SITES = [
    ("GetDeploymentGroup", "codedeploy:GetDeploymentGroup", 1),
    ("GetDeployment", "codedeploy:GetDeployment", 1),
    ("DescribeDBClusters (plan)", "rds:DescribeDBClusters", 1),
    ("DescribeDBClusters (free name)", "rds:DescribeDBClusters", 2),
    ("restore claim", "dynamodb:PutItem", 1),
    ("DescribeDBClusters (source)", "rds:DescribeDBClusters", 3),
    ("RestoreDBClusterToPointInTime", "rds:RestoreDBClusterToPointInTime", 1),
    ("restore done", "dynamodb:UpdateItem", 1),
    ("announce", "events:PutEvents", 1),
]
FULL_SITES = [
    *DATABASE_SITES[:-1],
    ("service claim", "dynamodb:PutItem", 2),
    ("CreateDeployment", "codedeploy:CreateDeployment", 1),
    ("rollback record", "dynamodb:PutItem", 3),
    ("service done", "dynamodb:UpdateItem", 2),
    ("announce restore", "events:PutEvents", 1),
    ("announce service", "events:PutEvents", 2),
]
SITES = {RollbackType.SERVICE: SERVICE_SITES, RollbackType.DATABASE: DATABASE_SITES, RollbackType.FULL: FULL_SITES}
CASES = [
    (rollback_type, site, operation, nth, kind)
    for rollback_type, sites in SITES.items()
    for site, operation, nth in sites
    for kind in (*CALL_FAULTS, *KILLS)
]


class Operator:
    """The operator-rollback function, invoked by EventBridge with one request, and Lambda's retries."""

    def __init__(self, scenario: RollbackScenario, monkeypatch: pytest.MonkeyPatch, rollback_type: RollbackType):
        self.scenario = scenario
        self.monkeypatch = monkeypatch
        request = OperatorRollbackRequest(
            environment="production", type=rollback_type, services=("backend",), confirmed=True, requested_by="ana"
        )
        self.started = datetime.now(UTC)
        event = request_event(request, self.started)
        self.event = {
            "version": "0",
            "id": REQUEST_ID,
            "detail-type": event.detail_type.value,
            "source": "tollgate",
            "account": scenario.seeded.account_id,
            "time": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "eu-west-1",
            "resources": [],
            "detail": event.detail(),
        }
        self.answers: list[dict[str, Any] | str] = []
        self.lambda_request_id = str(uuid.uuid4())

    def attempt(self, at: datetime) -> bool:
        """One invocation at ``at``; True when it answered (Lambda does not retry an answer)."""
        from lambdas.rollback.operator_handler import handler  # noqa: PLC0415 - after the env vars are set

        self.monkeypatch.setattr(wiring, "now", lambda: at)
        # Lambda's retries of an asynchronous invocation keep its request id (a duplicate delivery gets a new one)
        # https://repost.aws/knowledge-center/lambda-function-duplicate-invocations
        context = LocalLambdaContext(
            function_name="tollgate-operator-rollback",
            account=self.scenario.seeded.account_id,
            aws_request_id=self.lambda_request_id,
        )
        try:
            self.answers.append(handler(self.event, context))
        except SimulatedKill:
            self.answers.append("killed")
            return False
        except Exception as error:
            self.answers.append(f"error: {error}")
            return False
        return True

    def deliver(self, first: Any) -> None:
        """The first attempt under ``first`` (a context manager injecting the fault), then Lambda's retries."""
        with first:
            answered = self.attempt(self.started)
        at = self.started
        for delay in RETRY_DELAYS:
            if answered:
                return
            killed = self.answers[-1] == "killed"
            at = at + (TIMEOUT if killed else timedelta(0)) + delay
            answered = self.attempt(at)

    # -- what happened in AWS ---------------------------------------------------------------------------

    def redeploys(self) -> int:
        codedeploy = aws.client("codedeploy")
        lms = self.scenario.config.lms
        ids = codedeploy.list_deployments(
            applicationName=lms.codedeploy_application, deploymentGroupName=lms.services["backend"].deployment_group
        )["deployments"]
        infos = [codedeploy.get_deployment(deploymentId=i)["deploymentInfo"] for i in ids]
        return len([i for i in infos if str(i.get("description", "")).startswith(ROLLBACK_DESCRIPTION_PREFIX)])

    def restored_clusters(self) -> list[str]:
        clusters = aws.client("rds").describe_db_clusters()["DBClusters"]
        return [c["DBClusterIdentifier"] for c in clusters if "-rollback-" in c["DBClusterIdentifier"]]

    def announced(self) -> list[str]:
        return [json.loads(e["Detail"])["summary"] for p in self.scenario.announcements() for e in p["Entries"]]


@pytest.mark.parametrize(
    ("rollback_type", "site", "operation", "nth", "kind"),
    CASES,
    ids=[f"{t.value}-{site}-{kind.value}".replace(" ", "_") for t, site, _, _, kind in CASES],
)
def test_each_call_site_and_kill_does_each_step_once_and_announces(  # noqa: PLR0917 - one per table column
    production: RollbackScenario,
    monkeypatch: pytest.MonkeyPatch,
    rollback_type: RollbackType,
    site: str,
    operation: str,
    nth: int,
    kind: FaultKind,
) -> None:
    # Given a finished backend release and the operator's confirmed request
    production.finished_deployment("backend")
    operator = Operator(production, monkeypatch, rollback_type)

    # When the first invocation meets the fault at the call site, and Lambda retries until it answers
    with injected_faults() as faults:
        faults.inject(operation, kind, nth=nth)
        operator.deliver(contextlib.nullcontext())
        assert faults.hit() == 1, faults.operations

    # Then each requested step was done exactly once, and the request was announced
    answer = operator.answers[-1]
    assert isinstance(answer, dict) and answer["decision"] == "rolled_back", operator.answers
    announced = operator.announced()
    if rollback_type in (RollbackType.SERVICE, RollbackType.FULL):
        assert operator.redeploys() == 1, operator.answers
        assert any(s.startswith("Rollback started") for s in announced), announced
    else:
        assert operator.redeploys() == 0
    if rollback_type in (RollbackType.DATABASE, RollbackType.FULL):
        assert len(operator.restored_clusters()) == 1, (operator.restored_clusters(), operator.answers)
        assert any(s.startswith("Database restore started") for s in announced), announced
    else:
        assert operator.restored_clusters() == []


@pytest.mark.parametrize(
    ("rollback_type", "killed_at", "announced_as"),
    [
        (RollbackType.DATABASE, "rds:RestoreDBClusterToPointInTime", "Database restore started"),
        (RollbackType.SERVICE, "codedeploy:CreateDeployment", "Rollback started"),
    ],
    ids=["database", "service"],
)
def test_a_duplicate_delivery_in_flight_neither_pages_nor_takes_the_retry_away(
    production: RollbackScenario,
    monkeypatch: pytest.MonkeyPatch,
    rollback_type: RollbackType,
    killed_at: str,
    announced_as: str,
) -> None:
    # Given a rollback whose first invocation dies after claiming its step (the restore, or the redeploy)
    production.finished_deployment("backend")
    operator = Operator(production, monkeypatch, rollback_type)
    with injected_faults() as faults:
        faults.inject(killed_at, FaultKind.KILL_BEFORE)
        assert not operator.attempt(operator.started)
        # When a duplicate delivery of the request (a new Lambda request id) arrives while the lease is live
        duplicate = Operator(production, monkeypatch, rollback_type)
        duplicate.event = operator.event
        assert duplicate.attempt(operator.started + timedelta(seconds=5))
        # Then it answers "in progress" without an error (nothing pages) and announces nothing
        assert isinstance(duplicate.answers[-1], dict) and duplicate.answers[-1]["decision"] == "in_progress"
        assert operator.announced() == []
        # And Lambda's retry of the dying invocation (same request id) still acts, once, and announces it once
        assert operator.attempt(operator.started + TIMEOUT + RETRY_DELAYS[0])
        # And a late duplicate, after the retry finished, answers as it did and announces nothing again
        late = Operator(production, monkeypatch, rollback_type)
        late.event = operator.event
        assert late.attempt(operator.started + TIMEOUT * 3)
    if rollback_type is RollbackType.DATABASE:
        assert len(operator.restored_clusters()) == 1
    else:
        assert operator.redeploys() == 1
    assert len([s for s in operator.announced() if s.startswith(announced_as)]) == 1, operator.announced()
