"""Adapter: the canary's split on the LMS's production listener, through a listener rule of Tollgate's own.

CodeDeploy owns the service's rule (and the default action): it rewrites their forward weights at
AllowTraffic and on rollback. Tollgate never touches them; it adds one rule with the same conditions at a
higher priority (lower number), weighted blue/green, and deletes it before the hook reports
(docs/decisions/0010). Which of our rules is ours: the one, other than the service's rule, whose
conditions equal the service's rule's and which forwards to the service's pair; so a retried shift finds it.
"""

from __future__ import annotations

from typing import Any

from lambdas.canary.domain import Weights, canary_rule_priority
from lambdas.canary.ports import ServiceTargets
from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig


class TrafficError(Exception):
    """The production listener or the service's rule cannot be found."""


class ListenerRuleTraffic:
    def __init__(self, config: EnvironmentConfig, *, client: Any | None = None) -> None:
        self._config = config
        self._client = client

    @property
    def _elbv2(self) -> Any:
        return self._client or aws.client("elbv2")

    def targets(self, service: str) -> ServiceTargets:
        rule, arns = self._service_rule(service)
        weights = _weights(rule)
        original = max(arns, key=lambda arn: weights.get(arn, 0))
        replacement = next(arn for arn in arns if arn != original)
        return ServiceTargets(original=_dimension(original), replacement=_dimension(replacement))

    def shift(self, service: str, weights: Weights) -> str:
        rule, arns = self._service_rule(service)
        current = _weights(rule)
        original = max(arns, key=lambda arn: current.get(arn, 0))
        replacement = next(arn for arn in arns if arn != original)
        actions = [
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": original, "Weight": weights.original},
                        {"TargetGroupArn": replacement, "Weight": weights.replacement},
                    ]
                },
            }
        ]
        ours = self._our_rule(rule, arns)
        if ours is not None:
            self._elbv2.modify_rule(RuleArn=ours["RuleArn"], Actions=actions)
            return str(ours["RuleArn"])
        rules = self._rules()
        taken = {int(r["Priority"]) for r in rules if str(r.get("Priority", "default")).isdigit()}
        priority = canary_rule_priority(taken, int(rule["Priority"]))
        created = self._elbv2.create_rule(
            ListenerArn=self._listener_arn(), Priority=priority, Conditions=_conditions(rule), Actions=actions
        )
        return str(created["Rules"][0]["RuleArn"])

    def restore(self, service: str) -> bool:
        rule, arns = self._service_rule(service)
        ours = self._our_rule(rule, arns)
        if ours is None:
            return False
        self._elbv2.delete_rule(RuleArn=ours["RuleArn"])
        return True

    # -- reading the listener ---------------------------------------------------------------------------

    def _listener_arn(self) -> str:
        lms = self._config.lms
        (balancer,) = self._elbv2.describe_load_balancers(Names=[lms.load_balancer_name])["LoadBalancers"]
        for listener in self._elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]:
            if listener.get("Port") == lms.production_listener_port:
                return str(listener["ListenerArn"])
        raise TrafficError(f"{lms.load_balancer_name} has no listener on port {lms.production_listener_port}")

    def _rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._elbv2.describe_rules(ListenerArn=self._listener_arn())["Rules"]
        return rules

    def _pair(self, service: str) -> list[str]:
        groups = self._config.lms.services[service].target_groups
        names = [n for n in (groups.blue_name, groups.green_name) if n]
        found = self._elbv2.describe_target_groups(Names=names)["TargetGroups"]
        return [str(g["TargetGroupArn"]) for g in found]

    def _service_rule(self, service: str) -> tuple[dict[str, Any], list[str]]:
        arns = self._pair(service)
        candidates = [r for r in self._rules() if set(_weights(r)) & set(arns)]
        # CodeDeploy's rule is the lowest-priority one of the pair (ours is always placed before it).
        numbered = sorted((r for r in candidates if str(r.get("Priority")).isdigit()), key=lambda r: int(r["Priority"]))
        if not numbered:
            raise TrafficError(f"no production listener rule forwards to {service}'s target groups")
        return numbered[-1], arns

    def _our_rule(self, service_rule: dict[str, Any], arns: list[str]) -> dict[str, Any] | None:
        for rule in self._rules():
            if rule["RuleArn"] == service_rule["RuleArn"] or not set(_weights(rule)) & set(arns):
                continue
            if _conditions(rule) == _conditions(service_rule):
                return rule
        return None


def _weights(rule: dict[str, Any]) -> dict[str, int]:
    return {
        str(group["TargetGroupArn"]): int(group.get("Weight", 1))
        for action in rule.get("Actions", [])
        if action.get("Type") == "forward"
        for group in action.get("ForwardConfig", {}).get("TargetGroups", [])
    }


def _conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    kept = []
    for condition in rule.get("Conditions", []):
        field = condition.get("Field")
        values = (
            condition.get("Values")
            or condition.get("HostHeaderConfig", {}).get("Values")
            or condition.get("PathPatternConfig", {}).get("Values")
            or []
        )
        if field == "host-header":
            kept.append({"Field": field, "HostHeaderConfig": {"Values": sorted(values)}})
        elif field == "path-pattern":
            kept.append({"Field": field, "PathPatternConfig": {"Values": sorted(values)}})
        else:
            kept.append({"Field": field, "Values": sorted(values)})
    return sorted(kept, key=lambda c: str(c["Field"]))


def _dimension(target_group_arn: str) -> str:
    # arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id> -> targetgroup/<name>/<id>
    return target_group_arn.rsplit(":", 1)[-1]
