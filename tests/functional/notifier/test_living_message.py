"""The living Slack message on the embedded AWS and the local Slack over real HTTP: a healthy staging release
replayed through the notifier (CodeDeploy state changes and the hooks' verdicts, as the simulator emits them)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdas.notifier.adapters.slack_client import RetryPolicy
from lambdas.notifier.handler import process_event
from tests.functional.notifier.conftest import NotifierWorld
from tollgate.local.context import LocalLambdaContext
from tollgate.local.slack_receiver import ReceivedSlackMessage, block_kit_problems

FAST = RetryPolicy(max_attempts=3, base_delay_seconds=0.01)
DEPLOYMENT = "d-STAGING42"
HOOKS = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")
T0 = datetime(2026, 3, 12, 13, 58, 4, tzinfo=UTC)


def _codedeploy(load_event: Any, state: str, n: int) -> dict[str, Any]:
    event = copy.deepcopy(load_event("codedeploy-deployment-start.json"))
    event["id"] = f"00000000-0000-4000-8000-{n:012d}"
    event["time"] = (T0 + timedelta(seconds=30 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["account"] = "222222222222"
    event["detail"].update(
        {"application": "lms-staging", "deploymentGroup": "lms-staging-backend", "deploymentId": DEPLOYMENT}
    )
    event["detail"]["state"] = state
    return event


def _announced(detail_type: str, n: int, *, severity: str = "info", **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"00000000-0000-4000-9000-{n:012d}",
        "detail-type": detail_type,
        "source": "tollgate",
        "account": "222222222222",
        "time": (T0 + timedelta(seconds=30 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "environment": "staging",
            "severity": severity,
            "service": "backend",
            "deployment_id": DEPLOYMENT,
            "occurred_at": (T0 + timedelta(seconds=30 * n)).isoformat(),
            "reason": "",
            **detail,
        },
    }


def _verdict(hook: str, n: int) -> dict[str, Any]:
    """What lambdas/hooks/run_hook.py announces for a hook that passed."""
    return _announced(
        "Hook Verdict",
        n,
        summary=f"{hook} Succeeded for backend",
        reason="all checks passed",
        evidence={"hook": hook, "status": "Succeeded", "lifecycle_event_hook_execution_id": f"x-{n}", "checks": []},
    )


def healthy_staging_release(load_event: Any) -> list[dict[str, Any]]:
    """START, the five hooks' verdicts, SUCCESS: the events one healthy blue/green release sends the notifier."""
    events = [_codedeploy(load_event, "START", 0)]
    events += [_verdict(hook, n) for n, hook in enumerate(HOOKS, start=1)]
    events.append(_codedeploy(load_event, "SUCCESS", len(HOOKS) + 1))
    return events


def _replay(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [process_event(e, LocalLambdaContext("notifier"), slack_retry=FAST) for e in events]


def _every_payload(messages: list[ReceivedSlackMessage]) -> list[dict[str, Any]]:
    return [payload for m in messages for payload in (*m.edits, m.payload)]


def test_a_healthy_staging_release_with_a_bot_token_is_one_message_updated_each_step_with_its_thread(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    # Given staging's notifier with a bot token
    notifier_world.use_environment("staging", bot_token=True)
    events = healthy_staging_release(load_event)
    # When the release's events are handled in order
    results = _replay(events)
    # Then exactly one message in the channel, updated once per later event, every detail in its thread
    receiver = notifier_world.receiver
    assert [r["decision"] for r in results] == ["notified"] * len(events)
    [parent] = receiver.top_level("#lms-staging-deploys")
    assert parent.updates == len(events) - 1 == 6
    replies = receiver.replies(parent.ts)
    assert len(replies) == len(events) - 1
    assert len(receiver.messages) == 1 + len(replies)
    assert all(r.payload["reply_broadcast"] is False for r in replies)
    # What the message shows at the end: outcome, every gate, the traffic
    shown = str(parent.payload["blocks"])
    assert "Succeeded" in shown and "100% on the new version" in shown
    assert all(hook in shown for hook in HOOKS)
    # And how it moved: the phase after each step
    phases = [p["blocks"][1]["fields"][0]["text"] for p in (*parent.edits, parent.payload)]
    assert phases[0] == "*Phase*\nDeploying" and phases[-1] == "*Phase*\nDone"
    assert len(set(phases)) == len(phases)
    # Every payload (first post, every update, every reply) is within Slack's Block Kit limits
    payloads = _every_payload(receiver.messages)
    assert len(payloads) == 1 + 6 + 6
    assert all(block_kit_problems(p) == [] and len(p["blocks"]) <= 50 for p in payloads)
    assert all(len(p["blocks"][0]["text"]["text"]) <= 150 for p in payloads)
    assert notifier_world.emails() == []


def test_a_healthy_staging_release_with_only_a_webhook_posts_its_start_and_outcome_only(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    notifier_world.use_environment("staging")
    results = _replay(healthy_staging_release(load_event))
    messages = notifier_world.receiver.messages
    assert [(m.via, m.channel) for m in messages] == [("webhook", "#lms-staging-deploys")] * 2
    assert ["Deployment started" in messages[0].text, "Deployment succeeded" in messages[1].text] == [True, True]
    assert [r["decision"] for r in results] == ["notified", *["not_routed"] * 5, "notified"]
    assert all(block_kit_problems(m.payload) == [] for m in messages)


def test_an_alarm_that_flaps_is_one_line_in_the_message_not_a_post_per_flap(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    # Given a staging release under way (bot token)
    notifier_world.use_environment("staging", bot_token=True)
    _replay(healthy_staging_release(load_event)[:2])
    # When an alarm on it flaps four times (announced info: nobody is paged)
    flaps = [
        _announced(
            "Alarm Announced",
            20 + n,
            summary="Alarm on backend in staging",
            evidence={"alarm_name": "lms-staging-backend-p99", "alarm_state": state},
        )
        for n, state in enumerate(["ALARM", "OK", "ALARM", "OK"])
    ]
    _replay(flaps)
    # Then still one message and no more replies; its alarm line counts four, last state OK
    receiver = notifier_world.receiver
    [parent] = receiver.top_level("#lms-staging-deploys")
    assert len(receiver.replies(parent.ts)) == 1
    assert "lms-staging-backend-p99*: OK (\u00d74" in str(parent.payload["blocks"])


def test_a_failure_is_broadcast_from_the_thread_and_emailed(notifier_world: NotifierWorld, load_event: Any) -> None:
    notifier_world.use_environment("staging", bot_token=True)
    _replay([_codedeploy(load_event, "START", 0), _codedeploy(load_event, "FAILURE", 1)])
    receiver = notifier_world.receiver
    [parent] = receiver.top_level("#lms-staging-deploys")
    [reply] = receiver.replies(parent.ts)
    assert reply.payload["reply_broadcast"] is True
    assert "Failed" in str(parent.payload["blocks"])
    assert [e["recipients"] for e in notifier_world.emails()] == [["lms-team@example.com"]]


def test_production_alerts_still_go_to_the_alert_channel_as_well(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    notifier_world.use_environment("production", bot_token=True)
    stop = load_event("codedeploy-deployment-stop.json")
    process_event(stop, LocalLambdaContext("notifier"), slack_retry=FAST)
    receiver = notifier_world.receiver
    assert [m.channel for m in receiver.top_level("#lms-prod-alerts")] == ["#lms-prod-alerts"]
    [living] = receiver.top_level("#lms-releases")
    assert "Stopped" in str(living.payload["blocks"])
    assert len(notifier_world.emails()) == 1


def test_a_living_message_someone_deleted_is_posted_again_and_the_record_follows(
    notifier_world: NotifierWorld, load_event: Any
) -> None:
    notifier_world.use_environment("staging", bot_token=True)
    events = healthy_staging_release(load_event)
    _replay(events[:2])
    receiver = notifier_world.receiver
    [first] = receiver.top_level("#lms-staging-deploys")
    receiver.delete(first.ts)
    # When the next events come, chat.update answers message_not_found
    results = _replay(events[2:])
    # Then the message is posted again once, updated from then on, and the record names it
    assert [r["decision"] for r in results] == ["notified"] * (len(events) - 2)
    [again] = receiver.top_level("#lms-staging-deploys")
    assert again.ts != first.ts and again.updates == len(events) - 3
    record = notifier_world.living_record(DEPLOYMENT)
    assert record is not None and record["ts"]["S"] == again.ts
