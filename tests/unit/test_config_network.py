"""``lms.network`` (private ALBs, decision 0065): a wrong value fails synth naming the environment and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.core.config import ConfigError, parse_environment

GOOD = {
    "vpc_id": "vpc-0a1b2c3d4e5f60700",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-1a2b3c4d"],
    "security_group_ids": ["sg-0a1b2c3d4e5f60720"],
    "availability_zones": ["eu-west-1a", "eu-west-1b"],
}


def _with(network: dict[str, Any] | None, name: str = "staging") -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((Path("lambdas/core/environments") / f"{name}.json").read_text())
    raw["lms"]["network"] = network
    return raw


def _error(network: dict[str, Any], name: str = "staging") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_environment(name, _with(network, name))
    return str(caught.value)


def test_a_network_with_two_zones_is_accepted() -> None:
    network = parse_environment("staging", _with(GOOD)).lms.network
    assert network is not None
    assert network.subnet_ids == ("subnet-0a1b2c3d4e5f60718", "subnet-1a2b3c4d")
    assert network.security_group_ids == ("sg-0a1b2c3d4e5f60720",)


def test_no_network_is_the_default() -> None:
    assert parse_environment("staging", _with(None)).lms.network is None


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("vpc_id", "vpc-XYZ", "lms.network.vpc_id"),
        ("vpc_id", "subnet-0a1b2c3d4e5f60718", "lms.network.vpc_id"),
        ("subnet_ids", ["sg-0a1b2c3d", "subnet-1a2b3c4d"], "lms.network.subnet_ids.0"),
        ("subnet_ids", ["subnet-0a1b2c3d4e5f6071", "subnet-1a2b3c4d"], "lms.network.subnet_ids.0"),
        ("security_group_ids", ["sg-12345"], "lms.network.security_group_ids.0"),
        ("security_group_ids", ["subnet-1a2b3c4d"], "lms.network.security_group_ids.0"),
        ("availability_zones", ["eu-west-1", "eu-west-1b"], "lms.network.availability_zones.0"),
    ],
)
def test_a_malformed_id_names_the_environment_and_the_field(field: str, value: Any, where: str) -> None:
    message = _error({**GOOD, field: value})
    assert message.startswith("environment 'staging': ")
    assert f"field '{where}'" in message


def test_one_subnet_is_refused() -> None:
    message = _error({**GOOD, "subnet_ids": ["subnet-1a2b3c4d"], "availability_zones": ["eu-west-1a"]})
    assert "field 'lms.network.subnet_ids'" in message
    assert "at least 2" in message


def test_subnets_in_one_zone_are_refused() -> None:
    message = _error({**GOOD, "availability_zones": ["eu-west-1a", "eu-west-1a"]})
    assert "field 'lms.network'" in message
    assert "at least two Availability Zones" in message


def test_a_zone_per_subnet() -> None:
    message = _error({**GOOD, "availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"]})
    assert "3 entries for 2 subnet_ids" in message


def test_zones_of_another_region_are_refused() -> None:
    message = _error({**GOOD, "availability_zones": ["eu-west-1a", "us-east-1b"]}, name="production")
    assert message.startswith("environment 'production': ")
    assert "lms.network.availability_zones: ['us-east-1b'] are not in this environment's region eu-west-1" in message


def test_a_repeated_subnet_or_group_is_refused() -> None:
    message = _error({**GOOD, "subnet_ids": ["subnet-1a2b3c4d", "subnet-1a2b3c4d"]})
    assert "field 'lms.network.subnet_ids'" in message
    assert "listed more than once: ['subnet-1a2b3c4d']" in message
    message = _error({**GOOD, "security_group_ids": ["sg-1a2b3c4d", "sg-1a2b3c4d"]})
    assert "field 'lms.network.security_group_ids'" in message


def test_lambdas_limits_of_16_subnets_and_5_groups() -> None:
    subnets = [f"subnet-{i:08x}" for i in range(17)]
    message = _error(
        {**GOOD, "subnet_ids": subnets, "availability_zones": ["eu-west-1a", "eu-west-1b"] * 8 + ["eu-west-1c"]}
    )
    assert "field 'lms.network.subnet_ids'" in message
    message = _error({**GOOD, "security_group_ids": [f"sg-{i:08x}" for i in range(6)]})
    assert "field 'lms.network.security_group_ids'" in message
    assert "at most 5" in message


def test_no_security_group_is_refused() -> None:
    assert "field 'lms.network.security_group_ids'" in _error({**GOOD, "security_group_ids": []})


def test_an_unknown_key_is_refused() -> None:
    assert "field 'lms.network.subnets'" in _error({**GOOD, "subnets": []})
