"""The hooks' adapters against the embedded AWS and the stand-in LMS: errors come back named."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lambdas.core.config import Hook, load_environment
from lambdas.core.errors import StateTableError
from lambdas.hooks import state
from lambdas.hooks.adapters import secrets, traffic
from lambdas.hooks.adapters.report_claims import StateTableReportClaims
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.http_client import HttpRequest, HttpRequestError, send_http
from tollgate.embedded_aws.tables import create_tollgate_tables
from tollgate.local.lms_service import LmsService


@pytest.mark.parametrize(
    ("stored", "message"),
    [(None, "ResourceNotFoundException"), ("not json", "not JSON with username and password")],
    ids=["missing", "malformed"],
)
def test_synthetic_user_errors_never_echo_the_value(embedded_aws: Any, stored: str | None, message: str) -> None:
    # Given a missing or malformed synthetic-user secret
    if stored is not None:
        boto3.client("secretsmanager").create_secret(Name="tollgate/staging/synthetic-user", SecretString=stored)
    # When it is loaded, Then the error names the problem but not the value
    with pytest.raises(secrets.SyntheticUserError, match=message) as raised:
        secrets.load_synthetic_user("tollgate/staging/synthetic-user", deadline=soon())
    assert "not json" not in str(raised.value)


def test_synthetic_user_repr_hides_the_password(embedded_aws: Any) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="tollgate/staging/synthetic-user", SecretString='{"username": "u", "password": "hunter2-long"}'
    )
    user = secrets.load_synthetic_user("tollgate/staging/synthetic-user", deadline=soon())
    assert user.password == "hunter2-long"
    assert "hunter2-long" not in repr(user)


def soon() -> Deadline:
    return Deadline(at=time.monotonic() + 30)


def test_state_table_errors_are_named(embedded_aws: Any) -> None:
    # Given no state table exists
    # When the hooks read or write it, Then each failure is a StateTableError (a StateError for approvals)
    claims = StateTableReportClaims("missing-table")
    with pytest.raises(StateTableError, match="ResourceNotFoundException"):
        claims.find("d-A", "x", deadline=soon())
    with pytest.raises(StateTableError):
        claims.claim(
            "d-A", "x", owner="o", lease=timedelta(seconds=5), now=datetime.now(UTC), attributes={}, deadline=soon()
        )
    with pytest.raises(state.StateError):
        state.find_approval("missing-table", "d-A")


def test_report_claim_is_a_lease(embedded_aws: Any) -> None:
    # Given Tollgate's tables
    claims = StateTableReportClaims(create_tollgate_tables(boto3.client("dynamodb"))["state"])
    now = datetime.now(UTC)
    lease = timedelta(seconds=30)

    def claim(owner: str, at: datetime, verdict: str) -> Any:
        attributes = {"verdict": verdict, "reason": "r", "hook": "h", "reported_at": at.isoformat()}
        return claims.claim("d-A", "x", owner=owner, lease=lease, now=at, attributes=attributes, deadline=soon())

    # When two invocations claim the same execution
    first = claim("a", now, "Failed")
    second = claim("b", now, "Succeeded")
    # Then only the first acts; a release lets a retry claim again; an expired lease is taken over
    assert (first.acts, second.acts) == (True, False)
    assert claims.find("d-A", "x", deadline=soon()) is None  # leased, not done
    claims.release(first, deadline=soon())
    retry = claim("c", now, "Failed")
    assert retry.state.value == "won"
    taken = claim("d", now + timedelta(minutes=2), "Failed")
    assert taken.state.value == "taken_over"
    # And once completed, its verdict is what is remembered
    assert claims.complete(taken, now=now, attributes={"report": "reported"}, deadline=soon())
    record = claims.find("d-A", "x", deadline=soon())
    assert record is not None and record["verdict"] == "Failed"


def test_http_client_reports_statuses_and_refusals() -> None:
    # Given the stand-in LMS
    with LmsService() as lms:
        base = lms.base_url
        # When a known and an unknown path are requested
        ok = send_http(HttpRequest("GET", f"{base}/api/health"), 2)
        missing = send_http(HttpRequest("GET", f"{base}/nope"), 2)
    # Then both are responses with their statuses
    assert (ok.status, missing.status) == (200, 404)
    # And once the port is closed, a request is refused
    with pytest.raises(HttpRequestError, match="refused"):
        send_http(HttpRequest("GET", f"{base}/api/health"), 2)
    with pytest.raises(HttpRequestError, match="non-HTTP"):
        send_http(HttpRequest("GET", "file:///etc/passwd"), 2)


def test_http_client_times_out() -> None:
    with LmsService() as lms:
        lms.faults.delay_seconds = 1.0
        with pytest.raises(HttpRequestError, match="no response"):
            send_http(HttpRequest("GET", f"{lms.base_url}/api/health"), 0.2)


@pytest.mark.parametrize("replacement", ["blue", "green"])
@pytest.mark.parametrize(
    ("hook", "carrying_listeners"),
    [
        (Hook.AFTER_ALLOW_TEST_TRAFFIC, ("test",)),
        (Hook.BEFORE_ALLOW_TRAFFIC, ("test",)),
        (Hook.AFTER_ALLOW_TRAFFIC, ("test", "production")),
    ],
)
def test_the_replacement_target_group_is_read_from_the_seeded_alb(
    hook_world: Any, hook: Hook, carrying_listeners: tuple[str, ...], replacement: str
) -> None:
    # Given the seeded staging ALB, routed as CodeDeploy routes it when `hook` runs for a release on `replacement`
    world = hook_world("staging")
    original = "green" if replacement == "blue" else "blue"
    for listener in ("test", "production"):
        world.route("backend", listener, to=replacement if listener in carrying_listeners else original)
    config = load_environment("staging")

    # When the hooks' adapter looks for the replacement
    dimension = traffic.find_replacement_target_group(config, hook, "backend", deadline=soon())

    # Then it is the replacement's CloudWatch dimension value from the config
    assert dimension == getattr(config.lms.services["backend"].target_groups, replacement)
