"""Adapter: RDS point-in-time restore into a new cluster (the original is only ever read)."""

from __future__ import annotations

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
        """Restore into ``restore.target_cluster`` in the source's network; returns the new cluster's ARN."""
        try:
            source = self.rds.describe_db_clusters(DBClusterIdentifier=restore.source_cluster)["DBClusters"][0]
            network: dict[str, Any] = {}
            if source.get("DBSubnetGroup"):
                network["DBSubnetGroupName"] = source["DBSubnetGroup"]
            security_groups = [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups") or []]
            if security_groups:
                network["VpcSecurityGroupIds"] = security_groups
            response = self.rds.restore_db_cluster_to_point_in_time(
                DBClusterIdentifier=restore.target_cluster,
                SourceDBClusterIdentifier=restore.source_cluster,
                RestoreToTime=restore.restore_to,
                Tags=[
                    {"Key": "tollgate:rollback-of", "Value": restore.source_cluster},
                    {"Key": "tollgate:restored-to", "Value": restore.restore_to.isoformat()},
                ],
                **network,
            )
        except ClientError as error:
            raise DatabaseRestoreError(
                f"restore {restore.source_cluster} -> {restore.target_cluster}: {error.response['Error']['Code']}"
            ) from error
        return str(response["DBCluster"].get("DBClusterArn") or restore.target_cluster)
