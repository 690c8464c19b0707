"""Hostile events (tests/fuzz.py) through the notifier with fakes: nothing escapes, nothing sent for what it ignores."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings

from lambdas.core.config import load_environment
from lambdas.core.tollgate_events import DetailType
from lambdas.notifier.errors import NotificationDeliveryError
from lambdas.notifier.notification import IgnoredEvent
from lambdas.notifier.notify import Budget, notify
from lambdas.notifier.sources import notification_from_event
from tests.conftest import EVENTS_DIR
from tests.fuzz import hostile_events, record_counts
from tests.unit.notifier.factories import tollgate_event
from tests.unit.notifier.fakes import FakeWorld
from tollgate.local.slack_receiver import block_kit_problems

FUZZ_CASES = 400
CONFIGS = {name: load_environment(name) for name in ("development", "staging", "production")}
SAMPLES: list[dict[str, Any]] = [
    json.loads(path.read_text())
    for path in sorted(EVENTS_DIR.glob("*.json"))
    if path.name.startswith(("codedeploy-deployment-", "ecs-", "tollgate-"))
] + [
    tollgate_event(detail_type.value, severity="critical", evidence={"alarm": "lms-production-backend-5xx"})
    for detail_type in (DetailType.ROLLBACK_STARTED, DetailType.ROLLBACK_JOINED, DetailType.HOOK_VERDICT)
]
SEEN = {"cases": 0, "notified": 0}


@settings(max_examples=FUZZ_CASES, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=hostile_events(SAMPLES))
def test_hostile_events_never_crash_and_ignored_ones_send_nothing(event: Any) -> None:
    SEEN["cases"] += 1
    for config in CONFIGS.values():
        world = FakeWorld()
        parsed = notification_from_event(event, config)
        try:
            notify(parsed, config, world.ports, Budget(deadline=world.clock.ticks + 50, lease=timedelta(60), owner="x"))
        except NotificationDeliveryError:  # pragma: no cover - the fakes never fail: this would be a bug
            raise AssertionError("a delivery failed on fakes that never fail") from None
        if isinstance(parsed, IgnoredEvent):
            assert world.slack.posted == [] and world.email.sent == []
            continue
        SEEN["notified"] += 1
        for posted in world.slack.posted:
            assert block_kit_problems(posted.message.payload()) == []
            json.dumps(posted.message.payload(), ensure_ascii=False).encode("utf-8")  # no lone surrogate
            assert "<!channel>" not in posted.message.text
        for email, _ in world.email.sent:
            assert len(email.subject) < 100 and "\n" not in email.subject
            assert len(email.body.encode("utf-8")) <= 256 * 1024


def test_the_fuzz_ran_its_cases_and_some_were_notified() -> None:
    test_hostile_events_never_crash_and_ignored_ones_send_nothing()
    assert SEEN["cases"] >= FUZZ_CASES
    assert SEEN["notified"] > 0
    record_counts("notifier", Counter({"cases": SEEN["cases"], "decision:notified": SEEN["notified"]}))
