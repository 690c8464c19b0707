"""The operator rollback's restore in a real account: a customer-managed key, the parameter group, long names."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from lambdas.core.config import ConfigError, EnvironmentConfig, load_environment, parse_environment
from lambdas.rollback.operator import rollback_cluster_name
from stacks.constructs.rollback import OPERATOR_ROLLBACK_HANDLER, Rollback
from stacks.constructs.shared import SharedFoundation
from tests.infrastructure.test_rollback import _statements

KEY = "arn:aws:kms:eu-west-1:333333333333:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
NOW = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)


def _raw(name: str) -> dict[str, Any]:
    return json.loads(load_environment(name).model_dump_json(by_alias=True, exclude_none=True))


def _template(config: EnvironmentConfig) -> Template:
    app = App(builtin_cloud_formation_validation=False)
    stack = Stack(app, "Restore", env=Environment(account=config.account, region=config.region))
    shared = SharedFoundation(stack, "Shared", config=config).resources
    Rollback(stack, "Rollback", shared=shared, config=config)
    return Template.from_stack(stack)


def _render(value: Any) -> str:
    """A resource ARN as text (``Fn::Join`` of literals and the partition)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if p == {"Ref": "AWS::Partition"} else _render(p) for p in parts)
    return str(value)


def _with(**lms: Any) -> EnvironmentConfig:
    raw = _raw("production")
    raw["lms"].update(lms)
    return parse_environment("production", raw)


def _kms(config: EnvironmentConfig) -> list[dict[str, Any]]:
    """The operator function's statements on a KMS key named by ARN (Tollgate's own key is a reference)."""
    statements = _statements(_template(config), OPERATOR_ROLLBACK_HANDLER)
    return [s for s in statements if isinstance(s["Resource"], str) and ":kms:" in s["Resource"]]


def test_a_customer_managed_database_key_is_granted_through_rds_only() -> None:
    # Given production's database encrypted with a customer-managed key
    statements = {s["Action"]: s for s in _kms(_with(rds_kms_key_arn=KEY))}
    # Then the operator function may create a grant for an AWS resource and describe the key, via RDS, on it alone
    via_rds = {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}
    assert statements["kms:CreateGrant"]["Resource"] == KEY
    assert statements["kms:CreateGrant"]["Condition"] == {
        "StringEquals": via_rds,
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }
    assert statements["kms:DescribeKey"] == {
        "Action": "kms:DescribeKey", "Effect": "Allow", "Resource": KEY, "Condition": {"StringEquals": via_rds},
    }  # fmt: skip


def test_without_a_configured_key_no_kms_grant_is_given() -> None:
    assert _kms(load_environment("production")) == []


def test_a_key_that_is_not_a_kms_key_arn_fails_naming_environment_and_field() -> None:
    with pytest.raises(ConfigError, match=r"environment 'production'.*lms\.rds_kms_key_arn"):
        _with(rds_kms_key_arn="alias/lms")


def test_the_restore_may_use_the_source_parameter_group() -> None:
    statements = _statements(_template(load_environment("production")), OPERATOR_ROLLBACK_HANDLER)
    restore = next(s for s in statements if s["Action"] == "rds:RestoreDBClusterToPointInTime")
    assert "arn:aws:rds:eu-west-1:333333333333:cluster-pg:*" in [_render(r) for r in restore["Resource"]]


def test_a_long_cluster_names_restored_cluster_is_inside_the_grant() -> None:
    # Given a 60-character cluster name, which the restored name must cut to stay within 63
    cluster = "lms-production-loan-management-aurora-postgresql-cluster-main"[:60]
    statements = _statements(_template(_with(rds_cluster=cluster)), OPERATOR_ROLLBACK_HANDLER)
    restored = rollback_cluster_name(cluster, NOW)
    arn = f"arn:aws:rds:eu-west-1:333333333333:cluster:{restored}"
    # Then the cluster Tollgate would create is one the role may create and tag
    for action in ("rds:RestoreDBClusterToPointInTime", "rds:AddTagsToResource"):
        statement = next(s for s in statements if s["Action"] == action)
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert any(fnmatchcase(arn, _render(r)) for r in resources), action
