"""Pure decisions of the canary and the synth-time hook-limit budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.canary import domain
from lambdas.core.config import ENVIRONMENTS_DIR, ConfigError, parse_environment

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@given(st.integers(min_value=1, max_value=99))
def test_weights_always_add_to_100(step: int) -> None:
    weights = domain.weights_for(step)
    assert weights.original + weights.replacement == 100
    assert weights.replacement == step


@pytest.mark.parametrize("step", [0, 100, -5])
def test_weights_refuse_non_partial_steps(step: int) -> None:
    with pytest.raises(ValueError, match="partial canary step"):
        domain.weights_for(step)


@given(st.sets(st.integers(min_value=1, max_value=60)), st.integers(min_value=2, max_value=60))
def test_canary_rule_comes_before_the_service_rule_and_is_free(taken: set[int], service_priority: int) -> None:
    try:
        priority = domain.canary_rule_priority(taken, service_priority)
    except ValueError:
        assert set(range(1, service_priority)) <= taken
        return
    assert priority < service_priority
    assert priority not in taken


@given(
    verdict=st.sampled_from(["pass", "fail", "inconclusive"]),
    more=st.booleans(),
    used=st.integers(min_value=0, max_value=600),
    limit=st.integers(min_value=0, max_value=600),
    step=st.integers(min_value=0, max_value=300),
)
def test_inconclusive_never_passes(verdict: str, more: bool, used: int, limit: int, step: int) -> None:
    bake = domain.Bake(NOW, NOW + timedelta(seconds=60), extended_seconds=used)
    decision = domain.decide_step(
        {"verdict": verdict, "more_traffic_needed": more},
        bake=bake,
        max_extension_seconds=limit,
        extension_seconds=step,
    )
    if verdict != "pass":
        assert decision is not domain.StepDecision.PASSED
    if decision is domain.StepDecision.EXTEND:
        assert used + step <= limit and more and verdict == "inconclusive"


def test_bake_states() -> None:
    bake = domain.Bake(NOW, NOW + timedelta(seconds=300))
    assert domain.bake_state(bake, now=NOW, promoted=False, aborted=False) is domain.BakeState.BAKING
    assert domain.bake_state(bake, now=NOW, promoted=True, aborted=False) is domain.BakeState.DONE
    assert (
        domain.bake_state(bake, now=NOW + timedelta(seconds=300), promoted=False, aborted=False)
        is domain.BakeState.DONE
    )
    assert domain.bake_state(bake, now=NOW, promoted=True, aborted=True) is domain.BakeState.ABORTED
    assert domain.bake_left_seconds(bake, now=NOW + timedelta(seconds=100)) == 200


def _production(**deployment: object) -> dict[str, object]:
    raw = json.loads((ENVIRONMENTS_DIR / "production.json").read_text())
    raw["deployment"].update(deployment)
    return dict(raw)


def test_shipped_production_fits_the_hook_limit() -> None:
    config = parse_environment("production", _production())
    assert config.deployment.approvers


def test_a_canary_that_cannot_fit_the_hour_fails_naming_environment_and_fields() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_environment("production", _production(bake_seconds=1200, max_bake_extension_seconds=600))
    message = str(raised.value)
    assert message.startswith("environment 'production'")
    for field in (
        "deployment.approval_timeout_seconds",
        "deployment.bake_seconds",
        "deployment.max_bake_extension_seconds",
        "deployment.canary_steps",
        "one-hour hook limit",
    ):
        assert field in message


def test_approval_without_approvers_fails_synth() -> None:
    with pytest.raises(ConfigError, match=r"deployment\.approvers"):
        parse_environment("production", _production(approvers=[]))
