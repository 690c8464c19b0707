"""Pure judgements of ``tollgate doctor``: what the LMS side must look like for Tollgate to work, and the fix.

Every ``judge_*`` takes the environment config and what AWS answered (``None`` for "not there") and returns
``Finding`` lines; no AWS calls, no clock, no environment variables. ``tollgate.doctor.facts`` gathers the
answers, ``tollgate.commands.doctor`` prints the lines.

AWS behaviour relied on (decision 0062):
- A deployment group's ``alarmConfiguration`` (up to 10 alarms, ``enabled``, ``ignorePollAlarmFailure``) stops
  a deployment when one of its alarms is in ALARM, and ``autoRollbackConfiguration.events`` containing
  ``DEPLOYMENT_STOP_ON_ALARM`` rolls it back
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-codedeploy-deploymentgroup-alarmconfiguration.html,
  https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-groups-configure-advanced-options.html).
- ``UpdateDeploymentGroup`` replaces the whole alarm list, so the fix keeps the alarms already there.
- A function attached to a VPC gets no public IP, even in a subnet routed to an internet gateway: it reaches AWS
  APIs only through a NAT gateway or VPC endpoints (decision 0065,
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdas.core.config import EnvironmentConfig, Hook, Strategy, iam_principal
from lambdas.hooks.naming import hook_function_name, hook_parameter_name
from lambdas.rollback.alarms import AlarmKind, alarm_name

STOP_ON_ALARM = "DEPLOYMENT_STOP_ON_ALARM"
MAX_DEPLOYMENT_GROUP_ALARMS = 10
OK_MARK = "✓"
FAIL_MARK = "✗"


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: a check that holds, or one that does not and how to fix it."""

    ok: bool
    subject: str
    message: str
    fix: str | None = None

    def line(self) -> str:
        mark = OK_MARK if self.ok else FAIL_MARK
        text = f"{mark} {self.subject}: {self.message}"
        return f"{text} — fix: {self.fix}" if self.fix and not self.ok else text


def _ok(subject: str, message: str) -> Finding:
    return Finding(True, subject, message)


def _fail(subject: str, message: str, fix: str) -> Finding:
    return Finding(False, subject, message, fix)


def uses_codedeploy(config: EnvironmentConfig) -> bool:
    return config.deployment.strategy is not Strategy.ROLLING and bool(config.lms.codedeploy_application)


def composite_alarm_name(config: EnvironmentConfig, service: str) -> str:
    """The composite alarm a service's deployment group must stop and roll back on."""
    return alarm_name(config.name, service, AlarmKind.SERVICE_UNHEALTHY)


# -- the load balancer and its target groups ------------------------------------------------------------------


def judge_load_balancer(
    config: EnvironmentConfig, load_balancer: Mapping[str, Any] | None, listener_ports: Mapping[str, int]
) -> list[Finding]:
    """The ALB the config names (``app/<name>/<id>``, CloudWatch's dimension) and its listeners."""
    lms = config.lms
    subject = f"load balancer {lms.load_balancer_name}"
    if load_balancer is None:
        return [_fail(subject, "not found", f"create it, or correct lms.load_balancer in {config.name}.json")]
    arn = str(load_balancer.get("LoadBalancerArn", ""))
    findings = []
    if arn.endswith(f":loadbalancer/{lms.load_balancer}"):
        findings.append(_ok(subject, f"exists as {lms.load_balancer}"))
    else:
        findings.append(
            _fail(
                subject,
                f"its ARN {arn} does not end in {lms.load_balancer}: Tollgate's alarms would watch another ALB",
                f"set lms.load_balancer in {config.name}.json to app/{arn.rsplit('/', 2)[-2]}/{arn.rsplit('/', 1)[-1]}",
            )
        )
    wanted = {"production": lms.production_listener_port}
    if lms.test_listener_port is not None:
        wanted["test"] = lms.test_listener_port
    ports = set(listener_ports.values())
    for role, port in wanted.items():
        listener = f"{role} listener :{port}"
        if port in ports:
            findings.append(_ok(f"{subject} {listener}", "exists"))
        else:
            findings.append(
                _fail(
                    f"{subject} {listener}",
                    f"no listener on port {port} (has {sorted(ports) or 'none'})",
                    f"add an HTTPS listener on {port}, or correct lms.{role}_listener_port in {config.name}.json",
                )
            )
    return findings


def judge_target_group(
    config: EnvironmentConfig, service: str, color: str, dimension: str, target_group: Mapping[str, Any] | None
) -> Finding:
    """A target group the config names (``targetgroup/<name>/<id>``) exists with that id."""
    name = dimension.split("/")[1]
    subject = f"{service} {color} target group {name}"
    if target_group is None:
        return _fail(
            subject,
            "not found",
            f"create it, or correct lms.services.{service}.target_groups.{color} in {config.name}.json",
        )
    arn = str(target_group.get("TargetGroupArn", ""))
    if not arn.endswith(f":{dimension}"):
        actual = "/".join(arn.rsplit(":", 1)[-1].split("/")[-3:])
        return _fail(
            subject,
            f"is {actual}, the config says {dimension}: its CloudWatch metrics would be someone else's",
            f"set lms.services.{service}.target_groups.{color} in {config.name}.json to {actual}",
        )
    return _ok(subject, f"exists as {dimension}")


def judge_ecs_service(config: EnvironmentConfig, service: str, ecs_service: Mapping[str, Any] | None) -> Finding:
    lms_service = config.lms.services[service]
    subject = f"{service} ECS service {lms_service.ecs_service}"
    if ecs_service is None or ecs_service.get("status") != "ACTIVE":
        return _fail(
            subject,
            f"not found (or not ACTIVE) in cluster {config.lms.ecs_cluster}",
            f"create it, or correct lms.services.{service}.ecs_service in {config.name}.json",
        )
    controller = (ecs_service.get("deploymentController") or {}).get("type", "ECS")
    wanted = "CODE_DEPLOY" if uses_codedeploy(config) else "ECS"
    if controller != wanted:
        return _fail(
            subject,
            f"uses the {controller} deployment controller; {config.deployment.strategy.value} needs {wanted}",
            "recreate the service with deploymentController.type="
            f"{wanted} (ECS cannot change a service's controller in place)",
        )
    return _ok(subject, f"exists with the {controller} deployment controller")


# -- CodeDeploy ------------------------------------------------------------------------------------------------


def judge_deployment_group(
    config: EnvironmentConfig,
    service: str,
    group: Mapping[str, Any] | None,
    listener_ports: Mapping[str, int],
) -> Finding:
    """The service's deployment group: blue/green with traffic control, its target groups, listeners, service."""
    lms_service = config.lms.services[service]
    application = config.lms.codedeploy_application
    subject = f"{service} deployment group {lms_service.deployment_group}"
    if group is None:
        return _fail(
            subject,
            f"not found in CodeDeploy application {application}",
            f"create it (ECS blue/green, target groups {lms_service.target_groups.blue_name} and "
            f"{lms_service.target_groups.green_name}), or correct lms.services.{service}.deployment_group",
        )
    problems: list[str] = []
    style = group.get("deploymentStyle") or {}
    if style.get("deploymentType") != "BLUE_GREEN" or style.get("deploymentOption") != "WITH_TRAFFIC_CONTROL":
        problems.append(
            f"deployment style is {style.get('deploymentType')}/{style.get('deploymentOption')}, "
            "not BLUE_GREEN/WITH_TRAFFIC_CONTROL"
        )
    pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
    pair: Mapping[str, Any] = pairs[0] if pairs else {}
    names = {tg.get("name") for tg in pair.get("targetGroups") or []}
    wanted_names = {lms_service.target_groups.blue_name, lms_service.target_groups.green_name}
    if names != wanted_names:
        found, expected = sorted(str(n) for n in names), sorted(str(n) for n in wanted_names)
        problems.append(f"target groups are {found}, expected {expected}")
    routes = {"production": ("prodTrafficRoute", config.lms.production_listener_port)}
    if config.lms.test_listener_port is not None:
        routes["test"] = ("testTrafficRoute", config.lms.test_listener_port)
    for role, (key, port) in routes.items():
        if port not in listener_ports.values():
            continue  # the ALB has no listener there at all: its own line says so
        arns = (pair.get(key) or {}).get("listenerArns") or []
        listened = sorted(listener_ports.get(arn, -1) for arn in arns)
        if listened != [port]:
            problems.append(f"{role} traffic route is on port(s) {listened or 'none'}, expected [{port}]")
    ecs = [(s.get("clusterName"), s.get("serviceName")) for s in group.get("ecsServices") or []]
    if ecs != [(config.lms.ecs_cluster, lms_service.ecs_service)]:
        problems.append(f"ECS service is {ecs}, expected {[(config.lms.ecs_cluster, lms_service.ecs_service)]}")
    if problems:
        return _fail(
            subject,
            "; ".join(problems),
            f"aws deploy get-deployment-group --application-name {application} --deployment-group-name "
            f"{lms_service.deployment_group}, then correct it (or the config) to match",
        )
    return _ok(subject, "blue/green with traffic control on the expected target groups, listeners and service")


def update_alarms_command(config: EnvironmentConfig, service: str, group: Mapping[str, Any]) -> str:
    """The exact ``aws deploy update-deployment-group`` that adds Tollgate's composite and rollback on alarm.

    Alarms and rollback events already configured are kept (the call replaces both lists).
    """
    lms_service = config.lms.services[service]
    alarm_config = group.get("alarmConfiguration") or {}
    existing = [str(a.get("name")) for a in alarm_config.get("alarms") or [] if a.get("name")]
    wanted = composite_alarm_name(config, service)
    alarms = [*existing, wanted] if wanted not in existing else existing
    rollback = group.get("autoRollbackConfiguration") or {}
    events = [str(e) for e in rollback.get("events") or []] if rollback.get("enabled") else []
    for event in ("DEPLOYMENT_FAILURE", STOP_ON_ALARM):
        if event not in events:
            events.append(event)
    alarm_json = {
        "enabled": True,
        "ignorePollAlarmFailure": bool(alarm_config.get("ignorePollAlarmFailure", False)),
        "alarms": [{"name": name} for name in alarms],
    }
    rollback_json = {"enabled": True, "events": events}
    arguments = [
        "aws", "deploy", "update-deployment-group",
        "--region", config.region,
        "--application-name", str(config.lms.codedeploy_application),
        "--current-deployment-group-name", str(lms_service.deployment_group),
        "--alarm-configuration", json.dumps(alarm_json, separators=(",", ":")),
        "--auto-rollback-configuration", json.dumps(rollback_json, separators=(",", ":")),
    ]  # fmt: skip
    return shlex.join(arguments)


def judge_alarm_configuration(
    config: EnvironmentConfig, service: str, group: Mapping[str, Any] | None
) -> Finding | None:
    """The second rollback path: the group stops and rolls back on Tollgate's composite alarm.

    ``None`` when the group itself is missing (its own line already says so).
    """
    if group is None:
        return None
    lms_service = config.lms.services[service]
    composite = composite_alarm_name(config, service)
    subject = f"{service} deployment group {lms_service.deployment_group} alarms"
    alarm_config = group.get("alarmConfiguration") or {}
    names = [a.get("name") for a in alarm_config.get("alarms") or []]
    rollback = group.get("autoRollbackConfiguration") or {}
    problems = []
    if not alarm_config.get("enabled") or composite not in names:
        problems.append(f"alarm configuration does not list {composite} (enabled)")
    if not rollback.get("enabled") or STOP_ON_ALARM not in (rollback.get("events") or []):
        problems.append(f"auto-rollback does not include {STOP_ON_ALARM}")
    if composite not in names and len(names) >= MAX_DEPLOYMENT_GROUP_ALARMS:
        return _fail(
            subject,
            "; ".join(problems) + f"; and it already has {len(names)} alarms, CodeDeploy's maximum",
            f"remove one alarm from the group, then add {composite}",
        )
    if problems:
        return _fail(subject, "; ".join(problems), update_alarms_command(config, service, group))
    return _ok(subject, f"stops and rolls back on {composite}")


def judge_hook(config: EnvironmentConfig, hook: Hook, parameter_value: str | None, function_exists: bool) -> Finding:
    """A hook the AppSpec names: the stack published its parameter, and the function exists."""
    name = hook_function_name(config.name, hook)
    subject = f"hook {hook.value} ({name})"
    parameter = hook_parameter_name(config.name, hook)
    if parameter_value is None:
        return _fail(
            subject,
            f"SSM parameter {parameter} is missing: Tollgate-{config.name} is not deployed (or not this version)",
            f"make deploy ENV={config.name}",
        )
    if not parameter_value.endswith(f":function:{name}"):
        return _fail(
            subject,
            f"SSM parameter {parameter} holds {parameter_value}, not the function the AppSpec names",
            f"make deploy ENV={config.name}",
        )
    if not function_exists:
        return _fail(subject, "the function does not exist", f"make deploy ENV={config.name}")
    return _ok(subject, "exists and is published")


def judge_secret(config: EnvironmentConfig, name: str, purpose: str, exists: bool) -> Finding:
    subject = f"secret {name}"
    if not exists:
        return _fail(
            subject,
            f"not found (or scheduled for deletion); {purpose}",
            f"aws secretsmanager create-secret --region {config.region} --name {shlex.quote(name)} --secret-string ...",
        )
    return _ok(subject, "exists")


def judge_composite_alarm(config: EnvironmentConfig, service: str, exists: bool) -> Finding:
    name = composite_alarm_name(config, service)
    subject = f"{service} composite alarm {name}"
    if not exists:
        return _fail(
            subject, "not found: Tollgate's rollback alarms are not deployed", f"make deploy ENV={config.name}"
        )
    return _ok(subject, "exists")


def judge_database(config: EnvironmentConfig, cluster: Mapping[str, Any] | None, key_manager: str | None) -> Finding:
    """The cluster the database rollback restores from: there, restorable to a point in time, key as configured.

    ``key_manager`` is KMS's ``KeyManager`` (``AWS`` or ``CUSTOMER``) of the cluster's key, ``None`` when unencrypted.
    """
    name = config.lms.rds_cluster
    subject = f"database cluster {name}"
    if cluster is None:
        return _fail(subject, "not found", f"correct lms.rds_cluster in {config.name}.json")
    if int(cluster.get("BackupRetentionPeriod") or 0) < 1:
        return _fail(
            subject,
            "has no automated backups, so no point-in-time restore",
            f"aws rds modify-db-cluster --region {config.region} --db-cluster-identifier {name} "
            "--backup-retention-period 7 --apply-immediately",
        )
    key = str(cluster.get("KmsKeyId") or "") if cluster.get("StorageEncrypted") else ""
    configured = config.lms.rds_kms_key_arn
    if key and key_manager == "CUSTOMER" and key != configured:
        return _fail(
            subject,
            f"is encrypted with the customer-managed key {key}, the config names {configured or 'none'}: "
            "the rollback's restore would be refused by KMS",
            f"set lms.rds_kms_key_arn in {config.name}.json to {key} and deploy",
        )
    return _ok(subject, "restorable to a point in time" + (" with its key granted" if configured else ""))


# -- the network of the functions that call the LMS (lms.network, decision 0065) --------------------------------

ANYWHERE = "0.0.0.0/0"


def aws_services_needed(config: EnvironmentConfig) -> tuple[str, ...]:
    """The AWS APIs (VPC endpoint service suffixes) the functions in ``lms.network`` call in this environment.

    The synthetics keep their run lease in DynamoDB and read the synthetic user's secret; the hooks also report to
    CodeDeploy, announce on EventBridge, read CloudWatch metrics and the ALB's listeners for a metric gate, and
    start the post-shift watch (Step Functions) after the shift; the canary task shifts listener rules, reads
    metrics and reports. Their logs and EMF metrics leave through Lambda itself, not the function's ENIs.
    """
    needed = {"dynamodb"}
    if config.checks.synthetic_user_secret:
        needed.add("secretsmanager")
    if uses_codedeploy(config):
        needed |= {"codedeploy", "events"}
        gated = {
            hook
            for hook, per_service in config.checks.hooks.items()
            if any(c.metric_gate for c in per_service.values())
        }
        if gated:
            needed |= {"monitoring", "elasticloadbalancing"}
        if Hook.AFTER_ALLOW_TRAFFIC in gated:
            needed.add("states")
    if config.deployment.strategy is Strategy.CANARY:
        needed |= {"monitoring", "elasticloadbalancing", "states"}
    return tuple(sorted(needed))


def endpoint_service(config: EnvironmentConfig, service: str) -> str:
    return f"com.amazonaws.{config.region}.{service}"


def judge_subnet(config: EnvironmentConfig, index: int, subnet_id: str, subnet: Mapping[str, Any] | None) -> Finding:
    """A configured subnet exists, in the configured VPC and Availability Zone."""
    network = config.lms.network
    assert network is not None  # noqa: S101  # nosec B101 - only called with a network
    subject = f"subnet {subnet_id}"
    if subnet is None:
        return _fail(subject, "not found", f"correct lms.network.subnet_ids in {config.name}.json")
    problems = []
    if subnet.get("VpcId") != network.vpc_id:
        problems.append(f"is in {subnet.get('VpcId')}, not lms.network.vpc_id {network.vpc_id}")
    zone = network.availability_zones[index]
    if subnet.get("AvailabilityZone") != zone:
        problems.append(f"is in {subnet.get('AvailabilityZone')}, the config says {zone}")
    if problems:
        return _fail(subject, "; ".join(problems), f"correct lms.network in {config.name}.json to match the subnet")
    return _ok(subject, f"exists in {network.vpc_id}, {zone}")


def judge_zone_spread(config: EnvironmentConfig, subnets: Mapping[str, Mapping[str, Any] | None]) -> Finding:
    """Lambda's recommendation: the function's subnets span at least two Availability Zones."""
    zones = sorted({str(s.get("AvailabilityZone")) for s in subnets.values() if s})
    subject = "function subnets"
    if len(zones) < 2:
        return _fail(
            subject,
            f"span {len(zones)} Availability Zone(s) {zones}: one zone failing stops every check",
            f"add a private subnet in another zone to lms.network.subnet_ids in {config.name}.json",
        )
    return _ok(subject, f"span {len(zones)} Availability Zones")


def _default_route(route_table: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next(
        (
            r
            for r in route_table.get("Routes") or []
            if r.get("DestinationCidrBlock") == ANYWHERE and r.get("State", "active") == "active"
        ),
        None,
    )


def _endpoint_reaches(endpoint: Mapping[str, Any], route_table_id: str) -> bool:
    """An available endpoint the function's SDK calls land on: a gateway endpoint on the subnet's route table,
    or an interface endpoint with private DNS (the SDK's default hostname resolves to it)."""
    if endpoint.get("State", "").lower() != "available":
        return False
    if endpoint.get("VpcEndpointType") == "Gateway":
        return route_table_id in (endpoint.get("RouteTableIds") or [])
    return bool(endpoint.get("PrivateDnsEnabled"))


def judge_subnet_routes(
    config: EnvironmentConfig,
    subnet_id: str,
    route_table: Mapping[str, Any] | None,
    endpoints: Sequence[Mapping[str, Any]],
) -> Finding:
    """The subnet's route to the AWS APIs the functions call: 0.0.0.0/0 through a NAT gateway (or another private
    egress: a transit gateway, a NAT instance), or a VPC endpoint for every service needed.

    ``route_table`` is the subnet's own route table, or the VPC's main one when it has none."""
    subject = f"subnet {subnet_id} route to AWS APIs"
    if route_table is None:
        return _fail(subject, "no route table governs it", f"associate {subnet_id} with a route table")
    table_id = str(route_table.get("RouteTableId"))
    default = _default_route(route_table)
    if default is not None and default.get("NatGatewayId"):
        return _ok(subject, f"{ANYWHERE} via NAT gateway {default['NatGatewayId']} ({table_id})")
    if default is not None and default.get("TransitGatewayId"):
        return _ok(
            subject,
            f"{ANYWHERE} via transit gateway {default['TransitGatewayId']} ({table_id}); its egress is not checked",
        )
    if default is not None and (default.get("InstanceId") or default.get("NetworkInterfaceId")):
        target = default.get("InstanceId") or default.get("NetworkInterfaceId")
        return _ok(subject, f"{ANYWHERE} via {target} (a NAT instance?) ({table_id})")
    needed = aws_services_needed(config)
    reached = {
        str(e.get("ServiceName"))
        for e in endpoints
        if e.get("VpcId") in (None, route_table.get("VpcId")) and _endpoint_reaches(e, table_id)
    }
    missing = [s for s in needed if endpoint_service(config, s) not in reached]
    if not missing:
        return _ok(subject, f"VPC endpoints for {', '.join(needed)}")
    public = default is not None and str(default.get("GatewayId", "")).startswith("igw-")
    why = (
        f"{ANYWHERE} goes to internet gateway {default.get('GatewayId')}, but Lambda gives a VPC function no public "
        "IP, so that route reaches nothing"
        if public and default is not None
        else f"no {ANYWHERE} route through a NAT gateway"
    )
    interface = [s for s in missing if s != "dynamodb"]
    # One interface endpoint per service serves the whole VPC (its private DNS name is VPC-wide): name every subnet.
    subnets = config.lms.network.subnet_ids if config.lms.network else (subnet_id,)
    fixes = [f"add {ANYWHERE} -> a NAT gateway (in a public subnet) to {table_id}, or VPC endpoints:"]
    if "dynamodb" in missing:
        fixes.append(
            f"aws ec2 create-vpc-endpoint --region {config.region} --vpc-id {route_table.get('VpcId')} "
            f"--vpc-endpoint-type Gateway --service-name {endpoint_service(config, 'dynamodb')} "
            f"--route-table-ids {table_id}"
        )
    fixes += [
        f"aws ec2 create-vpc-endpoint --region {config.region} --vpc-id {route_table.get('VpcId')} "
        f"--vpc-endpoint-type Interface --private-dns-enabled --service-name {endpoint_service(config, s)} "
        f"--subnet-ids {' '.join(subnets)}"
        for s in interface
    ]
    return _fail(
        subject,
        f"{why}, and no VPC endpoint for {', '.join(missing)}: the functions' calls to those APIs time out",
        "; ".join(fixes),
    )


def judge_security_group(config: EnvironmentConfig, group_id: str, group: Mapping[str, Any] | None) -> Finding:
    """A configured security group exists in the VPC and lets the functions out to the ALB's listeners and HTTPS."""
    network = config.lms.network
    assert network is not None  # noqa: S101  # nosec B101 - only called with a network
    subject = f"security group {group_id}"
    if group is None:
        return _fail(subject, "not found", f"correct lms.network.security_group_ids in {config.name}.json")
    if group.get("VpcId") != network.vpc_id:
        return _fail(
            subject,
            f"is in {group.get('VpcId')}, not lms.network.vpc_id {network.vpc_id}",
            f"correct lms.network.security_group_ids in {config.name}.json",
        )
    ports = sorted({443, config.lms.production_listener_port, *filter(None, [config.lms.test_listener_port])})
    closed = [p for p in ports if not _egress_allows(group, p)]
    if closed:
        return _fail(
            subject,
            f"allows no outbound TCP to port(s) {closed}: the functions cannot reach the ALB's listeners or AWS APIs",
            f"aws ec2 authorize-security-group-egress --region {config.region} --group-id {group_id} "
            f"--ip-permissions "
            + " ".join(f"IpProtocol=tcp,FromPort={p},ToPort={p},IpRanges=[{{CidrIp={ANYWHERE}}}]" for p in closed),
        )
    return _ok(subject, f"exists in {network.vpc_id}, outbound TCP {ports} allowed")


def _egress_allows(group: Mapping[str, Any], port: int) -> bool:
    for rule in group.get("IpPermissionsEgress") or []:
        protocol = str(rule.get("IpProtocol"))
        if protocol == "-1":
            return True
        if protocol in ("tcp", "6") and int(rule.get("FromPort", 0)) <= port <= int(rule.get("ToPort", -1)):
            return True
    return False


@dataclass(frozen=True)
class NetworkFacts:
    """What AWS answered about ``lms.network`` (``None``: not there)."""

    subnets: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # subnet id -> DescribeSubnets
    route_tables: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # subnet id -> its table
    security_groups: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    endpoints: Sequence[Mapping[str, Any]] = ()  # DescribeVpcEndpoints of the VPC


def judge_network(config: EnvironmentConfig, facts: NetworkFacts) -> list[Finding]:
    """Every check of ``lms.network``: subnets, their zones, their routes to AWS APIs, the security groups."""
    network = config.lms.network
    if network is None:
        return []
    findings = []
    for index, subnet_id in enumerate(network.subnet_ids):
        subnet = facts.subnets.get(subnet_id)
        findings.append(judge_subnet(config, index, subnet_id, subnet))
        if subnet is not None:
            findings.append(judge_subnet_routes(config, subnet_id, facts.route_tables.get(subnet_id), facts.endpoints))
    findings.append(judge_zone_spread(config, facts.subnets))
    findings += [judge_security_group(config, g, facts.security_groups.get(g)) for g in network.security_group_ids]
    return findings


# -- IAM: who operates, and the role CodeDeploy deploys with ----------------------------------------------------


def judge_operator(config: EnvironmentConfig, arn: str, principal: Mapping[str, Any] | None) -> Finding:
    """An operator principal exists: Tollgate's bus denies operator requests to everyone else (decision 0063)."""
    subject = f"operator {arn.rsplit(':', 1)[-1]}"
    if iam_principal(arn) is None:
        return _ok(subject, "a pattern (ArnLike): each principal it matches may put operator requests; not looked up")
    if principal is None:
        return _fail(
            subject,
            "does not exist: nobody can request a rollback, an approval, a promote or an abort on Tollgate's bus "
            "(its policy denies those requests to every other principal)",
            f"create it in {config.account} for the people on call, or set operators.principal_arns in "
            f"{config.name}.json",
        )
    return _ok(subject, "exists; only it may put operator requests on Tollgate's bus")


CODEDEPLOY_PRINCIPAL = "codedeploy.amazonaws.com"


def _policy_document(raw: object) -> Mapping[str, Any]:
    """A policy document as IAM returns it: botocore decodes it to a dict; a URL-encoded JSON string otherwise."""
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        try:
            decoded = json.loads(urllib.parse.unquote(raw))
        except ValueError:
            return {}
        return decoded if isinstance(decoded, Mapping) else {}
    return {}


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def trusts_service(trust_policy: object, service: str) -> bool:
    """Whether a role's trust policy lets ``service`` assume it (an Allow of sts:AssumeRole to that principal)."""
    statements = _as_list(_policy_document(trust_policy).get("Statement") or [])
    for statement in statements:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = {str(a) for a in _as_list(statement.get("Action"))}
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        if actions & {"sts:AssumeRole", "sts:*", "*"} and service in services:
            return True
    return False


def judge_codedeploy_role(
    config: EnvironmentConfig, service: str, role_arn: str, role: Mapping[str, Any] | None
) -> Finding:
    """The deployment group's service role exists and CodeDeploy may assume it: without it no deployment starts
    and no hook is invoked. Its permissions are not read (https://docs.aws.amazon.com/codedeploy/latest/userguide/
    getting-started-create-service-role.html: AWSCodeDeployRoleForECS, or AWSCodeDeployRoleForECSLimited, which
    invokes only CodeDeployHook_* functions, as Tollgate's hooks are named)."""
    group = config.lms.services[service].deployment_group
    subject = f"{service} CodeDeploy service role"
    if not role_arn:
        return _fail(subject, f"deployment group {group} names no service role", "give it the LMS's CodeDeploy role")
    name = role_arn.rsplit("/", 1)[-1]
    if role is None:
        return _fail(
            subject,
            f"{name} does not exist: CodeDeploy cannot deploy {service} or invoke Tollgate's hooks",
            f"create {name} trusting {CODEDEPLOY_PRINCIPAL} with AWSCodeDeployRoleForECS attached",
        )
    if not trusts_service(role.get("AssumeRolePolicyDocument"), CODEDEPLOY_PRINCIPAL):
        return _fail(
            subject,
            f"{name} does not let {CODEDEPLOY_PRINCIPAL} assume it",
            f"aws iam update-assume-role-policy --role-name {name} --policy-document "
            f'\'{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":'
            f'{{"Service":"{CODEDEPLOY_PRINCIPAL}"}},"Action":"sts:AssumeRole"}}]}}\'',
        )
    return _ok(
        subject,
        f"{name} exists and {CODEDEPLOY_PRINCIPAL} may assume it (its policies are not read: AWSCodeDeployRoleForECS "
        "or AWSCodeDeployRoleForECSLimited)",
    )


# -- all together ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFacts:
    """What AWS answered about one LMS service (``None``: not there)."""

    ecs_service: Mapping[str, Any] | None = None
    deployment_group: Mapping[str, Any] | None = None
    target_groups: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # dimension -> group
    composite_alarm_exists: bool = False


@dataclass(frozen=True)
class DoctorFacts:
    """What AWS answered about everything the doctor checks in one environment."""

    load_balancer: Mapping[str, Any] | None = None
    listener_ports: Mapping[str, int] = field(default_factory=dict)  # listener ARN -> port
    services: Mapping[str, ServiceFacts] = field(default_factory=dict)
    hook_parameters: Mapping[Hook, str | None] = field(default_factory=dict)
    hook_functions: Mapping[str, bool] = field(default_factory=dict)  # function name -> exists
    secrets: Mapping[str, bool] = field(default_factory=dict)  # secret name -> exists
    database: Mapping[str, Any] | None = None  # DescribeDBClusters of lms.rds_cluster
    database_key_manager: str | None = None  # KeyManager of its KMS key (AWS or CUSTOMER), None when unencrypted
    # GetRole/GetUser of the operator principals and the deployment groups' service roles (None: not there)
    principals: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    network: NetworkFacts = field(default_factory=NetworkFacts)  # only read when lms.network is set


def secrets_needed(config: EnvironmentConfig) -> list[tuple[str, str]]:
    """(name, what breaks without it) of every secret Tollgate reads in this environment."""
    needed = [(config.alerts.slack_webhook_secret, "the notifier cannot post to Slack")]
    if config.alerts.slack_bot_token_secret:
        needed.append((config.alerts.slack_bot_token_secret, "the deployment's living Slack message is not posted"))
    if config.alerts.slack_signing_secret:
        needed.append((config.alerts.slack_signing_secret, "Slack's buttons (approve, promote, abort) are refused"))
    if config.checks.synthetic_user_secret:
        needed.append((config.checks.synthetic_user_secret, "synthetic flows cannot sign in"))
    if config.records.github_webhook_secret:
        needed.append((config.records.github_webhook_secret, "GitHub build webhooks are refused"))
    return needed


def diagnose(config: EnvironmentConfig, facts: DoctorFacts) -> list[Finding]:
    """Every check of one environment, in a stable order (ALB, network, services, CodeDeploy, hooks, secrets,
    database)."""
    findings = judge_load_balancer(config, facts.load_balancer, facts.listener_ports)
    findings += judge_network(config, facts.network)
    for service, lms_service in sorted(config.lms.services.items()):
        seen = facts.services.get(service, ServiceFacts())
        groups = [("blue", lms_service.target_groups.blue)]
        if lms_service.target_groups.green:
            groups.append(("green", lms_service.target_groups.green))
        findings += [
            judge_target_group(config, service, color, dimension, seen.target_groups.get(dimension))
            for color, dimension in groups
        ]
        findings.append(judge_ecs_service(config, service, seen.ecs_service))
        findings.append(judge_composite_alarm(config, service, seen.composite_alarm_exists))
        if uses_codedeploy(config) and lms_service.deployment_group:
            findings.append(judge_deployment_group(config, service, seen.deployment_group, facts.listener_ports))
            if seen.deployment_group is not None:
                role_arn = str(seen.deployment_group.get("serviceRoleArn") or "")
                findings.append(judge_codedeploy_role(config, service, role_arn, facts.principals.get(role_arn)))
            alarms = judge_alarm_configuration(config, service, seen.deployment_group)
            if alarms is not None:
                findings.append(alarms)
    if uses_codedeploy(config):
        findings += [
            judge_hook(
                config,
                hook,
                facts.hook_parameters.get(hook),
                facts.hook_functions.get(hook_function_name(config.name, hook), False),
            )
            for hook in Hook
        ]
    findings += [
        judge_secret(config, name, purpose, facts.secrets.get(name, False)) for name, purpose in secrets_needed(config)
    ]
    findings.append(judge_database(config, facts.database, facts.database_key_manager))
    findings += [judge_operator(config, arn, facts.principals.get(arn)) for arn in config.operator_principal_arns]
    return findings


def failures(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]
