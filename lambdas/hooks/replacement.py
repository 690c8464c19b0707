"""Which target group carries the release a hook judges (pure).

CodeDeploy ECS blue/green swaps the roles of a service's two target groups on every deployment, so the
replacement is whichever group the ALB sends the hook's traffic to, never a fixed "green": from
AllowTestTraffic on, the test listener forwards to the replacement; from AllowTraffic on, the production
listener does too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from lambdas.core.config import Hook, TargetGroups


class ListenerRole(StrEnum):
    TEST = "test"
    PRODUCTION = "production"


# Before AllowTestTraffic no listener sends anything to the replacement task set.
_LISTENER_FOR_HOOK = {
    Hook.AFTER_ALLOW_TEST_TRAFFIC: ListenerRole.TEST,
    Hook.BEFORE_ALLOW_TRAFFIC: ListenerRole.TEST,
    Hook.AFTER_ALLOW_TRAFFIC: ListenerRole.PRODUCTION,
}

Forward = Mapping[str, int]
"""One forward action: target group name -> weight."""


@dataclass(frozen=True)
class ReplacementFinding:
    """The replacement target group's name, or why it cannot be told."""

    target_group: str | None
    reason: str


def listener_for_hook(hook: Hook) -> ListenerRole | None:
    """The listener that already sends traffic to the replacement at ``hook`` (None: none does yet)."""
    return _LISTENER_FOR_HOOK.get(hook)


def pick_replacement(
    forwards: Sequence[Forward], *, service_groups: Sequence[str], listener: str
) -> ReplacementFinding:
    """The service group the listener's forwards send the most traffic to.

    Only forwards that name one of ``service_groups`` count (other services share the listener). Every such
    forward must favour the same group, by a strictly highest weight; anything else is undetermined.
    """
    names = tuple(dict.fromkeys(service_groups))
    relevant = [forward for forward in forwards if any(name in forward for name in names)]
    if not relevant:
        return ReplacementFinding(None, f"the {listener} listener forwards to none of {', '.join(names)}")
    winners: set[str] = set()
    for forward in relevant:
        weights = {name: forward.get(name, 0) for name in names}
        top = max(weights.values())
        leaders = [name for name, weight in weights.items() if weight == top]
        if top <= 0 or len(leaders) > 1:
            shown = ", ".join(f"{name}={weight}" for name, weight in weights.items())
            return ReplacementFinding(None, f"the {listener} listener favours no single target group ({shown})")
        winners.add(leaders[0])
    if len(winners) > 1:
        return ReplacementFinding(
            None, f"the {listener} listener's rules disagree: they favour {', '.join(sorted(winners))}"
        )
    (winner,) = winners
    return ReplacementFinding(winner, f"the {listener} listener sends the most traffic to {winner}")


def service_group_names(target_groups: TargetGroups) -> tuple[str, ...]:
    return tuple(name for name in (target_groups.blue_name, target_groups.green_name) if name)


def dimension_for(name: str, target_groups: TargetGroups) -> str | None:
    """The CloudWatch ``TargetGroup`` dimension value (``targetgroup/<name>/<id>``) the config names for ``name``."""
    for dimension in (target_groups.blue, target_groups.green):
        if dimension and dimension.split("/")[1] == name:
            return dimension
    return None
