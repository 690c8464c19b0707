"""Which target group carries the new release: listener per hook, winning group, ALB reading, gate wiring."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given
from hypothesis import strategies as st

from lambdas.core.config import Hook, load_environment
from lambdas.hooks.adapters.traffic import find_replacement_target_group, read_listener_forwards
from lambdas.hooks.checks import run_metric_gate
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import TrafficError
from lambdas.hooks.metric_gate import TargetGroupMetrics
from lambdas.hooks.model import CheckKind
from lambdas.hooks.plan import plan_checks
from lambdas.hooks.replacement import (
    ListenerRole,
    dimension_for,
    listener_for_hook,
    pick_replacement,
    service_group_names,
)
from tests.unit.hooks.fakes import World

BLUE, GREEN = "lms-stag-backend-blue", "lms-stag-backend-green"
GROUPS = (BLUE, GREEN)
TRAFFIC_HOOKS = [Hook.AFTER_ALLOW_TEST_TRAFFIC, Hook.BEFORE_ALLOW_TRAFFIC, Hook.AFTER_ALLOW_TRAFFIC]

# Far enough ahead for any fake call.
SOON = Deadline(at=float("inf"))


@pytest.mark.parametrize(
    ("hook", "listener"),
    [
        (Hook.BEFORE_INSTALL, None),
        (Hook.AFTER_INSTALL, None),
        (Hook.AFTER_ALLOW_TEST_TRAFFIC, ListenerRole.TEST),
        (Hook.BEFORE_ALLOW_TRAFFIC, ListenerRole.TEST),
        (Hook.AFTER_ALLOW_TRAFFIC, ListenerRole.PRODUCTION),
    ],
)
def test_each_hook_reads_the_listener_that_already_carries_the_replacement(
    hook: Hook, listener: ListenerRole | None
) -> None:
    assert listener_for_hook(hook) is listener


@pytest.mark.parametrize(
    ("blue_weight", "green_weight", "expected"),
    [(100, 0, BLUE), (0, 100, GREEN), (90, 10, BLUE), (10, 90, GREEN), (1, 0, BLUE), (0, 999, GREEN)],
)
@pytest.mark.parametrize("hook", TRAFFIC_HOOKS)
def test_the_heavier_service_group_is_the_replacement(
    hook: Hook, blue_weight: int, green_weight: int, expected: str
) -> None:
    # Given the hook's listener forwards to both groups with these weights, beside another service's rule
    listener = listener_for_hook(hook)
    assert listener is not None
    forwards = [{"lms-stag-frontend-blue": 0, "lms-stag-frontend-green": 100}, {BLUE: blue_weight, GREEN: green_weight}]
    # When the replacement is picked
    finding = pick_replacement(forwards, service_groups=GROUPS, listener=listener.value)
    # Then it is the heavier one, whichever colour it is
    assert finding.target_group == expected
    assert expected in finding.reason


@given(blue=st.integers(min_value=0, max_value=999), green=st.integers(min_value=0, max_value=999))
def test_a_strictly_heavier_group_always_wins_and_ties_never_do(blue: int, green: int) -> None:
    finding = pick_replacement([{BLUE: blue, GREEN: green}], service_groups=GROUPS, listener="test")
    if blue == green:
        assert finding.target_group is None
        assert "favours no single target group" in finding.reason
    else:
        assert finding.target_group == (BLUE if blue > green else GREEN)


@pytest.mark.parametrize(
    ("forwards", "expected_reason"),
    [
        ([], "forwards to none of"),
        ([{"lms-stag-frontend-blue": 100}], "forwards to none of"),
        ([{BLUE: 0, GREEN: 0}], "favours no single target group"),
        ([{BLUE: 50, GREEN: 50}], "favours no single target group"),
        ([{BLUE: 100, GREEN: 0}, {BLUE: 0, GREEN: 100}], "rules disagree"),
    ],
    ids=["no-forward", "other-service-only", "all-zero", "tie", "rules-disagree"],
)
def test_an_undeterminable_replacement_is_none_with_a_reason(
    forwards: list[dict[str, int]], expected_reason: str
) -> None:
    finding = pick_replacement(forwards, service_groups=GROUPS, listener="production")
    assert finding.target_group is None
    assert expected_reason in finding.reason
    assert "production listener" in finding.reason


def test_a_forward_to_one_service_group_alone_counts_for_that_group() -> None:
    # A real ALB's default action may forward to the replacement alone, with no weight for the other group
    finding = pick_replacement([{GREEN: 1}], service_groups=GROUPS, listener="test")
    assert finding.target_group == GREEN


def test_names_map_back_to_the_configs_dimension_values() -> None:
    groups = load_environment("staging").lms.services["backend"].target_groups
    assert service_group_names(groups) == (groups.blue_name, groups.green_name)
    assert dimension_for(groups.blue_name, groups) == groups.blue
    assert dimension_for(str(groups.green_name), groups) == groups.green
    assert dimension_for("lms-stag-frontend-blue", groups) is None


def _tg_arn(name: str, tg_id: str = "0123456789abcdef") -> str:
    return f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{name}/{tg_id}"


class FakeElbv2:
    """Answers the three Describe* calls from a listener table; pages rules two at a time."""

    def __init__(self, listeners: dict[int, list[dict[str, Any]]], error: Exception | None = None) -> None:
        self.listeners = listeners
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_load_balancers(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_load_balancers", kwargs))
        if self.error:
            raise self.error
        return {"LoadBalancers": [{"LoadBalancerArn": f"arn:lb/{kwargs['Names'][0]}"}]}

    def describe_listeners(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_listeners", kwargs))
        ports = sorted(self.listeners)
        if "Marker" not in kwargs:  # one listener per page, to exercise paging
            return {"Listeners": [{"ListenerArn": f"l-{ports[0]}", "Port": ports[0]}], "NextMarker": "next"}
        return {"Listeners": [{"ListenerArn": f"l-{port}", "Port": port} for port in ports[1:]]}

    def describe_rules(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_rules", kwargs))
        rules = self.listeners[int(kwargs["ListenerArn"].removeprefix("l-"))]
        start = int(kwargs.get("Marker", 0))
        page: dict[str, Any] = {"Rules": rules[start : start + 2]}
        if start + 2 < len(rules):
            page["NextMarker"] = str(start + 2)
        return page


def _weighted(weights: dict[str, int]) -> dict[str, Any]:
    groups = [{"TargetGroupArn": _tg_arn(name), "Weight": weight} for name, weight in weights.items()]
    return {"Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]}


FIXED_404 = {"Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}], "IsDefault": True}


def test_forwards_are_read_from_rules_and_default_actions_across_pages() -> None:
    # Given a listener with a fixed response, a weighted rule, a legacy single-group forward and a redirect
    client = FakeElbv2(
        {
            443: [FIXED_404],
            8443: [
                {"Actions": [{"Type": "redirect"}]},
                _weighted({BLUE: 0, GREEN: 100}),
                {"Actions": [{"Type": "forward", "TargetGroupArn": _tg_arn("lms-stag-frontend-green")}]},
            ],
        }
    )
    # When the test listener's forwards are read
    forwards = read_listener_forwards("lms-staging", 8443, client=client)
    # Then every forward comes back by name, from both pages of rules of the right listener
    assert forwards == [{BLUE: 0, GREEN: 100}, {"lms-stag-frontend-green": 1}]
    rule_calls = [kwargs for name, kwargs in client.calls if name == "describe_rules"]
    assert rule_calls == [{"ListenerArn": "l-8443"}, {"ListenerArn": "l-8443", "Marker": "2"}]


@pytest.mark.parametrize(
    ("hook", "test_weights", "production_weights", "expected_colour"),
    [
        (Hook.AFTER_ALLOW_TEST_TRAFFIC, {BLUE: 0, GREEN: 100}, {BLUE: 100, GREEN: 0}, "green"),
        (Hook.AFTER_ALLOW_TEST_TRAFFIC, {BLUE: 100, GREEN: 0}, {BLUE: 0, GREEN: 100}, "blue"),
        (Hook.BEFORE_ALLOW_TRAFFIC, {BLUE: 100, GREEN: 0}, {BLUE: 0, GREEN: 100}, "blue"),
        (Hook.AFTER_ALLOW_TRAFFIC, {BLUE: 100, GREEN: 0}, {BLUE: 100, GREEN: 0}, "blue"),
        (Hook.AFTER_ALLOW_TRAFFIC, {BLUE: 100, GREEN: 0}, {BLUE: 0, GREEN: 100}, "green"),
    ],
)
def test_the_replacement_becomes_the_configs_dimension(
    hook: Hook, test_weights: dict[str, int], production_weights: dict[str, int], expected_colour: str
) -> None:
    config = load_environment("staging")
    client = FakeElbv2(
        {
            config.lms.production_listener_port: [_weighted(production_weights), FIXED_404],
            int(config.lms.test_listener_port or 0): [_weighted(test_weights), FIXED_404],
        }
    )
    dimension = find_replacement_target_group(config, hook, "backend", deadline=SOON, client=client)
    assert dimension == getattr(config.lms.services["backend"].target_groups, expected_colour)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ClientError({"Error": {"Code": "LoadBalancerNotFound"}}, "DescribeLoadBalancers"), "LoadBalancerNotFound"),
        (ClientError({"Error": {"Code": "AccessDenied"}}, "DescribeLoadBalancers"), "AccessDenied"),
        (EndpointConnectionError(endpoint_url="https://elb"), "Could not connect"),
    ],
)
def test_elb_errors_become_traffic_errors(error: Exception, message: str) -> None:
    config = load_environment("staging")
    with pytest.raises(TrafficError, match=message):
        find_replacement_target_group(
            config, Hook.AFTER_ALLOW_TRAFFIC, "backend", deadline=SOON, client=FakeElbv2({}, error)
        )


def test_a_missing_listener_or_a_hook_without_traffic_is_a_traffic_error() -> None:
    config = load_environment("staging")
    only_production = FakeElbv2({config.lms.production_listener_port: [FIXED_404], 80: []})
    with pytest.raises(TrafficError, match=f"no listener on port {config.lms.test_listener_port}"):
        find_replacement_target_group(
            config, Hook.AFTER_ALLOW_TEST_TRAFFIC, "backend", deadline=SOON, client=only_production
        )
    with pytest.raises(TrafficError, match="forwards to none of"):
        find_replacement_target_group(
            config, Hook.AFTER_ALLOW_TRAFFIC, "backend", deadline=SOON, client=only_production
        )
    calls_before = len(only_production.calls)
    with pytest.raises(TrafficError, match="at AfterInstall no listener"):
        find_replacement_target_group(config, Hook.AFTER_INSTALL, "backend", deadline=SOON, client=only_production)
    assert len(only_production.calls) == calls_before


def test_without_a_test_listener_port_the_test_listener_cannot_be_read() -> None:
    config = load_environment("staging")
    no_test_port = config.model_copy(update={"lms": config.lms.model_copy(update={"test_listener_port": None})})
    with pytest.raises(TrafficError, match="no test listener port"):
        find_replacement_target_group(
            no_test_port, Hook.BEFORE_ALLOW_TRAFFIC, "backend", deadline=SOON, client=FakeElbv2({})
        )


def _metrics(target_group: str) -> TargetGroupMetrics:
    return TargetGroupMetrics(
        target_group=target_group, requests=1000, errors_5xx=0, p99_latency_ms=100, window_minutes=5
    )


@pytest.mark.parametrize("colour", ["blue", "green"])
def test_the_metric_gate_reads_the_group_the_alb_names(colour: str) -> None:
    # Given the ALB names blue or green as the replacement
    config = load_environment("production")
    replacement = getattr(config.lms.services["frontend"].target_groups, colour)
    asked: list[str] = []

    def fetch(**kwargs: Any) -> TargetGroupMetrics:
        asked.append(kwargs["target_group"])
        return _metrics(kwargs["target_group"])

    world = World()
    world.traffic.target_group = replacement
    world.metrics.metrics = _metrics(replacement)
    plan = plan_checks(config, Hook.AFTER_ALLOW_TRAFFIC, "frontend")
    # When the metric gate runs
    result = run_metric_gate(plan, config=config, now=datetime.now(UTC), ports=world.ports().checks, deadline=SOON)
    # Then it reads and judges exactly that group
    assert [a["target_group"] for a in world.metrics.asked] == [replacement]
    assert not asked
    assert result.passed
    assert result.details["target_group"] == replacement


def test_an_unknown_replacement_fails_the_gate_without_reading_any_metrics() -> None:
    config = load_environment("production")
    asked: list[Any] = []

    world = World()  # the fake ALB names no replacement
    plan = plan_checks(config, Hook.AFTER_ALLOW_TRAFFIC, "frontend")
    result = run_metric_gate(plan, config=config, now=datetime.now(UTC), ports=world.ports().checks, deadline=SOON)
    asked.extend(world.metrics.asked)
    assert not result.passed
    assert result.kind is CheckKind.METRIC_GATE
    assert "cannot tell which target group carries the new release of frontend" in result.reason
    assert "forwards to none of a, b" in result.reason
    assert asked == []
