"""The restore request built from the source cluster, and the restored cluster's name against its IAM grant."""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.rollback.adapters.database import restore_request
from lambdas.rollback.operator import (
    RDS_IDENTIFIER_MAX,
    DatabaseRestore,
    rollback_cluster_name,
    rollback_cluster_prefix,
)

NOW = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)
RESTORE = DatabaseRestore(
    source_cluster="lms-production-db", target_cluster="lms-production-db-rollback-202612021540",
    restore_to=NOW, reason="test",
)  # fmt: skip


def test_a_plain_cluster_asks_only_for_what_it_has() -> None:
    request = restore_request({"DBSubnetGroup": "lms", "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1"}]}, RESTORE)
    assert set(request) == {
        "DBClusterIdentifier", "SourceDBClusterIdentifier", "RestoreToTime", "Tags", "DBSubnetGroupName",
        "VpcSecurityGroupIds",
    }  # fmt: skip


def test_false_flags_are_sent_as_they_are_and_an_unencrypted_key_is_not_named() -> None:
    request = restore_request(
        {"DeletionProtection": False, "IAMDatabaseAuthenticationEnabled": False, "KmsKeyId": "k"}, RESTORE
    )
    assert request["DeletionProtection"] is False and request["EnableIAMDatabaseAuthentication"] is False
    assert "KmsKeyId" not in request


def test_serverless_scaling_keeps_auto_pause_and_needs_both_bounds() -> None:
    scaling = {"MinCapacity": 0, "MaxCapacity": 4, "SecondsUntilAutoPause": 600}
    assert (
        restore_request({"ServerlessV2ScalingConfiguration": scaling}, RESTORE)["ServerlessV2ScalingConfiguration"]
        == scaling
    )
    assert "ServerlessV2ScalingConfiguration" not in restore_request(
        {"ServerlessV2ScalingConfiguration": {"MaxCapacity": 4}}, RESTORE
    )


def test_backtrack_is_kept_for_aurora_mysql() -> None:
    assert restore_request({"BacktrackWindow": 86400}, RESTORE)["BacktrackWindow"] == 86400


def test_a_long_cluster_names_restore_fits_and_matches_the_grant() -> None:
    # Given a 60-character cluster name: "<cluster>-rollback-..." would be 82 characters
    cluster = "lms-production-loan-management-aurora-postgresql-cluster-main"[:60]
    name = rollback_cluster_name(cluster, NOW)
    assert len(name) <= RDS_IDENTIFIER_MAX
    # Then the name matches the grant's pattern (the cut prefix), not the uncut one
    assert fnmatchcase(name, f"{rollback_cluster_prefix(cluster)}*")
    assert not fnmatchcase(name, f"{cluster}-rollback-*")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,62}", fullmatch=True), st.integers(2, 9))
def test_every_restored_name_and_its_same_minute_variants_match_the_grant(cluster: str, n: int) -> None:
    name = rollback_cluster_name(cluster, NOW)
    variant = f"{name[: RDS_IDENTIFIER_MAX - 3]}-{n}"  # operator_run's second request in the same minute
    for restored in (name, variant):
        assert len(restored) <= RDS_IDENTIFIER_MAX
        assert fnmatchcase(restored, f"{rollback_cluster_prefix(cluster)}*")
        assert "--" not in restored and not restored.endswith("-")
