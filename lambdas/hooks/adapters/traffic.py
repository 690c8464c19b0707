"""Adapter: which of a service's target groups the ALB sends the hook's traffic to (ELBv2 Describe* calls).

The listeners may forward through their default action or through per-service rules; DescribeRules
returns both (the default action is the rule with ``IsDefault``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.core.errors import describe
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import OutOfTimeError, TrafficError
from lambdas.hooks.replacement import (
    Forward,
    ListenerRole,
    dimension_for,
    listener_for_hook,
    pick_replacement,
    service_group_names,
)


def find_replacement_target_group(
    config: EnvironmentConfig, hook: Hook, service: str, *, deadline: Deadline, client: Any | None = None
) -> str:
    """The CloudWatch ``TargetGroup`` dimension of the group the replacement task set serves at ``hook``."""
    listener = listener_for_hook(hook)
    if listener is None:
        raise TrafficError(f"at {hook.value} no listener sends traffic to the replacement yet")
    lms = config.lms
    port = lms.test_listener_port if listener is ListenerRole.TEST else lms.production_listener_port
    if port is None:
        raise TrafficError(f"{config.name} has no {listener.value} listener port (lms.test_listener_port)")
    target_groups = lms.services[service].target_groups
    try:
        elbv2 = client or budgeted_client("elbv2", deadline)
    except OutOfTimeError as error:
        raise TrafficError(str(error)) from error
    forwards = read_listener_forwards(lms.load_balancer_name, port, client=elbv2)
    finding = pick_replacement(forwards, service_groups=service_group_names(target_groups), listener=listener.value)
    if finding.target_group is None:
        raise TrafficError(f"{finding.reason} (port {port} of {lms.load_balancer_name})")
    dimension = dimension_for(finding.target_group, target_groups)
    if dimension is None:  # pick_replacement only returns the service's own names
        raise TrafficError(f"target group {finding.target_group} is not in {service}'s config")
    return dimension


def read_listener_forwards(load_balancer_name: str, port: int, *, client: Any) -> list[Forward]:
    """Every forward action (target group name -> weight) of the load balancer's listener on ``port``."""
    try:
        (load_balancer,) = client.describe_load_balancers(Names=[load_balancer_name])["LoadBalancers"]
        listeners = _all_pages(client.describe_listeners, "Listeners", LoadBalancerArn=load_balancer["LoadBalancerArn"])
        listener = next((item for item in listeners if item.get("Port") == port), None)
        if listener is None:
            raise TrafficError(f"load balancer {load_balancer_name} has no listener on port {port}")
        rules = _all_pages(client.describe_rules, "Rules", ListenerArn=listener["ListenerArn"])
    except (ClientError, BotoCoreError) as error:
        raise TrafficError(f"reading the listeners of {load_balancer_name}: {describe(error)}") from error
    return [forward for rule in rules for action in rule.get("Actions", []) if (forward := _forward_weights(action))]


def _all_pages(call: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = call(**kwargs)
        items.extend(page.get(key, []))
        marker = page.get("NextMarker")
        if not marker:
            return items
        kwargs["Marker"] = marker


def _forward_weights(action: dict[str, Any]) -> dict[str, int]:
    if action.get("Type") != "forward":
        return {}
    groups = action.get("ForwardConfig", {}).get("TargetGroups")
    if groups:
        # A lone target group may come back without a weight; it then gets all the traffic.
        return {_name(group["TargetGroupArn"]): int(group.get("Weight", 1)) for group in groups}
    if action.get("TargetGroupArn"):
        return {_name(action["TargetGroupArn"]): 1}
    return {}


def _name(target_group_arn: str) -> str:
    # arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>
    return target_group_arn.rsplit(":", 1)[-1].split("/")[1]


class ElbTraffic:
    """The TrafficReader port on the ALB's listeners (ELBv2)."""

    def replacement_target_group(
        self, config: EnvironmentConfig, hook: Hook, service: str, *, deadline: Deadline
    ) -> str:
        return find_replacement_target_group(config, hook, service, deadline=deadline)
