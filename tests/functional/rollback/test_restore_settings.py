"""The operator rollback's restore on the embedded AWS: the new cluster is asked for every setting of the source.

moto copies the source's settings into a restored cluster whatever the request says; RDS does not (an omitted
parameter takes its default). So these tests assert the RestoreDBClusterToPointInTime request that was sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lambdas.core import aws
from lambdas.rollback.adapters.database import Database
from lambdas.rollback.operator import DatabaseRestore, rollback_cluster_name

NOW = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)


@pytest.fixture
def sent(embedded_aws: Any) -> tuple[Database, list[dict[str, Any]]]:
    """A Database adapter on its own RDS client, and the parameters of every restore request it sends."""
    rds = aws.session().client("rds")
    requests: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        requests.append(dict(params))

    rds.meta.events.register("provide-client-params.rds.RestoreDBClusterToPointInTime", capture)
    return Database(rds=rds), requests


def _restore(cluster: str) -> DatabaseRestore:
    return DatabaseRestore(
        source_cluster=cluster,
        target_cluster=rollback_cluster_name(cluster, NOW),
        restore_to=NOW.replace(minute=0),
        reason="test",
    )


def test_an_encrypted_serverless_cluster_is_restored_with_all_its_settings(
    sent: tuple[Database, list[dict[str, Any]]],
) -> None:
    database, requests = sent
    # Given an Aurora Serverless v2 cluster encrypted with a customer-managed key, protected, with IAM auth,
    # log exports and its own parameter group
    key = aws.client("kms").create_key(Description="LMS database")["KeyMetadata"]["Arn"]
    rds = aws.client("rds")
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="lms-production-pg", DBParameterGroupFamily="aurora-postgresql16", Description="LMS"
    )
    rds.create_db_cluster(
        DBClusterIdentifier="lms-production-db",
        Engine="aurora-postgresql",
        MasterUsername="lms_admin",
        MasterUserPassword="not-a-real-password",  # nosec B106 - the embedded AWS only
        StorageEncrypted=True,
        KmsKeyId=key,
        DeletionProtection=True,
        EnableIAMDatabaseAuthentication=True,
        EnableCloudwatchLogsExports=["postgresql"],
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16.0},
        DBClusterParameterGroupName="lms-production-pg",
        CopyTagsToSnapshot=True,
    )
    # When the operator's database rollback restores it
    arn = database.restore(_restore("lms-production-db"))
    # Then the request named every setting, so the new cluster is what the LMS runs on today
    (request,) = requests
    assert request["DBClusterIdentifier"] == "lms-production-db-rollback-202612021540"
    assert request["KmsKeyId"] == key
    assert request["DBClusterParameterGroupName"] == "lms-production-pg"
    assert request["DeletionProtection"] is True
    assert request["EnableIAMDatabaseAuthentication"] is True
    assert request["EnableCloudwatchLogsExports"] == ["postgresql"]
    assert request["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 16.0}
    assert request["CopyTagsToSnapshot"] is True
    assert "DBClusterInstanceClass" not in request  # Aurora: instances are created separately
    assert arn.endswith(":cluster:lms-production-db-rollback-202612021540")


def test_a_multi_az_db_cluster_is_restored_with_its_instance_class_and_storage(
    sent: tuple[Database, list[dict[str, Any]]],
) -> None:
    database, requests = sent
    aws.client("rds").create_db_cluster(
        DBClusterIdentifier="lms-staging-db",
        Engine="postgres",
        MasterUsername="lms_admin",
        MasterUserPassword="not-a-real-password",  # nosec B106 - the embedded AWS only
        DBClusterInstanceClass="db.m6gd.large",
        StorageType="io1",
        Iops=1000,
        AllocatedStorage=100,
    )
    database.restore(_restore("lms-staging-db"))
    (request,) = requests
    assert (request["DBClusterInstanceClass"], request["StorageType"], request["Iops"]) == (
        "db.m6gd.large",
        "io1",
        1000,
    )
    assert "KmsKeyId" not in request  # not encrypted: nothing to name
