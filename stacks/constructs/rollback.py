"""Rollback: the alarms that guard each LMS service, the alarm-rollback function and the operator-rollback function.

Alarm names follow ``tollgate-<environment>-<service>-<kind>`` and carry ``tollgate:*`` tags: the
handler maps an alarm to the service it guards by them (``lambdas.rollback.alarms``), so the names are
a contract and physical names are set on purpose.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack, Tags, Token, aws_cloudwatch, aws_events, aws_iam
from constructs import Construct

from lambdas.core.config import EnvironmentConfig, LmsService, Strategy
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType
from lambdas.rollback.adapters.deployments import ROLLBACK_DEPLOYMENT_CONFIG
from lambdas.rollback.alarms import (
    ALARM_SEVERITIES,
    ALARM_STATE_CHANGE,
    ENVIRONMENT_TAG,
    SERVICE_TAG,
    SEVERITY_TAG,
    AlarmKind,
    alarm_name,
)
from lambdas.rollback.deployment_events import CODEDEPLOY_STATE_CHANGE, ECS_DEPLOYMENT_STATE_CHANGE
from lambdas.rollback.operator import rollback_cluster_prefix
from stacks.arns import arn, deployment_group_arns, ecs_service_arns
from stacks.constructs.function import Access, TollgateFunction, add_rule
from stacks.constructs.shared import SharedResources
from stacks.nag import acknowledge

ALARM_ROLLBACK_HANDLER = "lambdas.rollback.handler.handler"
OPERATOR_ROLLBACK_HANDLER = "lambdas.rollback.operator_handler.handler"
# The alarm -> rollback chain can be ~15 s end to end (10 s alarm periods); the function is a few calls.
ALARM_ROLLBACK_TIMEOUT = Duration.seconds(30)
# A full rollback restores the database and then rolls back every service, one call each.
OPERATOR_ROLLBACK_TIMEOUT = Duration.seconds(120)
# ALB metrics are published once a minute: shorter periods would leave every other datapoint missing.
ALB_MIN_PERIOD_SECONDS = 60
LOAN_SUBMISSIONS = ("LMS", "LoanApplicationsSubmitted")
LOAN_SUBMISSIONS_SERVICE = "backend"
ANOMALY_BAND_STD_DEVS = 2
# Both functions keep their claims and records under rollback# (CONTRACTS.md) and are idempotent per event.
ALARM_ROLLBACK_ACCESS = Access(
    writes=("rollback#",),
    announces=(
        DetailType.ROLLBACK_STARTED,
        DetailType.ROLLBACK_SKIPPED,
        DetailType.ALARM_ANNOUNCED,
        DetailType.ROLLBACK_RESTORED,
        DetailType.ROLLBACK_JOINED,
    ),
)
OPERATOR_ROLLBACK_ACCESS = Access(
    writes=("rollback#",),
    announces=(DetailType.ROLLBACK_STARTED, DetailType.ROLLBACK_SKIPPED, DetailType.ALARM_ANNOUNCED),
)


class ServiceAlarms(Construct):
    """The five alarms guarding one LMS service, over both its target groups (blue/green swap each release)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, service_name: str, service: LmsService
    ) -> None:
        super().__init__(scope, construct_id)
        thresholds = config.thresholds
        self._config, self._service_name = config, service_name
        # The config rejects periods below ALB_MIN_PERIOD_SECONDS at synth (AWS would silently raise them).
        period = Duration.seconds(thresholds.alarm_period_seconds)
        self._evaluation_periods = max(1, thresholds.evaluation_window_minutes * 60 // int(period.to_seconds()))
        # Three bad datapoints (or all, if fewer) within the window: one noisy minute does not roll back.
        self._datapoints = min(self._evaluation_periods, 3)
        groups = [g for g in (service.target_groups.blue, service.target_groups.green) if g]

        errors = {f"e{i}": self._alb("HTTPCode_Target_5XX_Count", g, "Sum", period) for i, g in enumerate(groups)}
        requests = {f"r{i}": self._alb("RequestCount", g, "Sum", period) for i, g in enumerate(groups)}
        error_sum = "+".join(f"FILL({k},0)" for k in errors)
        request_sum = "+".join(f"FILL({k},0)" for k in requests)
        self.error_rate = self._alarm(
            AlarmKind.ERROR_RATE,
            aws_cloudwatch.MathExpression(
                # Below min_requests the rate says little: read it as 0 rather than alarm on 1 error in 3.
                expression=f"IF(({request_sum}) >= {thresholds.min_requests}, "
                f"100 * ({error_sum}) / ({request_sum}), 0)",
                using_metrics={**errors, **requests},
                label=f"{service_name} 5xx rate (%)",
                period=period,
            ),
            threshold=thresholds.error_rate_percent,
            description=f"5xx responses of the LMS {service_name} above {thresholds.error_rate_percent}% of requests",
        )
        latencies = {f"p{i}": self._alb("TargetResponseTime", g, "p99", period) for i, g in enumerate(groups)}
        self.p99_latency = self._alarm(
            AlarmKind.P99_LATENCY,
            aws_cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(f'FILL({k},0)' for k in latencies)}])",
                using_metrics=latencies,
                label=f"{service_name} p99 latency (s)",
                period=period,
            ),
            threshold=thresholds.p99_latency_ms / 1000,  # TargetResponseTime is in seconds
            description=f"p99 latency of the LMS {service_name} above {thresholds.p99_latency_ms} ms",
        )
        unhealthy = {f"u{i}": self._alb("UnHealthyHostCount", g, "Maximum", period) for i, g in enumerate(groups)}
        self.unhealthy_hosts = self._alarm(
            AlarmKind.UNHEALTHY_HOSTS,
            aws_cloudwatch.MathExpression(
                expression="+".join(f"FILL({k},0)" for k in unhealthy),
                using_metrics=unhealthy,
                label=f"{service_name} unhealthy hosts",
                period=period,
            ),
            threshold=thresholds.unhealthy_hosts,
            description=f"{thresholds.unhealthy_hosts} or more unhealthy {service_name} tasks",
        )
        # The business signal is per service or not at all: LoanApplicationsSubmitted is published by the backend
        # (it takes the applications), with a Service dimension so a quiet hour of one service is not read as
        # every service failing. Only the backend gets the alarm.
        self.loan_submissions: aws_cloudwatch.AnomalyDetectionAlarm | None = None
        if service_name == LOAN_SUBMISSIONS_SERVICE:
            self.loan_submissions = aws_cloudwatch.AnomalyDetectionAlarm(
                self,
                "LoanSubmissionsAnomaly",
                alarm_name=alarm_name(config.name, service_name, AlarmKind.LOAN_SUBMISSIONS_ANOMALY),
                alarm_description=f"Loan applications submitted fell below the expected band (guards {service_name})",
                metric=aws_cloudwatch.Metric(
                    namespace=LOAN_SUBMISSIONS[0],
                    metric_name=LOAN_SUBMISSIONS[1],
                    dimensions_map={"Environment": config.name, "Service": service_name},
                    statistic="Sum",
                    period=period,
                ),
                std_devs=ANOMALY_BAND_STD_DEVS,
                # Only a drop hurts: more applications than expected is good news, not a failed release.
                comparison_operator=aws_cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
                evaluation_periods=self._evaluation_periods,
                datapoints_to_alarm=self._datapoints,
                treat_missing_data=aws_cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            self._tag(self.loan_submissions, AlarmKind.LOAN_SUBMISSIONS_ANOMALY)
        # A composite is as severe as its children: service-unhealthy is critical (it rolls back, and CodeDeploy
        # may stop on it), so its children are exactly the critical alarms; warnings are announced on their own.
        critical = [
            alarm
            for kind, alarm in self._metric_alarms().items()
            if alarm is not None and ALARM_SEVERITIES[kind] is ALARM_SEVERITIES[AlarmKind.SERVICE_UNHEALTHY]
        ]
        self.service_unhealthy = aws_cloudwatch.CompositeAlarm(
            self,
            "ServiceUnhealthy",
            composite_alarm_name=alarm_name(config.name, service_name, AlarmKind.SERVICE_UNHEALTHY),
            alarm_description=f"The LMS {service_name} is unhealthy: any of its critical Tollgate alarms",
            alarm_rule=aws_cloudwatch.AlarmRule.any_of(*critical),
        )
        self._tag(self.service_unhealthy, AlarmKind.SERVICE_UNHEALTHY)

    def _metric_alarms(self) -> dict[AlarmKind, aws_cloudwatch.AlarmBase | None]:
        return {
            AlarmKind.ERROR_RATE: self.error_rate,
            AlarmKind.P99_LATENCY: self.p99_latency,
            AlarmKind.UNHEALTHY_HOSTS: self.unhealthy_hosts,
            AlarmKind.LOAN_SUBMISSIONS_ANOMALY: self.loan_submissions,
        }

    @property
    def alarms(self) -> list[aws_cloudwatch.IAlarm]:
        found: list[aws_cloudwatch.IAlarm] = [a for a in self._metric_alarms().values() if a is not None]
        return [*found, self.service_unhealthy]

    def _alb(self, metric: str, target_group: str, statistic: str, period: Duration) -> aws_cloudwatch.Metric:
        return aws_cloudwatch.Metric(
            namespace="AWS/ApplicationELB",
            metric_name=metric,
            dimensions_map={"LoadBalancer": self._config.lms.load_balancer, "TargetGroup": target_group},
            statistic=statistic,
            period=period,
        )

    def _alarm(
        self,
        kind: AlarmKind,
        metric: aws_cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
    ) -> aws_cloudwatch.Alarm:
        alarm = aws_cloudwatch.Alarm(
            self,
            kind.name.title().replace("_", ""),
            alarm_name=alarm_name(self._config.name, self._service_name, kind),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=aws_cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=self._evaluation_periods,
            datapoints_to_alarm=self._datapoints,
            treat_missing_data=aws_cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self._tag(alarm, kind)
        return alarm

    def _tag(self, alarm: Construct, kind: AlarmKind) -> None:
        Tags.of(alarm).add(ENVIRONMENT_TAG, self._config.name)
        Tags.of(alarm).add(SERVICE_TAG, self._service_name)
        Tags.of(alarm).add(SEVERITY_TAG, ALARM_SEVERITIES[kind].value)


class Rollback(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedResources, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.service_alarms = {
            name: ServiceAlarms(self, f"Alarms-{name}", config=config, service_name=name, service=service)
            for name, service in config.lms.services.items()
        }
        self.alarm_function = TollgateFunction(
            self,
            "AlarmRollback",
            shared=shared,
            config=config,
            handler=ALARM_ROLLBACK_HANDLER,
            description=f"Tollgate {config.name}: roll the LMS back when its alarms fire",
            timeout=ALARM_ROLLBACK_TIMEOUT,
            memory_size=256,
            access=ALARM_ROLLBACK_ACCESS,
        )
        self.operator_function = TollgateFunction(
            self,
            "OperatorRollback",
            shared=shared,
            config=config,
            handler=OPERATOR_ROLLBACK_HANDLER,
            description=f"Tollgate {config.name}: operator rollback of services and database",
            timeout=OPERATOR_ROLLBACK_TIMEOUT,
            memory_size=256,
            access=OPERATOR_ROLLBACK_ACCESS,
        )
        for function in (self.alarm_function, self.operator_function):
            for statement in self._deployment_statements():
                function.function.add_to_role_policy(statement)
        self.alarm_function.function.add_to_role_policy(
            aws_iam.PolicyStatement(
                actions=["cloudwatch:ListTagsForResource"],
                resources=[self._arn("cloudwatch", "alarm", "*", colon=True)],
            )
        )
        for statement in self._database_statements():
            self.operator_function.function.add_to_role_policy(statement)
        self._acknowledge_wildcards()
        self.rules = self._rules(shared)

    def _acknowledge_wildcards(self) -> None:
        """Each wildcard resource above, with why it cannot be narrower (cdk-nag needs one per finding)."""
        config = self._config
        # cdk-nag names a finding by the rendered ARN: a literal partition when the app resolves one.
        partition = Stack.of(self).partition
        partition = "<AWS::Partition>" if Token.is_unresolved(partition) else partition
        prefix = f"arn:{partition}:{{service}}:{config.region}:{config.account}"
        cloudwatch, rds = prefix.format(service="cloudwatch"), prefix.format(service="rds")
        describe = "ecs:ListTaskDefinitions and ecs:DescribeTaskDefinition support no resource-level permissions."
        findings = {
            self.alarm_function: {
                "*": describe,
                f"{cloudwatch}:alarm:*": "Alarms created outside Tollgate opt in by tags, so any alarm's tags may "
                "be read (ListTagsForResource only).",
            },
            self.operator_function: {
                "*": describe,
                f"{rds}:cluster:{rollback_cluster_prefix(config.lms.rds_cluster)}*": "Restored clusters are new and "
                "named by the time of the rollback; only clusters with the rollback prefix can be created and tagged.",
                f"{rds}:subgrp:*": "The restore reuses the source cluster's subnet group, whose name is read at run "
                "time from DescribeDBClusters.",
                f"{rds}:cluster-pg:*": "The restore reuses the source cluster's parameter group, whose name is read "
                "at run time from DescribeDBClusters.",
            },
        }
        for function, reasons in findings.items():
            for resource, reason in reasons.items():
                acknowledge(function, f"AwsSolutions-IAM5[Resource::{resource}]", reason)

    # -- triggers -----------------------------------------------------------------------------------------

    def _rules(self, shared: SharedResources) -> list[aws_events.Rule]:
        config = self._config
        rules = [
            add_rule(
                self,
                "AlarmStateRule",
                target=self.alarm_function,
                shared=shared,
                description="CloudWatch alarms going to ALARM -> alarm rollback",
                pattern=aws_events.EventPattern(
                    source=["aws.cloudwatch"],
                    detail_type=[ALARM_STATE_CHANGE],
                    detail={"state": {"value": ["ALARM"]}},
                ),
            ),
            add_rule(
                self,
                "OperatorRequestRule",
                target=self.operator_function,
                shared=shared,
                event_bus=shared.event_bus,
                description="Operator Rollback Requested on Tollgate's bus -> operator rollback",
                pattern=aws_events.EventPattern(
                    source=[TOLLGATE_SOURCE], detail_type=[DetailType.OPERATOR_ROLLBACK_REQUESTED.value]
                ),
            ),
        ]
        if config.lms.codedeploy_application:
            rules.append(
                add_rule(
                    self,
                    "RollbackSucceededRule",
                    target=self.alarm_function,
                    shared=shared,
                    description="CodeDeploy deployments of the LMS that succeeded -> announce restored rollbacks",
                    pattern=aws_events.EventPattern(
                        source=["aws.codedeploy"],
                        detail_type=[CODEDEPLOY_STATE_CHANGE],
                        detail={"application": [config.lms.codedeploy_application], "state": ["SUCCESS"]},
                    ),
                )
            )
        if config.deployment.strategy is Strategy.ROLLING:
            # A plain string (no partition token) so the local runtime can match the synthesized pattern.
            prefix = f"arn:aws:ecs:{config.region}:{config.account}:service/{config.lms.ecs_cluster}/"
            rules.append(
                add_rule(
                    self,
                    "RollingUpdateCompletedRule",
                    target=self.alarm_function,
                    shared=shared,
                    description="ECS rolling updates of the LMS that completed -> announce restored rollbacks",
                    pattern=aws_events.EventPattern(
                        source=["aws.ecs"],
                        detail_type=[ECS_DEPLOYMENT_STATE_CHANGE],
                        resources=aws_events.Match.prefix(prefix),
                        detail={"eventName": ["SERVICE_DEPLOYMENT_COMPLETED"]},
                    ),
                )
            )
        return rules

    # -- least privilege ----------------------------------------------------------------------------------

    def _deployment_statements(self) -> list[aws_iam.PolicyStatement]:
        config = self._config
        ecs_services = ecs_service_arns(self, config)
        statements = [
            aws_iam.PolicyStatement(actions=["ecs:DescribeServices"], resources=ecs_services),
            # Neither call supports resource-level permissions (AWS service authorization reference).
            aws_iam.PolicyStatement(actions=["ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"], resources=["*"]),
        ]
        if config.deployment.strategy is Strategy.ROLLING:
            statements.append(aws_iam.PolicyStatement(actions=["ecs:UpdateService"], resources=ecs_services))
        application = config.lms.codedeploy_application
        if application:
            groups = deployment_group_arns(self, config)
            statements += [
                aws_iam.PolicyStatement(
                    actions=[
                        "codedeploy:GetDeploymentGroup",
                        "codedeploy:GetDeployment",
                        "codedeploy:StopDeployment",
                        "codedeploy:CreateDeployment",
                    ],
                    resources=groups,
                ),
                # CreateDeployment also reads the deployment config and registers the AppSpec revision.
                aws_iam.PolicyStatement(
                    actions=["codedeploy:GetDeploymentConfig"],
                    resources=[self._arn("codedeploy", "deploymentconfig", ROLLBACK_DEPLOYMENT_CONFIG, colon=True)],
                ),
                aws_iam.PolicyStatement(
                    actions=["codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"],
                    resources=[self._arn("codedeploy", "application", application, colon=True)],
                ),
            ]
        return statements

    def _database_statements(self) -> list[aws_iam.PolicyStatement]:
        config = self._config
        cluster = config.lms.rds_cluster
        source = self._arn("rds", "cluster", cluster, colon=True)
        # The restored cluster's name starts with the (possibly cut) source name: grant exactly that prefix.
        restored = self._arn("rds", "cluster", f"{rollback_cluster_prefix(cluster)}*", colon=True)
        statements = [
            aws_iam.PolicyStatement(actions=["rds:DescribeDBClusters"], resources=[source]),
            # Restore reads the source and creates the new cluster in the source's subnet group with the source's
            # cluster parameter group (both names read at run time); it can neither modify nor delete the
            # original: no such action is granted.
            aws_iam.PolicyStatement(
                actions=["rds:RestoreDBClusterToPointInTime"],
                resources=[
                    source,
                    restored,
                    self._arn("rds", "subgrp", "*", colon=True),
                    self._arn("rds", "cluster-pg", "*", colon=True),
                ],
            ),
            aws_iam.PolicyStatement(actions=["rds:AddTagsToResource"], resources=[restored]),
        ]
        if config.lms.rds_kms_key_arn:
            # A cluster encrypted with a customer-managed key: RDS creates a grant on it for the new cluster, on the
            # caller's behalf (Aurora User Guide, "Authorizing use of a customer managed key":
            # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Overview.Encryption.Keys.html).
            via_rds = {"kms:ViaService": f"rds.{config.region}.amazonaws.com"}
            statements += [
                aws_iam.PolicyStatement(
                    actions=["kms:DescribeKey"],
                    resources=[config.lms.rds_kms_key_arn],
                    conditions={"StringEquals": via_rds},
                ),
                aws_iam.PolicyStatement(
                    actions=["kms:CreateGrant"],
                    resources=[config.lms.rds_kms_key_arn],
                    conditions={"StringEquals": via_rds, "Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
            ]
        return statements

    def _arn(self, service: str, resource: str, name: str, *, colon: bool) -> str:
        return arn(self, service, resource, name, colon=colon)
