"""Seed the embedded AWS with the LMS's own resources, as one environment config names them.

Tollgate only references the LMS's infrastructure (ECS cluster and services, ALB, target groups,
CodeDeploy application and groups, RDS cluster, secrets); locally something has to create it. This
module does, through ordinary boto3 clients (``lambdas.core.aws.client``) against the embedded AWS,
so handlers find exactly what the config names.

Each service gets two task definition revisions: the ``previous`` release (revision 1, image tag
``PREVIOUS_IMAGE_TAG``) and the ``current`` one (revision 2, ``CURRENT_IMAGE_TAG``), which the ECS
service runs. Listener rules route by the host of each service's URL and forward to its target groups
with weights (blue 100, green 0), as CodeDeploy and Tollgate's canary controller expect.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lambdas.core import appspec as core_appspec
from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, LmsService, Strategy, iam_principal
from lambdas.rollback.alarms import AlarmKind, alarm_name

PREVIOUS_IMAGE_TAG = "v1.4.1"
CURRENT_IMAGE_TAG = "v1.5.0"
ECS_HOOK_NAMES = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")
AUTO_ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
DESIRED_TASKS = 2
RDS_BACKUP_RETENTION_DAYS = 7
# CodeDeploy's own traffic shift per strategy: production's 10 -> 50 -> 100 canary is driven by
# Tollgate (CodeDeploy canaries have exactly two steps), so CodeDeploy shifts all at once at the end.
CODEDEPLOY_CONFIGS = {
    Strategy.BLUE_GREEN: "CodeDeployDefault.ECSCanary10Percent5Minutes",
    Strategy.CANARY: "CodeDeployDefault.ECSAllAtOnce",
}


class SeedError(Exception):
    """Seeding failed; the message names the environment, the resource and the cause."""


@dataclass(frozen=True)
class SeededService:
    """What was created for one LMS service."""

    name: str
    ecs_service_arn: str
    previous_task_definition_arn: str
    current_task_definition_arn: str
    blue_target_group_arn: str
    green_target_group_arn: str | None
    production_rule_arn: str
    test_rule_arn: str | None
    task_set_id: str | None  # the PRIMARY task set of a CODE_DEPLOY service
    deployment_group_name: str | None
    deployment_group_id: str | None


@dataclass(frozen=True)
class SeededEnvironment:
    """Physical ids and ARNs of everything ``seed_environment`` created."""

    environment: str
    region: str
    account_id: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_id: str
    cluster_arn: str
    load_balancer_arn: str
    load_balancer_dns_name: str
    production_listener_arn: str
    test_listener_arn: str | None
    services: Mapping[str, SeededService]
    codedeploy_application: str | None
    codedeploy_service_role_arn: str | None
    task_execution_role_arn: str
    rds_cluster_arn: str
    rds_instance_arn: str
    slack_webhook_secret_arn: str | None
    synthetic_user_secret_name: str
    synthetic_user_secret_arn: str

    def service(self, name: str) -> SeededService:
        try:
            return self.services[name]
        except KeyError as error:
            raise SeedError(f"environment '{self.environment}': no seeded service '{name}'") from error


def synthetic_user_secret_name(environment: str) -> str:
    return f"tollgate/{environment}/synthetic-user"


def image_uri(account_id: str, region: str, service: str, tag: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/lms/{service}:{tag}"


def ecs_appspec(
    task_definition_arn: str, container_name: str, container_port: int, hooks: Mapping[str, str] | None = None
) -> str:
    """The AppSpec (JSON) of an ECS blue/green deployment; ``hooks`` maps hook name -> function name."""
    unknown = set(hooks or {}) - set(ECS_HOOK_NAMES)
    if unknown:
        raise SeedError(f"unknown ECS lifecycle hooks {sorted(unknown)}; expected some of {ECS_HOOK_NAMES}")
    given = hooks or {}
    ordered = {name: given[name] for name in ECS_HOOK_NAMES if name in given}
    spec = core_appspec.ecs_appspec(
        task_definition_arn, container_name=container_name, container_port=container_port, hooks=ordered
    )
    return json.dumps(spec)


def appspec_revision(content: str) -> dict[str, Any]:
    """A CodeDeploy ``revision`` carrying AppSpec content inline."""
    return core_appspec.appspec_revision(content)


class _Seeder:
    def __init__(self, config: EnvironmentConfig) -> None:
        self.config = config
        self.env = config.name
        self.region = aws.session().region_name or config.region

    def step(self, what: str, call: Any, **kwargs: Any) -> Any:
        """Run one AWS call; a ClientError becomes a SeedError naming the environment and resource."""
        try:
            return call(**kwargs)
        except ClientError as error:
            err = error.response.get("Error", {})
            raise SeedError(
                f"environment '{self.env}': could not {what}: {err.get('Code', 'Unknown')}: {err.get('Message', error)}"
            ) from error

    def refuse_if_seeded(self) -> None:
        name = self.config.lms.load_balancer_name
        try:
            aws.client("elbv2").describe_load_balancers(Names=[name])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "LoadBalancerNotFound":
                return
            raise SeedError(f"environment '{self.env}': could not check for load balancer {name}: {error}") from error
        raise SeedError(f"environment '{self.env}' is already seeded: load balancer {name} exists")


def seed_environment(config: EnvironmentConfig, *, slack_webhook_url: str | None = None) -> SeededEnvironment:
    """Create the LMS's resources that ``config`` names in the embedded AWS and return their ids.

    Seeding the same environment twice into one server raises ``SeedError``.
    """
    seeder = _Seeder(config)
    seeder.refuse_if_seeded()
    _pin_config_ids(config)
    account_id = seeder.step("read the account id", aws.client("sts").get_caller_identity)["Account"]
    network = _create_network(seeder)
    execution_role_arn, codedeploy_role_arn = _create_roles(seeder)
    cluster_arn = seeder.step(
        f"create ECS cluster {config.lms.ecs_cluster}",
        aws.client("ecs").create_cluster,
        clusterName=config.lms.ecs_cluster,
    )["cluster"]["clusterArn"]
    load_balancer = seeder.step(
        f"create load balancer {config.lms.load_balancer_name}",
        aws.client("elbv2").create_load_balancer,
        Name=config.lms.load_balancer_name,
        Subnets=list(network["subnet_ids"]),
        SecurityGroups=[network["security_group_id"]],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    listeners = _create_listeners(seeder, load_balancer["LoadBalancerArn"])
    codedeploy_application = _create_codedeploy_application(seeder)
    services = {
        name: _seed_service(
            seeder,
            name,
            service,
            account_id=account_id,
            vpc_id=network["vpc_id"],
            network=network,
            listeners=listeners,
            priority=10 * (index + 1),
            execution_role_arn=execution_role_arn,
            codedeploy_role_arn=codedeploy_role_arn,
        )
        for index, (name, service) in enumerate(sorted(config.lms.services.items()))
    }
    rds_cluster_arn, rds_instance_arn = _create_database(seeder)
    slack_arn = _create_slack_secret(seeder, slack_webhook_url)
    synthetic_arn = _create_synthetic_user_secret(seeder)
    return SeededEnvironment(
        environment=config.name,
        region=seeder.region,
        account_id=account_id,
        vpc_id=network["vpc_id"],
        subnet_ids=tuple(network["subnet_ids"]),
        security_group_id=network["security_group_id"],
        cluster_arn=cluster_arn,
        load_balancer_arn=load_balancer["LoadBalancerArn"],
        load_balancer_dns_name=load_balancer["DNSName"],
        production_listener_arn=listeners["production"],
        test_listener_arn=listeners.get("test"),
        services=services,
        codedeploy_application=codedeploy_application,
        codedeploy_service_role_arn=codedeploy_role_arn if codedeploy_application else None,
        task_execution_role_arn=execution_role_arn,
        rds_cluster_arn=rds_cluster_arn,
        rds_instance_arn=rds_instance_arn,
        slack_webhook_secret_arn=slack_arn,
        synthetic_user_secret_name=synthetic_user_secret_name(config.name),
        synthetic_user_secret_arn=synthetic_arn,
    )


def _pin_config_ids(config: EnvironmentConfig) -> None:
    # Make the seeded ARNs end in the ids the config names (CloudWatch's LoadBalancer/TargetGroup
    # dimensions); only possible in-process, where the extensions are installed.
    from tollgate.embedded_aws import extensions  # noqa: PLC0415 - local runtime only

    target_groups: dict[str, str] = {}
    for service in config.lms.services.values():
        for dimension in (service.target_groups.blue, service.target_groups.green):
            if dimension:
                _, name, tg_id = dimension.split("/")
                target_groups[name] = tg_id
    _, lb_name, lb_id = config.lms.load_balancer.split("/")
    extensions.pin_elbv2_ids(load_balancers={lb_name: lb_id}, target_groups=target_groups)


def _create_network(seeder: _Seeder) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    env = seeder.env
    vpc_id = seeder.step(f"create the VPC of {env}", ec2.create_vpc, CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # Fargate tasks get private DNS names only in a VPC with DNS hostnames (moto needs it too).
    seeder.step(
        f"enable DNS hostnames in {vpc_id}", ec2.modify_vpc_attribute, VpcId=vpc_id, EnableDnsHostnames={"Value": True}
    )
    subnet_ids = [
        seeder.step(
            f"create subnet {cidr}",
            ec2.create_subnet,
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=f"{seeder.region}{zone}",
        )["Subnet"]["SubnetId"]
        for cidr, zone in (("10.20.1.0/24", "a"), ("10.20.2.0/24", "b"))
    ]
    security_group_id = seeder.step(
        "create the LMS security group",
        ec2.create_security_group,
        GroupName=f"lms-{env}",
        Description=f"LMS {env} load balancer and tasks",
        VpcId=vpc_id,
    )["GroupId"]
    return {"vpc_id": vpc_id, "subnet_ids": subnet_ids, "security_group_id": security_group_id}


def _create_roles(seeder: _Seeder) -> tuple[str, str]:
    iam = aws.client("iam")

    def role(name: str, principal: dict[str, str]) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
        arn: str = seeder.step(
            f"create IAM role {name}", iam.create_role, RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        return arn

    execution = role(f"lms-{seeder.env}-task-execution", {"Service": "ecs-tasks.amazonaws.com"})
    codedeploy = role(f"lms-{seeder.env}-codedeploy", {"Service": "codedeploy.amazonaws.com"})
    # The people on call: only these principals may put operator requests on Tollgate's bus (decision 0063).
    for principal in filter(None, map(iam_principal, seeder.config.operator_principal_arns)):
        kind, name = principal
        if kind == "user":
            seeder.step(f"create IAM user {name}", iam.create_user, UserName=name)
        else:
            role(name, {"AWS": f"arn:aws:iam::{seeder.config.account}:root"})
    return execution, codedeploy


def _create_listeners(seeder: _Seeder, load_balancer_arn: str) -> dict[str, str]:
    lms = seeder.config.lms
    certificate, private_key = _local_certificate(f"*.{seeder.env}.lms.example.com")
    certificate_arn = seeder.step(
        "import the LMS certificate",
        aws.client("acm").import_certificate,
        Certificate=certificate,
        PrivateKey=private_key,
    )["CertificateArn"]
    # Requests that match no service's host get a 404, so a routing mistake is visible.
    no_route = {
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no LMS service here"},
    }
    ports = {"production": lms.production_listener_port}
    if lms.test_listener_port is not None:
        ports["test"] = lms.test_listener_port
    return {
        role: seeder.step(
            f"create the {role} listener on port {port}",
            aws.client("elbv2").create_listener,
            LoadBalancerArn=load_balancer_arn,
            Protocol="HTTPS",
            Port=port,
            Certificates=[{"CertificateArn": certificate_arn}],
            DefaultActions=[no_route],
        )["Listeners"][0]["ListenerArn"]
        for role, port in ports.items()
    }


@functools.cache
def _local_certificate(domain: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for ``domain`` and its key (PEM), made once per process.

    Nothing in Tollgate reads the certificate; the HTTPS listeners only need one. It is imported rather than
    requested, with an EC P-256 key (ACM imports those too): moto's RequestCertificate makes a new 2048-bit RSA
    key every time (66 ms of each seed), and importing an RSA key checks it (31 ms). Measured in
    docs/decisions/0110-test-suite-speed.md.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), private_key


def _create_codedeploy_application(seeder: _Seeder) -> str | None:
    application = seeder.config.lms.codedeploy_application
    if seeder.config.deployment.strategy is Strategy.ROLLING or not application:
        return None
    seeder.step(
        f"create CodeDeploy application {application}",
        aws.client("codedeploy").create_application,
        applicationName=application,
        computePlatform="ECS",
    )
    return application


def _seed_service(
    seeder: _Seeder,
    name: str,
    service: LmsService,
    *,
    account_id: str,
    vpc_id: str,
    network: dict[str, Any],
    listeners: dict[str, str],
    priority: int,
    execution_role_arn: str,
    codedeploy_role_arn: str,
) -> SeededService:
    previous, current = (
        _register_task_definition(seeder, name, service, account_id=account_id, tag=tag, role_arn=execution_role_arn)
        for tag in (PREVIOUS_IMAGE_TAG, CURRENT_IMAGE_TAG)
    )
    blue = _create_target_group(seeder, service.target_groups.blue_name, service, vpc_id)
    green_name = service.target_groups.green_name
    green = _create_target_group(seeder, green_name, service, vpc_id) if green_name else None
    production_rule = _create_rule(
        seeder, listeners["production"], service.base_url, priority=priority, blue=blue, green=green
    )
    test_rule = None
    if "test" in listeners:
        test_url = service.test_url or service.base_url
        test_rule = _create_rule(seeder, listeners["test"], test_url, priority=priority, blue=blue, green=green)

    blue_green = seeder.config.deployment.strategy is not Strategy.ROLLING
    awsvpc = {
        "awsvpcConfiguration": {
            "subnets": list(network["subnet_ids"]),
            "securityGroups": [network["security_group_id"]],
            "assignPublicIp": "DISABLED",
        }
    }
    load_balancers = [
        {"targetGroupArn": blue, "containerName": service.container_name, "containerPort": service.container_port}
    ]
    ecs = aws.client("ecs")
    service_arn = seeder.step(
        f"create ECS service {service.ecs_service}",
        ecs.create_service,
        cluster=seeder.config.lms.ecs_cluster,
        serviceName=service.ecs_service,
        taskDefinition=current,
        desiredCount=DESIRED_TASKS,
        launchType="FARGATE",
        deploymentController={"type": "CODE_DEPLOY" if blue_green else "ECS"},
        loadBalancers=load_balancers,
        networkConfiguration=awsvpc,
    )["service"]["serviceArn"]
    task_set_id = None
    if blue_green:
        # With the CODE_DEPLOY controller the running tasks belong to a PRIMARY task set (the blue one).
        task_set = seeder.step(
            f"create the primary task set of {service.ecs_service}",
            ecs.create_task_set,
            cluster=seeder.config.lms.ecs_cluster,
            service=service.ecs_service,
            taskDefinition=current,
            launchType="FARGATE",
            loadBalancers=load_balancers,
            networkConfiguration=awsvpc,
            scale={"value": 100.0, "unit": "PERCENT"},
        )["taskSet"]
        task_set_id = task_set["id"]
        seeder.step(
            f"make {task_set_id} the primary task set of {service.ecs_service}",
            ecs.update_service_primary_task_set,
            cluster=seeder.config.lms.ecs_cluster,
            service=service.ecs_service,
            # The ARN: moto matches only ARNs here (AWS takes the id too).
            primaryTaskSet=task_set["taskSetArn"],
        )
    group_id = None
    if blue_green and service.deployment_group and green_name:
        group_id = _create_deployment_group(
            seeder,
            name,
            service,
            listeners,
            blue_name=service.target_groups.blue_name,
            green_name=green_name,
            role_arn=codedeploy_role_arn,
        )
    return SeededService(
        name=name,
        ecs_service_arn=service_arn,
        previous_task_definition_arn=previous,
        current_task_definition_arn=current,
        blue_target_group_arn=blue,
        green_target_group_arn=green,
        production_rule_arn=production_rule,
        test_rule_arn=test_rule,
        task_set_id=task_set_id,
        deployment_group_name=service.deployment_group if group_id else None,
        deployment_group_id=group_id,
    )


def _register_task_definition(
    seeder: _Seeder, name: str, service: LmsService, *, account_id: str, tag: str, role_arn: str
) -> str:
    container = {
        "name": service.container_name,
        "image": image_uri(account_id, seeder.region, name, tag),
        "essential": True,
        # moto sizes tasks from container-level cpu/memory.
        "cpu": 512,
        "memory": 1024,
        "portMappings": [{"containerPort": service.container_port, "protocol": "tcp"}],
        "environment": [{"name": "LMS_ENVIRONMENT", "value": seeder.env}, {"name": "LMS_VERSION", "value": tag}],
        "healthCheck": {
            "command": [
                "CMD-SHELL",
                f"curl -fs http://localhost:{service.container_port}{service.health_path} || exit 1",
            ],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
        },
    }
    arn: str = seeder.step(
        f"register task definition {service.task_family} ({tag})",
        aws.client("ecs").register_task_definition,
        family=service.task_family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="512",
        memory="1024",
        executionRoleArn=role_arn,
        containerDefinitions=[container],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _create_target_group(seeder: _Seeder, name: str, service: LmsService, vpc_id: str) -> str:
    arn: str = seeder.step(
        f"create target group {name}",
        aws.client("elbv2").create_target_group,
        Name=name,
        Protocol="HTTP",
        Port=service.container_port,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath=service.health_path,
        HealthCheckProtocol="HTTP",
    )["TargetGroups"][0]["TargetGroupArn"]
    return arn


def _create_rule(seeder: _Seeder, listener_arn: str, url: str, *, priority: int, blue: str, green: str | None) -> str:
    host = urlparse(url).hostname
    if not host:
        raise SeedError(f"environment '{seeder.env}': URL {url!r} has no host to route on")
    target_groups = [{"TargetGroupArn": blue, "Weight": 100}]
    if green:
        target_groups.append({"TargetGroupArn": green, "Weight": 0})
    arn: str = seeder.step(
        f"route {host} on listener {listener_arn}",
        aws.client("elbv2").create_rule,
        ListenerArn=listener_arn,
        Priority=priority,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": [host]}}],
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": target_groups}}],
    )["Rules"][0]["RuleArn"]
    return arn


def _create_deployment_group(
    seeder: _Seeder,
    name: str,
    service: LmsService,
    listeners: dict[str, str],
    *,
    blue_name: str,
    green_name: str,
    role_arn: str,
) -> str:
    deployment = seeder.config.deployment
    ready_option: dict[str, Any] = {"actionOnTimeout": "CONTINUE_DEPLOYMENT"}
    if deployment.requires_approval:
        # Production waits in Ready for an operator's ContinueDeployment, up to a day.
        ready_option = {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 1440}
    route: dict[str, Any] = {
        "targetGroups": [{"name": blue_name}, {"name": green_name}],
        "prodTrafficRoute": {"listenerArns": [listeners["production"]]},
    }
    if "test" in listeners:
        route["testTrafficRoute"] = {"listenerArns": [listeners["test"]]}
    group_id: str = seeder.step(
        f"create deployment group {service.deployment_group}",
        aws.client("codedeploy").create_deployment_group,
        applicationName=seeder.config.lms.codedeploy_application,
        deploymentGroupName=service.deployment_group,
        deploymentConfigName=CODEDEPLOY_CONFIGS[deployment.strategy],
        serviceRoleArn=role_arn,
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        blueGreenDeploymentConfiguration={
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": deployment.keep_blue_minutes,
            },
            "deploymentReadyOption": ready_option,
        },
        loadBalancerInfo={"targetGroupPairInfoList": [route]},
        ecsServices=[{"serviceName": service.ecs_service, "clusterName": seeder.config.lms.ecs_cluster}],
        # The second rollback path, as the LMS side must configure it (`tollgate doctor` checks it): CodeDeploy
        # stops the deployment when Tollgate's composite alarm is in ALARM and rolls back on DEPLOYMENT_STOP_ON_ALARM.
        alarmConfiguration={
            "enabled": True,
            "ignorePollAlarmFailure": False,
            "alarms": [{"name": alarm_name(seeder.env, name, AlarmKind.SERVICE_UNHEALTHY)}],
        },
        autoRollbackConfiguration={"enabled": True, "events": list(AUTO_ROLLBACK_EVENTS)},
    )["deploymentGroupId"]
    return group_id


def _create_database(seeder: _Seeder) -> tuple[str, str]:
    rds = aws.client("rds")
    cluster = seeder.config.lms.rds_cluster
    cluster_arn: str = seeder.step(
        f"create RDS cluster {cluster}",
        rds.create_db_cluster,
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DatabaseName="lms",
        MasterUsername="lms_admin",
        # A throwaway value for a database that exists only in the embedded AWS.
        MasterUserPassword=secrets.token_urlsafe(24),
        BackupRetentionPeriod=RDS_BACKUP_RETENTION_DAYS,
        Tags=[{"Key": "lms:environment", "Value": seeder.env}],
    )["DBCluster"]["DBClusterArn"]
    instance_arn: str = seeder.step(
        f"create the writer instance of {cluster}",
        rds.create_db_instance,
        DBInstanceIdentifier=f"{cluster}-writer",
        DBClusterIdentifier=cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )["DBInstance"]["DBInstanceArn"]
    return cluster_arn, instance_arn


def _create_slack_secret(seeder: _Seeder, slack_webhook_url: str | None) -> str | None:
    if slack_webhook_url is None:
        return None
    if urlparse(slack_webhook_url).scheme not in ("http", "https"):
        raise SeedError(f"environment '{seeder.env}': the Slack webhook URL must be http(s)")
    name = seeder.config.alerts.slack_webhook_secret
    arn: str = seeder.step(
        f"create secret {name}",
        aws.client("secretsmanager").create_secret,
        Name=name,
        Description=f"Slack incoming webhook for Tollgate alerts ({seeder.env})",
        SecretString=slack_webhook_url,
    )["ARN"]
    return arn


def _create_synthetic_user_secret(seeder: _Seeder) -> str:
    name = synthetic_user_secret_name(seeder.env)
    credentials = {"username": f"synthetic.user+{seeder.env}@lms.example.com", "password": secrets.token_urlsafe(18)}
    arn: str = seeder.step(
        f"create secret {name}",
        aws.client("secretsmanager").create_secret,
        Name=name,
        Description=f"Credentials of the LMS synthetic user Tollgate's synthetics sign in as ({seeder.env})",
        SecretString=json.dumps(credentials),
    )["ARN"]
    return arn


def create_deployment_of(
    config: EnvironmentConfig,
    service_name: str,
    *,
    task_definition_arn: str | None = None,
    hooks: Mapping[str, str] | None = None,
    description: str | None = None,
) -> str:
    """Create a CodeDeploy deployment of a service (status Created) and return its id.

    Defaults to the task definition the ECS service runs now.
    """
    service = config.lms.services.get(service_name)
    if service is None:
        raise SeedError(f"environment '{config.name}': no LMS service '{service_name}' in the config")
    if not config.lms.codedeploy_application or not service.deployment_group:
        raise SeedError(f"environment '{config.name}': service '{service_name}' has no CodeDeploy deployment group")
    try:
        arn = task_definition_arn or str(
            aws.client("ecs").describe_services(cluster=config.lms.ecs_cluster, services=[service.ecs_service])[
                "services"
            ][0]["taskDefinition"]
        )
        deployment_id: str = aws.client("codedeploy").create_deployment(
            applicationName=config.lms.codedeploy_application,
            deploymentGroupName=service.deployment_group,
            revision=appspec_revision(ecs_appspec(arn, service.container_name, service.container_port, hooks)),
            description=description or f"{service_name} {arn.rsplit('/', 1)[-1]}",
        )["deploymentId"]
    except ClientError as error:
        raise SeedError(
            f"environment '{config.name}': could not create a deployment of {service_name}: {error}"
        ) from error
    return deployment_id


def create_succeeded_deployment(
    config: EnvironmentConfig,
    seeded: SeededEnvironment,
    service_name: str,
    *,
    task_definition_arn: str | None = None,
    hooks: Mapping[str, str] | None = None,
) -> str:
    """Record a finished (Succeeded) CodeDeploy deployment of a service and return its id.

    It becomes the group's last successful deployment, so the next deployment's
    ``previousRevision`` points at it (what "redeploy the previous revision" reads). Defaults to the
    service's current task definition.
    """
    from tollgate.embedded_aws import extensions  # noqa: PLC0415 - local runtime only

    if service_name not in config.lms.services:
        raise SeedError(f"environment '{config.name}': no LMS service '{service_name}' in the config")
    deployment_id = create_deployment_of(
        config,
        service_name,
        task_definition_arn=task_definition_arn or seeded.service(service_name).current_task_definition_arn,
        hooks=hooks,
        description=f"{service_name} {task_definition_arn or CURRENT_IMAGE_TAG}",
    )
    extensions.set_deployment_status(deployment_id, "Succeeded")
    return deployment_id
