"""Routing: each environment's real alert routes, per severity, and properties over any routes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.core.config import AlertRoute, Alerts, Severity, load_environment
from lambdas.notifier.notification import DeliveryChannel
from lambdas.notifier.routing import route_notification
from tests.unit.notifier.factories import notification

# The policy the config files encode: (slack channels, email recipients) per environment and severity.
EXPECTED = {
    ("development", Severity.INFO): (["#lms-dev-deploys"], []),
    ("development", Severity.WARNING): (["#lms-dev-deploys"], []),
    # Every environment's critical route reaches a person by email (Tollgate's health alarms page it too).
    ("development", Severity.CRITICAL): (["#lms-dev-deploys"], ["lms-dev-team@example.com"]),
    ("staging", Severity.INFO): (["#lms-staging-deploys"], []),
    ("staging", Severity.WARNING): (["#lms-staging-deploys"], []),
    ("staging", Severity.CRITICAL): (["#lms-staging-deploys"], ["lms-team@example.com"]),
    ("production", Severity.INFO): (["#lms-releases"], []),
    ("production", Severity.WARNING): (["#lms-prod-alerts"], ["lms-oncall@example.com"]),
    ("production", Severity.CRITICAL): (["#lms-prod-alerts"], ["lms-oncall@example.com"]),
}


@pytest.mark.parametrize(("environment", "severity"), list(EXPECTED))
def test_real_config_routes_by_environment_and_severity(environment: str, severity: Severity) -> None:
    # Given the environment's config file and a notification of that severity
    config = load_environment(environment)
    # When it is routed
    deliveries = route_notification(notification(environment=environment, severity=severity), config)
    # Then the right channels and mailboxes get it, each once
    slack = [d.to[0] for d in deliveries if d.channel is DeliveryChannel.SLACK]
    emails = [address for d in deliveries if d.channel is DeliveryChannel.EMAIL for address in d.to]
    assert (slack, emails) == EXPECTED[(environment, severity)]


_CHANNELS = st.sampled_from(["#a", "#b", "#c"])
_EMAILS = st.lists(st.sampled_from(["x@example.com", "y@example.com", "z@example.com"]), max_size=3)
_ROUTES = st.builds(
    lambda severities, channel, emails: AlertRoute(
        severities=tuple(severities), slack_channel=channel, emails=tuple(emails) or (() if channel else ("x@e.com",))
    ),
    st.lists(st.sampled_from(list(Severity)), min_size=1, max_size=3, unique=True),
    st.one_of(st.none(), _CHANNELS),
    _EMAILS,
)


@given(routes=st.lists(_ROUTES, min_size=1, max_size=5), severity=st.sampled_from(list(Severity)))
def test_every_matching_route_is_served_once_and_no_other(routes: list[AlertRoute], severity: Severity) -> None:
    # Given any routes
    config = load_environment("production").model_copy(
        update={"alerts": Alerts(slack_webhook_secret="s", routes=tuple(routes))}
    )
    # When a notification of some severity is routed
    deliveries = route_notification(notification(severity=severity), config)
    # Then exactly the matching routes' channels and addresses receive it, none twice, in one email
    matching = [r for r in routes if severity in r.severities]
    slack = [d.to[0] for d in deliveries if d.channel is DeliveryChannel.SLACK]
    emails = [d for d in deliveries if d.channel is DeliveryChannel.EMAIL]
    assert sorted(slack) == sorted({r.slack_channel for r in matching if r.slack_channel})
    assert len(emails) <= 1
    addresses = list(emails[0].to) if emails else []
    assert len(addresses) == len(set(addresses))
    assert set(addresses) == {a for r in matching for a in r.emails}
