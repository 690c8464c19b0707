"""What ``tollgate doctor`` asks AWS: read-only Describe/Get calls, "not found" turned into ``None``/``False``.

The same code reads the embedded AWS (``lambdas.core.aws.client``) and a real account (a boto3 session with the
default credentials); only the client factory and the function lookup differ. Any other error (access denied,
throttling) is a ``DoctorError`` naming the call, so a half-read account never prints a green line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from lambdas.core.config import EnvironmentConfig, Hook, iam_principal
from lambdas.hooks.naming import hook_function_name, hook_parameter_name
from tollgate.doctor.judge import (
    DoctorFacts,
    NetworkFacts,
    ServiceFacts,
    composite_alarm_name,
    secrets_needed,
    uses_codedeploy,
)

ClientFactory = Callable[[str], Any]
FunctionExists = Callable[[str], bool]

NOT_FOUND = {
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
    "DeploymentGroupDoesNotExistException",
    "ApplicationDoesNotExistException",
    "ParameterNotFound",
    "ResourceNotFoundException",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "DBClusterNotFoundFault",
    "NotFoundException",
    "InvalidSubnetID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidVpcID.NotFound",
    "NoSuchEntity",
}


class DoctorError(Exception):
    """AWS refused a read the doctor needs; the message names the call and the error."""


def _read(what: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    """The call's answer, or ``None`` when AWS says the thing does not exist."""
    try:
        return call(**kwargs)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in NOT_FOUND:
            return None
        message = error.response.get("Error", {}).get("Message", error)
        raise DoctorError(f"could not {what}: {code}: {message}") from error


def lambda_function_exists(client: ClientFactory) -> FunctionExists:
    """A real account's functions: Lambda GetFunction."""

    def exists(name: str) -> bool:
        return _read(f"get Lambda function {name}", client("lambda").get_function, FunctionName=name) is not None

    return exists


def known_functions(names: Iterable[str]) -> FunctionExists:
    """The embedded AWS runs handlers in-process (no Lambda functions): the synthesized template's names."""
    known = set(names)
    return known.__contains__


def gather(config: EnvironmentConfig, client: ClientFactory, function_exists: FunctionExists) -> DoctorFacts:
    lms = config.lms
    elbv2 = client("elbv2")
    name = lms.load_balancer_name
    answer = _read(f"describe load balancer {name}", elbv2.describe_load_balancers, Names=[name])
    load_balancer = answer["LoadBalancers"][0] if answer and answer.get("LoadBalancers") else None
    listener_ports: dict[str, int] = {}
    if load_balancer is not None:
        listeners = _read(
            f"describe the listeners of {lms.load_balancer_name}",
            elbv2.describe_listeners,
            LoadBalancerArn=load_balancer["LoadBalancerArn"],
        )
        listener_ports = {item["ListenerArn"]: int(item["Port"]) for item in (listeners or {}).get("Listeners", [])}
    services = {name: _service_facts(config, client, name) for name in sorted(lms.services)}
    hook_parameters: dict[Hook, str | None] = {}
    hook_functions: dict[str, bool] = {}
    if uses_codedeploy(config):
        ssm = client("ssm")
        for hook in Hook:
            parameter = _read(
                f"get SSM parameter {hook_parameter_name(config.name, hook)}",
                ssm.get_parameter,
                Name=hook_parameter_name(config.name, hook),
            )
            hook_parameters[hook] = parameter["Parameter"]["Value"] if parameter else None
            name = hook_function_name(config.name, hook)
            hook_functions[name] = function_exists(name)
    secretsmanager = client("secretsmanager")
    secrets = {}
    for name, _purpose in secrets_needed(config):
        described = _read(f"describe secret {name}", secretsmanager.describe_secret, SecretId=name)
        secrets[name] = described is not None and not described.get("DeletedDate")
    database, key_manager = _database_facts(config, client)
    role_arns = [*config.operator_principal_arns]
    role_arns += [
        str(f.deployment_group["serviceRoleArn"])
        for f in services.values()
        if f.deployment_group and f.deployment_group.get("serviceRoleArn")
    ]
    return DoctorFacts(
        principals={arn: _principal(client, arn) for arn in dict.fromkeys(role_arns)},
        network=_network_facts(config, client),
        database=database,
        database_key_manager=key_manager,
        load_balancer=load_balancer,
        listener_ports=listener_ports,
        services=services,
        hook_parameters=hook_parameters,
        hook_functions=hook_functions,
        secrets=secrets,
    )


def _service_facts(config: EnvironmentConfig, client: ClientFactory, name: str) -> ServiceFacts:
    service = config.lms.services[name]
    elbv2 = client("elbv2")
    target_groups: dict[str, Any] = {}
    for dimension in filter(None, (service.target_groups.blue, service.target_groups.green)):
        group_name = dimension.split("/")[1]
        found = _read(f"describe target group {group_name}", elbv2.describe_target_groups, Names=[group_name])
        target_groups[dimension] = found["TargetGroups"][0] if found and found.get("TargetGroups") else None
    described = _read(
        f"describe ECS service {service.ecs_service}",
        client("ecs").describe_services,
        cluster=config.lms.ecs_cluster,
        services=[service.ecs_service],
    )
    ecs_service = next(iter((described or {}).get("services") or []), None)
    group = None
    if uses_codedeploy(config) and service.deployment_group:
        answer = _read(
            f"get deployment group {service.deployment_group}",
            client("codedeploy").get_deployment_group,
            applicationName=config.lms.codedeploy_application,
            deploymentGroupName=service.deployment_group,
        )
        group = answer["deploymentGroupInfo"] if answer else None
    composite = composite_alarm_name(config, name)
    alarms = _read(
        f"describe alarm {composite}",
        client("cloudwatch").describe_alarms,
        AlarmNames=[composite],
        AlarmTypes=["CompositeAlarm"],
    )
    return ServiceFacts(
        ecs_service=ecs_service,
        deployment_group=group,
        target_groups=target_groups,
        composite_alarm_exists=bool((alarms or {}).get("CompositeAlarms")),
    )


def _principal(client: ClientFactory, arn: str) -> Any:
    """GetRole / GetUser of an IAM ARN, ``None`` when it does not exist (or is a pattern: nothing to look up)."""
    principal = iam_principal(arn)
    if principal is None:
        return None
    kind, name = principal
    iam = client("iam")
    if kind == "user":
        answer = _read(f"get IAM user {name}", iam.get_user, UserName=name)
        return answer["User"] if answer else None
    answer = _read(f"get IAM role {name}", iam.get_role, RoleName=name)
    return answer["Role"] if answer else None


def _database_facts(config: EnvironmentConfig, client: ClientFactory) -> tuple[Any, str | None]:
    cluster_name = config.lms.rds_cluster
    answer = _read(
        f"describe database cluster {cluster_name}",
        client("rds").describe_db_clusters,
        DBClusterIdentifier=cluster_name,
    )
    cluster = next(iter((answer or {}).get("DBClusters") or []), None)
    if cluster is None or not cluster.get("StorageEncrypted") or not cluster.get("KmsKeyId"):
        return cluster, None
    key = _read(f"describe KMS key {cluster['KmsKeyId']}", client("kms").describe_key, KeyId=cluster["KmsKeyId"])
    return cluster, (key or {}).get("KeyMetadata", {}).get("KeyManager")


def _network_facts(config: EnvironmentConfig, client: ClientFactory) -> NetworkFacts:
    """``lms.network``: each subnet, the route table that governs it, the security groups, the VPC's endpoints."""
    network = config.lms.network
    if network is None:
        return NetworkFacts()
    ec2 = client("ec2")
    subnets: dict[str, Any] = {}
    route_tables: dict[str, Any] = {}
    for subnet_id in network.subnet_ids:
        # One at a time: DescribeSubnets fails the whole call when any id is missing.
        answer = _read(f"describe subnet {subnet_id}", ec2.describe_subnets, SubnetIds=[subnet_id])
        subnet = next(iter((answer or {}).get("Subnets") or []), None)
        subnets[subnet_id] = subnet
        if subnet is not None:
            route_tables[subnet_id] = _route_table_of(ec2, subnet_id, str(subnet["VpcId"]))
    groups: dict[str, Any] = {}
    for group_id in network.security_group_ids:
        answer = _read(f"describe security group {group_id}", ec2.describe_security_groups, GroupIds=[group_id])
        groups[group_id] = next(iter((answer or {}).get("SecurityGroups") or []), None)
    answer = _read(
        f"describe the VPC endpoints of {network.vpc_id}",
        ec2.describe_vpc_endpoints,
        Filters=[{"Name": "vpc-id", "Values": [network.vpc_id]}],
    )
    return NetworkFacts(
        subnets=subnets,
        route_tables=route_tables,
        security_groups=groups,
        endpoints=list((answer or {}).get("VpcEndpoints") or []),
    )


def _route_table_of(ec2: Any, subnet_id: str, vpc_id: str) -> Any:
    """The subnet's explicitly associated route table, else the VPC's main one (which then governs it,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRouteTables.html)."""
    for what, filters in (
        (f"the route table of {subnet_id}", [{"Name": "association.subnet-id", "Values": [subnet_id]}]),
        (
            f"the main route table of {vpc_id}",
            [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}],
        ),
    ):
        answer = _read(f"describe {what}", ec2.describe_route_tables, Filters=filters)
        table = next(iter((answer or {}).get("RouteTables") or []), None)
        if table is not None:
            return table
    return None
