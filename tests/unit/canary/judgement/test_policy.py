"""The canary_analysis section of the environment config: defaults, environment values, and what synth refuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.core.config import CanaryAnalysisPolicy, ConfigError, load_environment, parse_environment

ENVIRONMENTS = Path(__file__).resolve().parents[4] / "lambdas" / "core" / "environments"


def _raw(name: str) -> dict[str, Any]:
    return json.loads((ENVIRONMENTS / f"{name}.json").read_text(encoding="utf-8"))


def test_production_fails_without_data_and_staging_waits_for_traffic() -> None:
    production = load_environment("production").canary_analysis
    staging = load_environment("staging").canary_analysis
    assert production.no_data == "fail" and staging.no_data == "inconclusive"
    # Production is the stricter on the margin and the tolerance
    assert production.error_rate_margin_percent <= staging.error_rate_margin_percent
    assert production.latency_tolerance_percent <= staging.latency_tolerance_percent


def test_defaults_validate() -> None:
    assert CanaryAnalysisPolicy().min_latency_periods == 6


def test_production_may_not_let_a_canary_without_data_wait() -> None:
    raw = copy.deepcopy(_raw("production"))
    raw["canary_analysis"]["no_data"] = "inconclusive"
    with pytest.raises(ConfigError, match=r"environment 'production': .*canary_analysis.no_data must be 'fail'"):
        parse_environment("production", raw)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_latency_periods", 5, "min_latency_periods 5 is too few for alpha 0.05: .* needs at least 6"),
        ("min_latency_periods", 2, "greater than or equal to 3"),
        ("alpha", 0.5, "less than or equal to 0.2"),
        ("alpha", 0, "greater than 0"),
        ("no_data", "pass", "Input should be 'fail' or 'inconclusive'"),
        ("min_canary_requests", 0, "greater than or equal to 1"),
        ("error_rate_margin_percent", -1, "greater than or equal to 0"),
        ("surprise", 1, "Extra inputs are not permitted"),
    ],
)
def test_a_wrong_value_fails_naming_environment_and_field(field: str, value: Any, message: str) -> None:
    raw = copy.deepcopy(_raw("staging"))
    raw["canary_analysis"][field] = value
    with pytest.raises(ConfigError, match=rf"environment 'staging': field 'canary_analysis.*{message}"):
        parse_environment("staging", raw)


def test_a_smaller_alpha_needs_more_periods() -> None:
    # 0.5 ** 7 = 0.0078 >= 0.005 = alpha / 2: seven periods could never fail at alpha 0.01
    with pytest.raises(ValueError, match="needs at least 8"):
        CanaryAnalysisPolicy(alpha=0.01, min_latency_periods=7)
    assert CanaryAnalysisPolicy(alpha=0.01, min_latency_periods=8).min_latency_periods == 8
