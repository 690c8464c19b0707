"""The living message (pure status and Block Kit) and its use case with fakes: one message, updated, threaded."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.core.config import EnvironmentConfig, Severity, load_environment
from lambdas.notifier.errors import NotificationDeliveryError, SlackDeliveryError
from lambdas.notifier.living_message import DeploymentStatus, apply, new_status, render
from lambdas.notifier.notification import DeliveryChannel, Notification, NotificationKind
from lambdas.notifier.notify import Budget, notify
from lambdas.notifier.routing import plan_deliveries
from tests.unit.notifier.factories import WHEN, notification, with_bot_token
from tests.unit.notifier.fakes import FakeWorld
from tollgate.local.slack_receiver import block_kit_problems

STAGING = load_environment("staging")
STAGING_BOT = with_bot_token(STAGING)
PRODUCTION_BOT = with_bot_token(load_environment("production"))
STAGING_CHANNEL = "C0STAGING01"
LEASE = timedelta(seconds=60)
HOOKS = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")


def _event(n: int, kind: NotificationKind, **fields: Any) -> Notification:
    defaults: dict[str, Any] = {
        "event_id": f"e-{n}",
        "kind": kind,
        "environment": "staging",
        "severity": Severity.INFO,
        "deployment_id": "d-STAGING01",
        "occurred_at": WHEN + timedelta(seconds=n),
    }
    return notification(**{**defaults, **fields})


def healthy_release() -> list[Notification]:
    """START, the five hook verdicts, SUCCESS of one staging deployment."""
    events = [_event(0, NotificationKind.DEPLOYMENT_STARTED, title="Deployment started")]
    for n, hook in enumerate(HOOKS, start=1):
        events.append(
            _event(
                n,
                NotificationKind.HOOK_VERDICT,
                title=f"{hook} Succeeded",
                evidence={"hook": hook, "status": "Succeeded"},
            )
        )
    events.append(_event(9, NotificationKind.DEPLOYMENT_SUCCEEDED, title="Deployment succeeded"))
    return events


def _run(world: FakeWorld, subject: Notification, config: EnvironmentConfig = STAGING_BOT, owner: str = "inv") -> Any:
    return notify(subject, config, world.ports, Budget(deadline=world.clock.ticks + 50, lease=LEASE, owner=owner))


# -- the status, pure ------------------------------------------------------------------------------------
def test_a_healthy_release_ends_succeeded_with_every_gate_and_all_traffic_on_the_new_version() -> None:
    events = healthy_release()
    status = new_status(events[0])
    for event in events:
        status = apply(status, event)
    assert (status.outcome, status.phase, status.traffic) == ("Succeeded", "Done", "100% on the new version")
    assert [(g.name, g.status) for g in status.gates] == [(h, "Succeeded") for h in HOOKS]
    assert len(status.seen) == len(events)


def test_an_event_applied_twice_changes_nothing() -> None:
    first = apply(new_status(healthy_release()[0]), healthy_release()[1])
    assert apply(first, healthy_release()[1]) == first


def test_a_late_hook_verdict_does_not_undo_the_outcome() -> None:
    events = healthy_release()
    status = new_status(events[0])
    for event in [events[0], events[-1], events[2]]:  # SUCCESS before a hook verdict that was late
        status = apply(status, event)
    assert (status.outcome, status.phase) == ("Succeeded", "Done")
    assert [g.name for g in status.gates] == ["AfterInstall"]


def test_an_alarm_that_flaps_is_one_line_with_its_count_and_last_state() -> None:
    status = new_status(healthy_release()[0])
    for n, state in enumerate(["ALARM", "OK", "ALARM", "OK"]):
        alarm = _event(
            20 + n,
            NotificationKind.ALARM,
            severity=Severity.CRITICAL if state == "ALARM" else Severity.INFO,
            evidence={"alarm_name": "lms-staging-backend-5xx", "alarm_state": state},
        )
        status = apply(status, alarm)
    [line] = status.alarms
    assert (line.name, line.count, line.last_state) == ("lms-staging-backend-5xx", 4, "OK")


def test_canary_numbers_are_shown() -> None:
    step = _event(
        30,
        NotificationKind.CANARY_STEP_PASSED,
        evidence={"step_percent": 10, "decision": "passed", "verdict": {"canary_error_rate": 0.001, "p_value": 0.4}},
    )
    status = apply(new_status(step), step)
    assert status.canary == {"step_percent": 10, "decision": "passed", "canary_error_rate": 0.001, "p_value": 0.4}
    assert status.traffic == "10% on the new version"
    assert "canary_error_rate 0.001" in str(render(status).blocks)


_texts = st.text(min_size=0, max_size=5000)


@settings(max_examples=60, deadline=None)
@given(
    service=_texts,
    version=_texts,
    reason=_texts,
    hooks=st.lists(st.text(min_size=1, max_size=400), max_size=40),
    alarms=st.lists(st.text(min_size=1, max_size=400), max_size=30),
)
def test_the_living_message_stays_within_block_kit_limits_whatever_it_holds(
    service: str, version: str, reason: str, hooks: list[str], alarms: list[str]
) -> None:
    status = DeploymentStatus(deployment_id="d-" + "X" * 200, environment="staging", service=service, version=version)
    for n, hook in enumerate(hooks):
        status = apply(status, _event(n, NotificationKind.HOOK_VERDICT, reason=reason, evidence={"hook": hook}))
    for n, name in enumerate(alarms):
        status = apply(status, _event(100 + n, NotificationKind.ALARM, evidence={"alarm_name": name}))
    message = render(status)
    assert block_kit_problems(message.payload()) == []
    assert len(message.blocks) <= 50
    assert len(message.text) <= 3000


# -- routing ----------------------------------------------------------------------------------------------
def test_with_a_bot_token_a_deployment_event_is_one_living_delivery_plus_the_routed_alerts() -> None:
    failed_hook = _event(1, NotificationKind.HOOK_VERDICT, severity=Severity.WARNING, environment="production")
    deliveries = plan_deliveries(failed_hook, PRODUCTION_BOT)
    assert [(d.channel, d.to, d.broadcast) for d in deliveries] == [
        (DeliveryChannel.SLACK, ("#lms-prod-alerts",), False),
        (DeliveryChannel.EMAIL, ("lms-oncall@example.com",), False),
        (DeliveryChannel.SLACK_LIVING, ("#lms-releases",), False),
    ]
    # In staging the alert channel is the living channel: the thread reply is broadcast instead of a post
    staging = plan_deliveries(_event(1, NotificationKind.DEPLOYMENT_FAILED, severity=Severity.CRITICAL), STAGING_BOT)
    assert [(d.channel, d.broadcast) for d in staging] == [
        (DeliveryChannel.EMAIL, False),
        (DeliveryChannel.SLACK_LIVING, True),
    ]


def test_with_only_a_webhook_slack_hears_start_outcome_failure_rollback_and_approval_only() -> None:
    posted = {
        kind
        for kind in NotificationKind
        if any(d.channel is DeliveryChannel.SLACK for d in plan_deliveries(_event(1, kind), STAGING))
    }
    assert NotificationKind.HOOK_VERDICT not in posted
    assert NotificationKind.DEPLOYMENT_READY not in posted
    assert NotificationKind.CANARY_STEP_PASSED not in posted
    assert {
        NotificationKind.DEPLOYMENT_STARTED,
        NotificationKind.DEPLOYMENT_SUCCEEDED,
        NotificationKind.DEPLOYMENT_FAILED,
        NotificationKind.ROLLBACK_STARTED,
        NotificationKind.APPROVAL_NEEDED,
    } <= posted


# -- the use case with fakes ---------------------------------------------------------------------------------
def test_a_healthy_release_is_one_message_updated_for_each_event_with_its_thread() -> None:
    world = FakeWorld()
    events = healthy_release()
    for event in events:
        assert _run(world, event).decision == "notified"
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert parent.metadata == {
        "event_type": "tollgate_deployment",
        "event_payload": {"deployment_id": "d-STAGING01", "environment": "staging"},
    }
    assert len(parent.edits) == len(events) - 1
    replies = [p for p in world.slack.posted if p.thread_ts == parent.ts]
    assert len(replies) == len(events) - 1  # every event but the start, which is the message itself
    assert "Succeeded" in str(parent.message.blocks)
    assert world.email.sent == []


def test_a_retried_event_updates_again_but_never_posts_twice() -> None:
    world = FakeWorld()
    events = healthy_release()
    _run(world, events[0])
    _run(world, events[1])
    again = _run(world, events[1], owner="inv-2")
    assert again.decision == "duplicate"
    assert len(world.slack.posted) == 2


def test_a_failed_thread_reply_is_retried_and_the_update_is_not_doubled() -> None:
    world = FakeWorld()
    events = healthy_release()
    _run(world, events[0])
    world.slack.answers = [SlackDeliveryError("chat.postMessage failed: internal_error")]
    try:
        _run(world, events[1])
    except Exception as error:
        assert "internal_error" in str(error)
    world.clock.advance(90)
    _run(world, events[1], owner="inv-2")
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert len([p for p in world.slack.posted if p.thread_ts == parent.ts]) == 1
    assert len(world.living.status("d-STAGING01").seen) == 2


def test_killed_between_posting_and_recording_the_retry_finds_the_message_by_its_metadata() -> None:
    # Given the creation recorded nowhere (the invocation died after chat.postMessage)
    world = FakeWorld()
    world.living.fail = {"created"}
    events = healthy_release()
    _run(world, events[0])
    world.living.fail = set()
    world.living.records["d-STAGING01"].lease_until = world.clock.now() - timedelta(seconds=1)
    # When the next event arrives
    world.clock.advance(90)
    _run(world, events[1], owner="inv-2")
    # Then it found the message (conversations.history) and updated it: still one message
    assert world.slack.lookups == 1
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert len(parent.edits) == 1
    assert world.living.records["d-STAGING01"].attributes["ts"] == parent.ts


def test_slack_failing_the_update_never_stops_the_email() -> None:
    world = FakeWorld()
    failure = _event(1, NotificationKind.DEPLOYMENT_FAILED, severity=Severity.CRITICAL)
    world.slack.answers = [SlackDeliveryError("chat.postMessage failed: channel_not_found")]
    try:
        _run(world, failure)
    except Exception as error:
        assert "channel_not_found" in str(error)
    assert [r for _, r in world.email.sent] == [("lms-team@example.com",)]


def test_the_message_says_who_approved_and_promoted_and_when() -> None:
    waiting = _event(40, NotificationKind.APPROVAL_NEEDED, severity=Severity.WARNING, evidence={})
    given = _event(41, NotificationKind.APPROVAL_GIVEN, evidence={"by": "release-manager"})
    promoted = _event(42, NotificationKind.CANARY_PROMOTED, evidence={"by": "lms-lead", "step_percent": 10})
    status = new_status(waiting)
    for event in (waiting, given, promoted):
        status = apply(status, event)
    assert status.approval == "approved by release-manager"
    assert status.actions == (
        "approved by release-manager at 2026-03-10 09:28:21 UTC",
        "promoted by lms-lead at 2026-03-10 09:28:22 UTC",
    )
    assert "promoted by lms-lead" in str(render(status).blocks)


def _held_by_another(world: FakeWorld) -> None:
    """Another invocation claimed the message's creation a moment ago and is posting it."""
    world.living.claim_creation(
        "d-STAGING01", STAGING_CHANNEL, "", owner="other", now=world.clock.now(), lease=timedelta(seconds=60)
    )


def test_an_event_arriving_while_the_message_is_being_created_waits_for_it_then_updates() -> None:
    world = FakeWorld()
    events = healthy_release()
    _held_by_another(world)

    def the_other_one_posts() -> None:
        ts = world.slack.post_message(STAGING_CHANNEL, render(apply(new_status(events[0]), events[0])))
        record = world.living.records["d-STAGING01"]  # the other owner completes its lease
        record.done, record.lease_until = True, None
        record.attributes.update({"ts": ts, "status_json": apply(new_status(events[0]), events[0]).to_json()})
        record.attributes["version"] = "1"

    world.clock.on_sleep = the_other_one_posts
    assert _run(world, events[1]).decision == "notified"
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert (len(world.clock.slept), len(parent.edits)) == (1, 1)


def test_a_creation_held_for_good_fails_the_delivery_for_lambdas_retry_without_posting() -> None:
    world = FakeWorld()
    _held_by_another(world)
    try:
        _run(world, healthy_release()[1])
    except Exception as error:
        assert "still busy" in str(error)
    assert world.slack.posted == []
    assert world.clock.slept


def test_a_start_takes_no_delivery_claim_and_its_duplicate_shows_the_message_again_without_posting() -> None:
    # Given a START shown (it creates the message)
    world = FakeWorld()
    start = healthy_release()[0]
    assert _run(world, start).decision == "notified"
    # When EventBridge delivers it again
    again = _run(world, start, owner="inv-2")
    # Then it is a duplicate: no second post, the event applied once; the message is updated again
    # (idempotent: a retry of an attempt killed between saving and updating still shows it)
    assert again.decision == "duplicate"
    assert {d["status"] for d in again.deliveries} == {"already_sent"}
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert (len(world.slack.posted), len(parent.edits)) == (1, 1)
    assert world.living.status("d-STAGING01").seen == (start.event_id,)
    assert world.ledger.leases == {}


def test_an_alarm_whose_update_failed_is_shown_by_the_retry_and_counted_once() -> None:
    # Given a release under way, and Slack failing the alarm's chat.update after its status was saved
    world = FakeWorld()
    _run(world, healthy_release()[0])
    alarm = _event(
        20, NotificationKind.ALARM, evidence={"alarm_name": "lms-staging-backend-5xx", "alarm_state": "ALARM"}
    )
    world.slack.update_answers = [SlackDeliveryError("chat.update failed: internal_error")]
    with pytest.raises(NotificationDeliveryError, match="internal_error"):
        _run(world, alarm)
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert "lms-staging-backend-5xx" not in str(parent.message.blocks)
    assert [a.count for a in world.living.status("d-STAGING01").alarms] == [1]  # saved, not shown
    # When Lambda retries the event
    assert _run(world, alarm, owner="inv-2").decision == "duplicate"
    # Then the message shows the alarm, counted once
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert "lms-staging-backend-5xx*: ALARM (\u00d71" in str(parent.message.blocks)
    assert [a.count for a in world.living.status("d-STAGING01").alarms] == [1]


# -- the record this container knows: saved on without a read, re-read when it is not the current one ------------
def test_a_warm_container_saves_the_next_event_on_the_record_it_knows_without_reading() -> None:
    # Given this container showed the START (it created the message and knows its record)
    world = FakeWorld()
    events = healthy_release()
    _run(world, events[0])
    reads = world.living.reads
    # When the next events of the deployment arrive
    for event in events[1:3]:
        assert _run(world, event).decision == "notified"
    # Then each was saved on the known record, with no read, and shown
    assert world.living.reads == reads
    assert world.living.status("d-STAGING01").seen == tuple(e.event_id for e in events[:3])
    [parent] = world.slack.top_level(STAGING_CHANNEL)
    assert len(parent.edits) == 2


def test_a_known_record_another_container_moved_on_is_read_again_and_nothing_it_saved_is_lost() -> None:
    # Given this container knows the record as of the START, and another container has since saved a verdict
    world = FakeWorld()
    events = healthy_release()
    _run(world, events[0])
    stale = world.living.known("d-STAGING01")
    _run(world, events[1], owner="other")
    assert stale is not None
    world.living.known_records["d-STAGING01"] = stale
    reads = world.living.reads
    # When this container handles the next event
    assert _run(world, events[2]).decision == "notified"
    # Then its save on the stale record was refused, it read the record again, and both events are shown
    assert world.living.reads == reads + 1
    assert world.living.status("d-STAGING01").seen == tuple(e.event_id for e in events[:3])


def test_a_known_record_of_a_message_posted_again_is_read_again_before_showing_the_event() -> None:
    # Given the START shown, then the message deleted and posted again by another container (new ts, same version)
    world = FakeWorld()
    start, verdict = healthy_release()[:2]
    _run(world, start)
    stale = world.living.known("d-STAGING01")
    assert stale is not None and stale.ts is not None
    [old] = world.slack.top_level(STAGING_CHANNEL)
    reposted = world.slack.post_message(STAGING_CHANNEL, old.message)
    world.living.records["d-STAGING01"].attributes["ts"] = reposted
    world.living.known_records["d-STAGING01"] = stale
    reads = world.living.reads
    # When this container shows a duplicate of the START (already in the status it knows), then a verdict
    assert _run(world, start, owner="inv-2").decision == "duplicate"
    assert _run(world, verdict, owner="inv-3").decision == "notified"
    # Then neither touched the old message: the duplicate read the record, and both showed the re-posted one
    assert world.living.reads == reads + 1
    new = next(p for p in world.slack.top_level(STAGING_CHANNEL) if p.ts == reposted)
    assert (old.edits, len(new.edits)) == ([], 2)
    assert "BeforeInstall" in str(new.message.blocks)


def test_two_events_racing_on_a_deleted_message_leave_one_message_showing_both() -> None:
    # Given the START shown, then the message deleted by a person
    world = FakeWorld()
    start, first, second = healthy_release()[:3]
    _run(world, start)
    [deleted] = world.slack.top_level(STAGING_CHANNEL)
    world.slack.delete(STAGING_CHANNEL, deleted.ts)

    def other_event_reposts_first() -> None:
        # Another container's event, between this event's re-post and its repoint, re-posts and repoints first
        world.living.known_records.clear()
        _run(world, second, owner="other")

    world.living.on_repoint = other_event_reposts_first
    # When this event finds the message gone and posts it again
    assert _run(world, first).decision == "notified"
    # Then its own re-post was taken back: one message, the one the record names, showing both events
    [kept] = world.slack.top_level(STAGING_CHANNEL)
    assert world.living.records["d-STAGING01"].attributes["ts"] == kept.ts
    assert len(world.slack.deleted) == 2  # the person's, and this event's second re-post
    blocks = str(kept.message.blocks)
    assert "BeforeInstall" in blocks and "AfterInstall" in blocks
