"""The delivery use case with fakes only: every decision branch, never lost, never doubled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lambdas.core.config import EnvironmentConfig, Severity, load_environment
from lambdas.notifier.errors import (
    EmailDeliveryError,
    NotificationDeliveryError,
    SlackDeliveryError,
    SlackSecretError,
    SlackUnconfirmedError,
)
from lambdas.notifier.notification import IgnoredEvent, NotificationKind
from lambdas.notifier.notify import Budget, budget_for, notify
from lambdas.notifier.sources import notification_from_event
from tests.unit.notifier.factories import codedeploy_event, notification, tollgate_event, webhook_only, with_bot_token
from tests.unit.notifier.fakes import FakeClock, FakeWorld

PRODUCTION = webhook_only(load_environment("production"))  # the webhook path (living messages: own tests)
PRODUCTION_BOT = with_bot_token(PRODUCTION)
SLACK, EMAIL = "slack##lms-prod-alerts", "email#lms-oncall@example.com"
LEASE = timedelta(seconds=60)


def _run(world: FakeWorld, subject: Any, owner: str = "inv-1", config: EnvironmentConfig = PRODUCTION) -> Any:
    return notify(subject, config, world.ports, Budget(deadline=world.clock.ticks + 50, lease=LEASE, owner=owner))


def _retry(world: FakeWorld, subject: Any, owner: str) -> Any:
    """Lambda's retry of an asynchronous invocation: a minute or more later, a new request id."""
    world.clock.advance(90)
    return _run(world, subject, owner)


CRITICAL = notification(event_id="e-1")


def test_a_critical_goes_to_slack_and_email_and_is_recorded() -> None:
    world = FakeWorld()
    result = _run(world, CRITICAL)
    assert result.decision == "notified"
    assert [p.channel for p in world.slack.posted] == ["#lms-prod-alerts"]
    assert [r for _, r in world.email.sent] == [("lms-oncall@example.com",)]
    assert world.ledger.outcome("e-1", SLACK) == world.ledger.outcome("e-1", EMAIL) == "sent"
    assert result.sent == 2
    # Critical replies in a thread are broadcast; the first message starts the deployment's thread
    assert world.ledger.threads == {("d-ABCDEF123", "#lms-prod-alerts"): "1700000000.000001"}


def test_a_duplicate_sends_nothing_and_says_so() -> None:
    world = FakeWorld()
    _run(world, CRITICAL)
    second = _run(world, CRITICAL, owner="inv-2")
    assert second.decision == "duplicate"
    assert len(world.slack.posted) == 1
    assert len(world.email.sent) == 1


def test_a_duplicate_in_flight_neither_sends_nor_raises() -> None:
    # Given a first invocation that claimed both deliveries and is still running (its leases live)
    world = FakeWorld()
    for key in (SLACK, EMAIL):
        world.ledger.claim("e-1", key, owner="inv-1", now=world.clock.now(), lease=LEASE)
    # When a concurrent duplicate arrives
    result = _run(world, CRITICAL, owner="inv-2")
    # Then it sends nothing and does not error (nothing pages); the first one's own retry covers it dying
    assert result.decision == "duplicate"
    assert {d["status"] for d in result.deliveries} == {"in_flight"}
    assert world.slack.posted == [] and world.email.sent == []


def test_an_abandoned_claim_resends_the_email_but_never_reposts_slack() -> None:
    # Given an invocation that died after claiming both deliveries (Slack may have posted)
    world = FakeWorld()
    for key in (SLACK, EMAIL):
        world.ledger.claim("e-1", key, owner="dead", now=world.clock.now(), lease=LEASE)
    # When Lambda retries after the leases ran out
    result = _retry(world, CRITICAL, owner="inv-2")
    # Then the email goes (at least once) and Slack is not posted again (at most once)
    statuses = {d["channel"]: d["status"] for d in result.deliveries}
    assert statuses == {"slack": "unconfirmed", "email": "sent"}
    assert world.slack.posted == []
    assert len(world.email.sent) == 1
    assert world.ledger.outcome("e-1", SLACK) == "unconfirmed"


@pytest.mark.parametrize(
    "error",
    [SlackDeliveryError("Slack server error (500) after 4 attempts"), SlackSecretError("cannot read secret x")],
    ids=["http-error", "secret"],
)
def test_a_slack_failure_for_sure_sends_the_email_raises_and_the_retry_posts_once(error: Exception) -> None:
    world = FakeWorld()
    if isinstance(error, SlackSecretError):
        world.slack.secret_error = error
    else:
        world.slack.answers = [error]
    with pytest.raises(NotificationDeliveryError, match="slack #lms-prod-alerts"):
        _run(world, CRITICAL)
    assert len(world.email.sent) == 1
    world.slack.secret_error = None
    result = _retry(world, CRITICAL, owner="inv-2")
    assert {d["channel"]: d["status"] for d in result.deliveries} == {"slack": "sent", "email": "already_sent"}
    assert len(world.slack.posted) == 1
    assert len(world.email.sent) == 1


@pytest.mark.parametrize(
    "error",
    [SlackUnconfirmedError("Slack's answer was unreadable (BadStatusLine)"), RuntimeError("unexpected")],
    ids=["unreadable-answer", "unknown-error"],
)
def test_an_answer_that_leaves_doubt_is_unconfirmed_never_reposted_and_the_email_goes(error: Exception) -> None:
    world = FakeWorld()
    world.slack.answers, world.slack.posted_before_raise = [error], True
    result = _run(world, CRITICAL)
    assert {d["channel"]: d["status"] for d in result.deliveries} == {"slack": "unconfirmed", "email": "sent"}
    _retry(world, CRITICAL, owner="inv-2")
    assert world.slack.attempts == 1
    assert len(world.email.sent) == 1


def test_an_email_failure_does_not_stop_slack_and_the_retry_sends_only_the_email() -> None:
    world = FakeWorld()
    world.email.answers = [EmailDeliveryError("SNS publish to the alert topic failed: NotFound")]
    with pytest.raises(NotificationDeliveryError, match=r"email lms-oncall@example\.com"):
        _run(world, CRITICAL)
    assert len(world.slack.posted) == 1
    result = _retry(world, CRITICAL, owner="inv-2")
    assert {d["channel"]: d["status"] for d in result.deliveries} == {"slack": "already_sent", "email": "sent"}
    assert len(world.slack.posted) == 1
    assert len(world.email.sent) == 1


def test_the_ledger_failing_after_the_post_neither_skips_the_email_nor_reposts_on_retry() -> None:
    # Given the state table failing every completion (the Slack post and the email both went out)
    world = FakeWorld()
    world.ledger.fail = {"complete", "remember_thread"}
    result = _run(world, CRITICAL)
    assert result.decision == "notified"
    assert len(world.slack.posted) == 1 and len(world.email.sent) == 1
    # When Lambda retries anyway (table back)
    world.ledger.fail = set()
    _retry(world, CRITICAL, owner="inv-2")
    # Then Slack is not posted again; the email may be sent again (at least once)
    assert len(world.slack.posted) == 1
    assert len(world.email.sent) == 2


def test_a_ledger_that_cannot_claim_still_sends_the_email_and_retries_slack_later() -> None:
    world = FakeWorld()
    world.ledger.fail = {"claim", "thread_ts"}
    with pytest.raises(NotificationDeliveryError, match="could not be claimed"):
        _run(world, CRITICAL)
    assert len(world.email.sent) == 1
    assert world.slack.posted == []


def test_a_failed_give_back_never_causes_a_second_post() -> None:
    # Given Slack failing for sure and the failure record failing too
    world = FakeWorld()
    world.slack.answers = [SlackDeliveryError("HTTP 500")]
    world.ledger.fail = {"give_back"}
    with pytest.raises(NotificationDeliveryError):
        _run(world, CRITICAL)
    # When retried, the lease looks abandoned: Slack is not posted (at most once)
    world.ledger.fail = set()
    result = _retry(world, CRITICAL, owner="inv-2")
    assert world.slack.posted == []
    assert {d["channel"]: d["status"] for d in result.deliveries}["slack"] == "unconfirmed"


def test_later_messages_reply_in_the_deployments_thread() -> None:
    world = FakeWorld()
    _run(world, notification(event_id="e-1"))
    _run(world, notification(event_id="e-2", severity=Severity.WARNING), owner="inv-2")
    first, second = world.slack.posted
    assert (first.thread_ts, second.thread_ts, second.broadcast) == (None, first.ts, False)


def test_webhooks_do_not_thread() -> None:
    world = FakeWorld()
    world.slack.uses_threads = False
    _run(world, CRITICAL)
    assert world.ledger.threads == {}


def test_an_alarm_joining_a_rollback_is_threaded_under_the_page_and_never_emailed() -> None:
    # Given the rollback's page already sent for the deployment (bot token: threads)
    world = FakeWorld()
    started = notification_from_event(
        tollgate_event("Rollback Started", severity="critical", evidence={"alarm": "lms-production-backend-5xx"}),
        PRODUCTION,
    )
    _run(world, started, config=PRODUCTION_BOT)
    joined_event = tollgate_event("Alarm Joined Rollback", severity="critical", evidence={"alarm": "lms-p99"})
    joined_event["id"] = "e-joined"
    joined = notification_from_event(joined_event, PRODUCTION)
    assert not isinstance(joined, IgnoredEvent)
    assert (joined.kind, joined.severity) == (NotificationKind.ROLLBACK_JOINED, Severity.INFO)
    # When the joined alarm is notified
    result = _run(world, joined, owner="inv-2", config=PRODUCTION_BOT)
    # Then one threaded, not broadcast, Slack reply under the page; no second email
    page, reply = [p for p in world.slack.posted if p.channel == "#lms-prod-alerts"]
    assert (reply.channel, reply.thread_ts, reply.broadcast) == ("#lms-prod-alerts", page.ts, False)
    assert len(world.email.sent) == 1
    assert [d["channel"] for d in result.deliveries] == ["slack", "slack_living"]
    # and the living message counts the alarm instead of replying about it
    assert world.living.status("d-ABCDEF123").alarms[0].count == 1
    assert len(world.slack.top_level("C0RELEASES1")) == 1


def test_rollback_started_announced_again_is_delivered_again_as_critical() -> None:
    # Given a Rollback Started delivered, then announced again by the rollback's retry (a new event id)
    world = FakeWorld()
    first = notification_from_event(tollgate_event("Rollback Started", severity="warning"), PRODUCTION)
    again_event = tollgate_event("Rollback Started", severity="info")
    again_event["id"] = "e-again"
    again = notification_from_event(again_event, PRODUCTION)
    _run(world, first)
    result = _run(world, again, owner="inv-2")
    # Then it is paged again, critical whatever the announcer said
    assert result.decision == "notified"
    assert result.notification is not None and result.notification["severity"] == "critical"
    assert len(world.email.sent) == 2


def test_ignored_and_unrouted_events_send_nothing() -> None:
    world = FakeWorld()
    assert _run(world, IgnoredEvent(reason="foreign")).decision == "ignored"
    staging_info = notification(environment="staging", severity=Severity.INFO)
    no_routes = PRODUCTION.model_copy(update={"alerts": PRODUCTION.alerts.model_copy(update={"routes": []})})
    assert _run(world, staging_info, config=no_routes).decision == "not_routed"
    assert world.slack.posted == [] and world.email.sent == []


def test_the_version_is_asked_of_codedeploy_only_when_unknown() -> None:
    world = FakeWorld()
    world.revisions.versions = {"d-ABCDEF123": "lms-production-backend:42"}
    parsed = notification_from_event(codedeploy_event("FAILURE"), PRODUCTION)
    result = _run(world, parsed)
    assert world.revisions.asked == ["d-ABCDEF123"]
    assert result.decision == "notified"
    assert "lms-production-backend:42" in world.email.sent[0][0].body
    _run(world, notification(event_id="e-9"), owner="inv-2")  # has a version: not asked
    assert world.revisions.asked == ["d-ABCDEF123"]


def test_the_budget_comes_from_the_lambda_context() -> None:
    class Context:
        aws_request_id = "req-1"

        def get_remaining_time_in_millis(self) -> int:
            return 20_000

    clock = FakeClock()
    budget = budget_for(Context(), clock)
    assert (budget.owner, budget.lease, budget.deadline) == ("req-1", timedelta(seconds=20), clock.ticks + 17)
    assert budget_for(None, clock).lease == timedelta(seconds=30)
