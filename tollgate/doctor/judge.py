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
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdas.core.config import EnvironmentConfig, Hook, Strategy
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


def secrets_needed(config: EnvironmentConfig) -> list[tuple[str, str]]:
    """(name, what breaks without it) of every secret Tollgate reads in this environment."""
    needed = [(config.alerts.slack_webhook_secret, "the notifier cannot post to Slack")]
    if config.checks.synthetic_user_secret:
        needed.append((config.checks.synthetic_user_secret, "synthetic flows cannot sign in"))
    if config.records.github_webhook_secret:
        needed.append((config.records.github_webhook_secret, "GitHub build webhooks are refused"))
    return needed


def diagnose(config: EnvironmentConfig, facts: DoctorFacts) -> list[Finding]:
    """Every check of one environment, in a stable order (ALB, services, CodeDeploy, hooks, secrets, database)."""
    findings = judge_load_balancer(config, facts.load_balancer, facts.listener_ports)
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
    return findings


def failures(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok]
