"""The environment config: the three real environments load, and wrong values name env and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.core.config import (
    ENVIRONMENT_NAMES,
    ConfigError,
    Strategy,
    iam_principal,
    load_all_environments,
    load_environment,
    parse_environment,
)


def _raw(name: str) -> dict[str, Any]:
    return json.loads((Path("lambdas/core/environments") / f"{name}.json").read_text())


def test_the_three_environments_load_with_the_seed_strategies() -> None:
    configs = load_all_environments()
    assert {name: c.deployment.strategy for name, c in configs.items()} == {
        "development": Strategy.ROLLING,
        "staging": Strategy.BLUE_GREEN,
        "production": Strategy.CANARY,
    }
    assert configs["production"].deployment.canary_steps == (10, 50, 100)
    assert configs["production"].deployment.requires_approval


def test_controls_get_stricter_toward_production() -> None:
    configs = load_all_environments()
    rates = [configs[n].thresholds.error_rate_percent for n in ENVIRONMENT_NAMES]
    assert rates == sorted(rates, reverse=True)


@pytest.mark.parametrize(
    ("environment", "mutate", "field"),
    [
        ("production", lambda c: c["deployment"].update(canary_steps=[50, 10, 100]), "deployment.canary_steps"),
        ("production", lambda c: c["thresholds"].update(error_rate_percent=-1), "thresholds.error_rate_percent"),
        ("staging", lambda c: c.update(account="12"), "account"),
        ("staging", lambda c: c["lms"].pop("codedeploy_application"), "codedeploy_application"),
        ("development", lambda c: c.update(log_retention_days=10), "log_retention_days"),
        ("development", lambda c: c["alerts"]["routes"][0].pop("slack_channel"), "alerts.routes.0"),
        ("production", lambda c: c.update(surprise=True), "surprise"),
        ("production", lambda c: c["change_freezes"][0].update(end="2026-12-01T00:00:00Z"), "change_freezes.0"),
    ],
)
def test_a_wrong_value_names_environment_and_field(environment: str, mutate: Any, field: str) -> None:
    raw = copy.deepcopy(_raw(environment))
    mutate(raw)
    with pytest.raises(ConfigError) as raised:
        parse_environment(environment, raw)
    assert f"environment '{environment}'" in str(raised.value)
    assert field in str(raised.value)


def test_a_config_for_another_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected 'staging'"):
        parse_environment("staging", _raw("production"))


def test_unknown_environment_and_broken_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown"):
        load_environment("qa")
    (tmp_path / "staging.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_environment("staging", tmp_path)
    with pytest.raises(ConfigError, match="no config file"):
        load_environment("production", tmp_path)


def test_service_lookup_by_deployment_group() -> None:
    staging = load_environment("staging")
    assert staging.service_for_deployment_group("lms-staging-frontend") == "frontend"
    assert staging.service_for_deployment_group("someone-else") is None


@pytest.mark.parametrize(
    ("arn", "principal"),
    [
        ("arn:aws:iam::222222222222:role/tollgate-staging-operator", ("role", "tollgate-staging-operator")),
        ("arn:aws:iam::222222222222:role/oncall/lms-operator", ("role", "lms-operator")),
        ("arn:aws:iam::222222222222:user/ana", ("user", "ana")),
        ("arn:aws:iam::222222222222:role/lms-*", None),
        ("arn:aws:sts::222222222222:assumed-role/x/y", None),
        ("not an arn", None),
    ],
    ids=["role", "role-with-path", "user", "pattern", "not-iam", "garbage"],
)
def test_an_iam_principal_arn_names_its_kind_and_name_unless_it_is_a_pattern(
    arn: str, principal: tuple[str, str] | None
) -> None:
    assert iam_principal(arn) == principal
