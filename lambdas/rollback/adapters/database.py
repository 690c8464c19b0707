"""Adapter: RDS point-in-time restore into a new cluster (the original is only ever read)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from lambdas.core import aws
from lambdas.rollback.operator import DatabaseRestore, DatabaseState


class DatabaseRestoreError(Exception):
    """RDS refused to describe or restore the cluster."""


class Database:
    def __init__(self, *, rds: Any | None = None) -> None:
        self._rds = rds

    @property
    def rds(self) -> Any:
        if self._rds is None:
            self._rds = aws.client("rds")
        return self._rds

    def state(self, cluster: str) -> DatabaseState:
        try:
            clusters = self.rds.describe_db_clusters(DBClusterIdentifier=cluster).get("DBClusters") or []
        except ClientError as error:
            if error.response["Error"]["Code"] == "DBClusterNotFoundFault":
                return DatabaseState(cluster=cluster, found=False)
            raise DatabaseRestoreError(f"describe {cluster}: {error.response['Error']['Code']}") from error
        if not clusters:
            return DatabaseState(cluster=cluster, found=False)
        found = clusters[0]
        return DatabaseState(
            cluster=cluster,
            found=True,
            engine=found.get("Engine"),
            earliest_restorable=found.get("EarliestRestorableTime"),
            latest_restorable=found.get("LatestRestorableTime"),
        )

    def restore(self, restore: DatabaseRestore) -> str:
        """Restore into ``restore.target_cluster`` with the source's settings; returns the new cluster's ARN."""
        try:
            source = self.rds.describe_db_clusters(DBClusterIdentifier=restore.source_cluster)["DBClusters"][0]
            response = self.rds.restore_db_cluster_to_point_in_time(**restore_request(source, restore))
        except ClientError as error:
            raise DatabaseRestoreError(
                f"restore {restore.source_cluster} -> {restore.target_cluster}: {error.response['Error']['Code']}"
            ) from error
        return str(response["DBCluster"].get("DBClusterArn") or restore.target_cluster)


def restore_request(source: Mapping[str, Any], restore: DatabaseRestore) -> dict[str, Any]:
    """The RestoreDBClusterToPointInTime parameters that give the new cluster the source's settings.

    RDS does not carry these over by itself (each parameter's default applies when it is omitted:
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBClusterToPointInTime.html):
    the default cluster parameter group, no deletion protection, no IAM authentication, no log exports, and no
    Serverless v2 capacity (a serverless instance then cannot be added). A Multi-AZ DB cluster (not Aurora) needs
    its instance class, storage type and IOPS. The key is named explicitly: the source's customer-managed key,
    on which the caller needs kms:CreateGrant and kms:DescribeKey (decision 0064).
    """
    request: dict[str, Any] = {
        "DBClusterIdentifier": restore.target_cluster,
        "SourceDBClusterIdentifier": restore.source_cluster,
        "RestoreToTime": restore.restore_to,
        "Tags": [
            {"Key": "tollgate:rollback-of", "Value": restore.source_cluster},
            {"Key": "tollgate:restored-to", "Value": restore.restore_to.isoformat()},
        ],
    }
    if source.get("DBSubnetGroup"):
        request["DBSubnetGroupName"] = source["DBSubnetGroup"]
    security_groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups") or []]
    if security_groups:
        request["VpcSecurityGroupIds"] = security_groups
    if source.get("DBClusterParameterGroup"):
        request["DBClusterParameterGroupName"] = source["DBClusterParameterGroup"]
    if source.get("StorageEncrypted") and source.get("KmsKeyId"):
        request["KmsKeyId"] = source["KmsKeyId"]
    for flag, parameter in _COPIED_FLAGS:
        if flag in source:
            request[parameter] = bool(source[flag])
    if source.get("EnabledCloudwatchLogsExports"):
        request["EnableCloudwatchLogsExports"] = list(source["EnabledCloudwatchLogsExports"])
    scaling = source.get("ServerlessV2ScalingConfiguration") or {}
    if "MinCapacity" in scaling and "MaxCapacity" in scaling:
        request["ServerlessV2ScalingConfiguration"] = {
            key: scaling[key] for key in ("MinCapacity", "MaxCapacity", "SecondsUntilAutoPause") if key in scaling
        }
    if source.get("DBClusterInstanceClass"):  # a Multi-AZ DB cluster: RDS needs the class to create its instances
        request["DBClusterInstanceClass"] = source["DBClusterInstanceClass"]
        for key in ("StorageType", "Iops"):
            if source.get(key):
                request[key] = source[key]
    if source.get("BacktrackWindow"):
        request["BacktrackWindow"] = int(source["BacktrackWindow"])
    return request


# DescribeDBClusters field -> RestoreDBClusterToPointInTime parameter, for the settings that are plain booleans.
_COPIED_FLAGS = (
    ("DeletionProtection", "DeletionProtection"),
    ("IAMDatabaseAuthenticationEnabled", "EnableIAMDatabaseAuthentication"),
    ("CopyTagsToSnapshot", "CopyTagsToSnapshot"),
)
