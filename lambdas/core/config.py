"""The environment config: one typed, validated description of each LMS environment.

The CDK app validates it before building any construct, and every function validates it again at
cold start (it ships in the function's code), so synth-time and run-time read the same values.
Values live in ``lambdas/core/environments/<name>.json``; this module holds the shape and the rules.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator, model_validator

ENVIRONMENTS_DIR = Path(__file__).with_name("environments")
ENVIRONMENT_NAMES = ("development", "staging", "production")

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


class ConfigError(Exception):
    """The environment config is missing or invalid; the message names the environment and field."""


class Strategy(StrEnum):
    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"
    CANARY = "canary"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class InsufficientDataOutcome(StrEnum):
    PASS = "pass"  # noqa: S105  # nosec B105 - an outcome, not a password
    FAIL = "fail"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ServiceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]


class TargetGroups(_Strict):
    """ALB target groups of one service, as CloudWatch names them (``targetgroup/<name>/<id>``)."""

    blue: str = Field(pattern=r"^targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")
    green: str | None = Field(default=None, pattern=r"^targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$")

    @property
    def blue_name(self) -> str:
        return self.blue.split("/")[1]

    @property
    def green_name(self) -> str | None:
        return self.green.split("/")[1] if self.green else None


class LmsService(_Strict):
    """One LMS service (``backend`` or ``frontend``) and the AWS resources that run it."""

    ecs_service: str = Field(min_length=1, max_length=255)
    task_family: str = Field(min_length=1, max_length=255)
    container_name: str = Field(min_length=1)
    container_port: int = Field(gt=0, lt=65536)
    deployment_group: str | None = Field(
        default=None, description="CodeDeploy deployment group; None for rolling updates"
    )
    target_groups: TargetGroups
    base_url: str = Field(pattern=r"^https?://", description="Production listener URL of the service")
    test_url: str | None = Field(default=None, pattern=r"^https?://", description="Test listener URL (blue/green)")
    health_path: str = Field(default="/health", pattern=r"^/")


# Lambda's VpcConfig takes at most 16 subnets and 5 security groups
# (https://docs.aws.amazon.com/lambda/latest/dg/API_VpcConfig.html).
MAX_FUNCTION_SUBNETS = 16
MAX_FUNCTION_SECURITY_GROUPS = 5
VPC_ID = r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$"
SUBNET_ID = r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$"
SECURITY_GROUP_ID = r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$"


class LmsNetwork(_Strict):
    """Where the functions that call the LMS over HTTP run, so they reach a private (internal) ALB
    (docs/decisions/0065-private-albs.md).

    Lambda attaches such a function to every subnet listed (one Hyperplane ENI per subnet and security group
    combination) and recommends at least two subnets in different Availability Zones
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). The subnets are private: Lambda never
    gives a VPC function a public IP, so AWS APIs are reached through a NAT gateway or VPC endpoints
    (`tollgate doctor` checks the routes).
    """

    vpc_id: str = Field(pattern=VPC_ID)
    subnet_ids: tuple[Annotated[str, Field(pattern=SUBNET_ID)], ...] = Field(
        min_length=2, max_length=MAX_FUNCTION_SUBNETS
    )
    security_group_ids: tuple[Annotated[str, Field(pattern=SECURITY_GROUP_ID)], ...] = Field(
        min_length=1, max_length=MAX_FUNCTION_SECURITY_GROUPS
    )
    # The Availability Zone of each subnet, in the same order: synth checks the spread (Lambda's two-zone
    # recommendation) without AWS calls, and CDK's imported VPC needs its zones; the doctor checks them live.
    availability_zones: tuple[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")], ...]

    @field_validator("subnet_ids", "security_group_ids")
    @classmethod
    def _no_duplicates(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {repeated}")
        return ids

    @model_validator(mode="after")
    def _zones_match_subnets(self) -> LmsNetwork:
        zones = self.availability_zones
        if len(zones) != len(self.subnet_ids):
            raise ValueError(
                f"availability_zones has {len(zones)} entries for {len(self.subnet_ids)} subnet_ids "
                "(one zone per subnet, in the same order)"
            )
        if len(set(zones)) < 2:
            raise ValueError(
                f"every subnet is in {zones[0]}: Lambda needs subnets in at least two Availability Zones to keep "
                "running when one zone fails"
            )
        return self


class Lms(_Strict):
    """References to the LMS's own infrastructure, provisioned outside Tollgate."""

    ecs_cluster: str = Field(min_length=1, max_length=255)
    codedeploy_application: str | None = None
    load_balancer: str = Field(
        pattern=r"^app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$", description="ALB as CloudWatch names it"
    )
    production_listener_port: int = Field(gt=0, lt=65536)
    test_listener_port: int | None = Field(default=None, gt=0, lt=65536)
    rds_cluster: str = Field(min_length=1, max_length=63)
    # The customer-managed KMS key the database is encrypted with, if any: the operator rollback's restore
    # needs kms:CreateGrant/DescribeKey on it (through RDS only).
    rds_kms_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$"
    )
    services: dict[ServiceName, LmsService] = Field(min_length=1)
    # Private ALBs: the subnets and security groups of the functions that call the LMS (None: outside any VPC).
    network: LmsNetwork | None = None

    @property
    def load_balancer_name(self) -> str:
        return self.load_balancer.split("/")[1]


class Deployment(_Strict):
    """How releases reach this environment."""

    strategy: Strategy
    # Percent of production traffic on green at each step; Tollgate drives these itself (CodeDeploy's
    # own canary has exactly two steps).
    canary_steps: tuple[int, ...] = ()
    bake_seconds: int = Field(default=300, ge=0, le=3600)
    requires_approval: bool = False
    # After a deployment finishes, an alarm within this window redeploys the previous revision.
    watch_window_minutes: int = Field(default=60, ge=0, le=1440)
    # How long CodeDeploy keeps the original (blue) task set after success.
    keep_blue_minutes: int = Field(default=60, ge=0, le=2880)
    # Canary controller (docs/decisions/0010): who may approve, how long the approval may take, how often a
    # bake looks for promote/abort, and how far a bake may be extended when too little traffic arrived.
    approvers: tuple[Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")], ...] = ()
    approval_timeout_seconds: int = Field(default=1200, ge=60, le=3600)
    bake_poll_seconds: int = Field(default=30, ge=1, le=300)
    max_bake_extension_seconds: int = Field(default=0, ge=0, le=3600)

    @field_validator("canary_steps")
    @classmethod
    def _steps_increase_to_100(cls, steps: tuple[int, ...]) -> tuple[int, ...]:
        if steps:
            if any(not 0 < s <= 100 for s in steps):
                raise ValueError("every canary step is a percentage in 1..100")
            if list(steps) != sorted(set(steps)):
                raise ValueError("canary steps must strictly increase")
            if steps[-1] != 100:
                raise ValueError("the last canary step must be 100")
        return steps


class Thresholds(_Strict):
    """What 'healthy' means for the new version; used by alarms and metric gates."""

    error_rate_percent: float = Field(gt=0, le=100)
    p99_latency_ms: int = Field(gt=0, le=60_000)
    unhealthy_hosts: int = Field(default=1, ge=1)
    evaluation_window_minutes: int = Field(default=5, ge=1, le=60)
    # ALB metrics are published once a minute: CloudWatch would evaluate a shorter period over missing data
    # (or the alarm would be read as 60 s anyway), so only multiples of a minute are accepted.
    alarm_period_seconds: Literal[60, 300] = 60
    min_requests: int = Field(default=50, ge=0, description="fewer requests than this is 'too little data'")
    insufficient_data: InsufficientDataOutcome = InsufficientDataOutcome.FAIL


class CanaryAnalysisPolicy(_Strict):
    """How a canary step is judged against the baseline (lambdas/canary/judgement; docs/decisions/0020).

    Every field is read by ``judge_canary_step``; ``tollgate canary judge --env ENV`` applies the same values."""

    # Family-wise false-failure rate of a healthy step: the 5xx and the latency comparisons each run at alpha / 2.
    alpha: float = Field(default=0.05, gt=0, le=0.2)
    # Practical significance: the canary fails on 5xx only if its rate exceeds the baseline's by more than this
    # many percentage points, as well as significantly.
    error_rate_margin_percent: float = Field(default=0.5, ge=0, le=100)
    # The canary's p99 may be this much above the baseline's (percent) before it counts as slower.
    latency_tolerance_percent: float = Field(default=20, ge=0, le=1000)
    # Fewer requests than these over the compared periods: inconclusive, more traffic needed (extend the bake).
    min_canary_requests: int = Field(default=100, ge=1)
    min_baseline_requests: int = Field(default=100, ge=1)
    # Periods with a p99 on both sides needed before latency is judged (ALB publishes per minute, so with
    # period_seconds 60 this is minutes of bake); validated below so the latency test can fail at all.
    min_latency_periods: int = Field(default=6, ge=3, le=1440)
    # A side with no datapoints at all in the window: fail at once, or inconclusive (wait for traffic; never passes).
    no_data: Literal["fail", "inconclusive"] = "inconclusive"

    @model_validator(mode="after")
    def _latency_test_can_fail(self) -> CanaryAnalysisPolicy:
        # Each period where the canary's p99 beats the baseline's is at best a coin flip under the null (equal
        # request counts); all N periods beating it has probability 0.5**N, which must be below alpha / 2.
        needed = math.floor(math.log(self.alpha / 2) / math.log(0.5)) + 1
        if self.min_latency_periods < needed:
            raise ValueError(
                f"min_latency_periods {self.min_latency_periods} is too few for alpha {self.alpha}: even a canary "
                f"slower in every period could not fail; needs at least {needed}"
            )
        return self


class AlertRoute(_Strict):
    """Who hears about events of the given severities."""

    severities: tuple[Severity, ...] = Field(min_length=1)
    slack_channel: str | None = Field(default=None, pattern=r"^#[a-z0-9_-]{1,80}$")
    # The channel's ID, for the Web API (bot token): chat.update and conversations.history take an ID, not a
    # name (https://docs.slack.dev/reference/methods/chat.update/). Webhooks post to their own channel.
    slack_channel_id: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{8,20}$")
    emails: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_a_destination(self) -> AlertRoute:
        if not self.slack_channel and not self.emails:
            raise ValueError("a route needs a slack_channel or emails")
        if self.slack_channel_id and not self.slack_channel:
            raise ValueError("a route with a slack_channel_id needs its slack_channel (the name people read)")
        return self


class Alerts(_Strict):
    slack_webhook_secret: str = Field(min_length=1, description="Secrets Manager name; the value never enters code")
    # With a bot token each deployment is one living Slack message (docs/decisions/0100-living-slack-message.md).
    slack_bot_token_secret: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    # Buttons on the living message (Approve/Reject, Promote/Abort): Slack's signing secret (Secrets Manager name)
    # and which Slack users act as which approver (docs/decisions/0101-slack-buttons.md). Needs the bot token.
    slack_signing_secret: str | None = Field(default=None, min_length=1, pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")
    slack_approvers: dict[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,20}$")], str] = Field(default_factory=dict)
    routes: tuple[AlertRoute, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _bot_token_has_channel_ids(self) -> Alerts:
        if self.slack_signing_secret and not self.slack_bot_token_secret:
            raise ValueError("slack_signing_secret (buttons) needs slack_bot_token_secret (the living message)")
        if not self.slack_bot_token_secret:
            return self
        missing = sorted({r.slack_channel for r in self.routes if r.slack_channel and not r.slack_channel_id})
        if missing:
            raise ValueError(f"slack_bot_token_secret is set: every Slack route needs its slack_channel_id ({missing})")
        ids: dict[str, str] = {}
        for route in self.routes:
            if not (route.slack_channel and route.slack_channel_id):
                continue
            if ids.setdefault(route.slack_channel, route.slack_channel_id) != route.slack_channel_id:
                raise ValueError(f"{route.slack_channel} is given two different slack_channel_id values")
        if self.living_route() is None:
            raise ValueError(
                "slack_bot_token_secret is set: no route hears 'info' in a Slack channel (the living message)"
            )
        return self

    def living_route(self) -> AlertRoute | None:
        """The route whose channel carries each deployment's living message: the first Slack route hearing info."""
        return next((r for r in self.routes if Severity.INFO in r.severities and r.slack_channel), None)

    def channel_id(self, channel: str) -> str | None:
        return next(
            (r.slack_channel_id for r in self.routes if r.slack_channel == channel and r.slack_channel_id), None
        )


class ChangeFreeze(_Strict):
    start: datetime
    end: datetime
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_after_start(self) -> ChangeFreeze:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("freeze times need a timezone (e.g. 'Z')")
        if self.end <= self.start:
            raise ValueError("a freeze must end after it starts")
        return self


class Hook(StrEnum):
    """CodeDeploy ECS lifecycle hooks Tollgate answers, in the order they fire."""

    BEFORE_INSTALL = "BeforeInstall"
    AFTER_INSTALL = "AfterInstall"
    AFTER_ALLOW_TEST_TRAFFIC = "AfterAllowTestTraffic"
    BEFORE_ALLOW_TRAFFIC = "BeforeAllowTraffic"
    AFTER_ALLOW_TRAFFIC = "AfterAllowTraffic"


JsonScalar = str | int | float | bool | None


class HttpStep(_Strict):
    """One request of a synthetic flow. Strings in path, headers and json_body may use ``{variable}``: the
    synthetic user's ``{username}``/``{password}`` or a value an earlier step captured."""

    name: str = Field(min_length=1, max_length=64)
    method: Literal["GET", "POST", "PUT", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/")
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: dict[str, JsonValue] | None = None
    expect_status: tuple[int, ...] = Field(default=(200,), min_length=1)
    # Dotted JSON path -> acceptable values (strings may use {variable}).
    expect_json: dict[str, tuple[JsonScalar, ...]] = Field(default_factory=dict)
    expect_json_present: tuple[str, ...] = ()
    expect_body_contains: str | None = None
    latency_budget_ms: int = Field(default=2000, gt=0, le=60_000)
    # Variable name -> dotted JSON path of the response, for later steps.
    capture: dict[str, str] = Field(default_factory=dict)


class SyntheticFlow(_Strict):
    """A critical user flow of the LMS: ordered HTTP steps against one service's URL."""

    service: ServiceName
    uses_synthetic_user: bool = False
    steps: tuple[HttpStep, ...] = Field(min_length=1)


class HookChecks(_Strict):
    """What one hook checks for one service. Policy gates come from elsewhere in the config: the change
    freeze gate runs at BeforeInstall, the approval gate at BeforeAllowTraffic when
    ``deployment.requires_approval``."""

    flows: tuple[str, ...] = ()
    target: Literal["test", "production"] = "test"
    metric_gate: bool = False


class Checks(_Strict):
    """The checks the deployment hooks run, per hook and service."""

    synthetic_user_secret: str | None = Field(default=None, description="Secrets Manager name; JSON username/password")
    request_timeout_seconds: float = Field(default=10, gt=0, le=60)
    safety_margin_ms: int = Field(default=5000, ge=1000, le=60_000)
    hook_timeout_seconds: int = Field(default=120, ge=10, le=900)
    flows: dict[str, SyntheticFlow] = Field(default_factory=dict)
    hooks: dict[Hook, dict[ServiceName, HookChecks]] = Field(default_factory=dict)


class Records(_Strict):
    """The record of releases: ledger, pipeline metrics, GitHub build webhooks, post-deployment synthetics."""

    # A rollback, failure or critical alarm within this long after a deployment went live is its failure.
    change_failure_window_minutes: int = Field(default=60, ge=1, le=10_080)
    # Pipeline metrics look back this far and are published this often.
    metrics_lookback_days: int = Field(default=7, ge=1, le=90)
    metrics_every_minutes: int = Field(default=60, ge=5, le=1440)
    # Secrets Manager name of the GitHub webhook secret; None builds no webhook receiver.
    github_webhook_secret: str | None = Field(default=None, min_length=1)
    # A workflow_run delivery is a few KB; GitHub caps payloads at 25 MB, a function URL at 6 MB.
    webhook_max_body_bytes: int = Field(default=262_144, ge=1024, le=6_000_000)
    # Synthetics: every flow named here (None: every flow in checks.flows) against the production listener.
    synthetics_every_minutes: int = Field(default=5, ge=1, le=60)
    synthetics_flows: tuple[str, ...] | None = None
    # Consecutive failed runs that put a service's synthetics alarm in ALARM.
    synthetics_failed_runs_to_alarm: int = Field(default=2, ge=1, le=10)


# An IAM role or user of an account; `*` may stand for part of a name (ArnLike), never for the account.
PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9+=,.@_/*-]{1,512}$"


def iam_principal(arn: str) -> tuple[str, str] | None:
    """``("role" | "user", name)`` of an IAM principal ARN (the name is its path's last segment); None for a
    pattern with ``*`` (ArnLike), which names no one principal, or for anything else."""
    kind, _, path = arn.partition(":iam::")[2].partition(":")[2].partition("/")
    name = path.rsplit("/", 1)[-1]
    if kind not in ("role", "user") or not name or "*" in path:
        return None
    return kind, name


class Operators(_Strict):
    """Who may put operator requests (rollback, approve/reject, canary promote/abort) on Tollgate's bus.

    Tollgate's bus policy denies PutEvents of those detail types to every other principal (decision 0063).
    ``None`` means the conventional role ``tollgate-<environment>-operator`` of the environment's account.
    """

    principal_arns: tuple[Annotated[str, Field(pattern=PRINCIPAL_ARN)], ...] | None = Field(default=None, min_length=1)


class EnvironmentConfig(_Strict):
    name: Literal["development", "staging", "production"]
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    lms: Lms
    deployment: Deployment
    thresholds: Thresholds
    canary_analysis: CanaryAnalysisPolicy = Field(default_factory=CanaryAnalysisPolicy)
    alerts: Alerts
    change_freezes: tuple[ChangeFreeze, ...] = ()
    log_retention_days: int = 30
    lambda_architecture: Literal["arm64", "x86_64"] = "arm64"
    checks: Checks = Field(default_factory=Checks)
    records: Records = Field(default_factory=Records)
    # The customer-managed KMS key the LMS's secrets (Slack webhook, synthetic user) are encrypted with, if any:
    # functions reading them get kms:Decrypt on it through Secrets Manager only.
    secrets_key_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$"
    )
    operators: Operators = Field(default_factory=Operators)

    @property
    def operator_principal_arns(self) -> tuple[str, ...]:
        """The principals allowed to put operator requests (the conventional operator role unless configured)."""
        if self.operators.principal_arns is not None:
            return self.operators.principal_arns
        return (f"arn:aws:iam::{self.account}:role/tollgate-{self.name}-operator",)

    @field_validator("log_retention_days")
    @classmethod
    def _valid_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {LOG_RETENTION_DAYS}")
        return days

    @model_validator(mode="after")
    def _production_canary_fails_without_data(self) -> EnvironmentConfig:
        if self.name == "production" and self.canary_analysis.no_data != "fail":
            raise ValueError("canary_analysis.no_data must be 'fail' in production (no data never passes a canary)")
        return self

    @model_validator(mode="after")
    def _strategy_has_what_it_needs(self) -> EnvironmentConfig:
        uses_codedeploy = self.deployment.strategy is not Strategy.ROLLING
        if uses_codedeploy:
            if not self.lms.codedeploy_application:
                raise ValueError("lms.codedeploy_application is required for blue/green and canary")
            if self.lms.test_listener_port is None:
                raise ValueError("lms.test_listener_port is required for blue/green and canary")
            for name, service in self.lms.services.items():
                if not service.deployment_group or not service.target_groups.green:
                    raise ValueError(
                        f"lms.services.{name} needs deployment_group and target_groups.green for blue/green"
                    )
        if (self.deployment.strategy is Strategy.CANARY) != bool(self.deployment.canary_steps):
            raise ValueError("deployment.canary_steps is required for, and only for, the canary strategy")
        return self

    @model_validator(mode="after")
    def _canary_fits_the_hook_limit(self) -> EnvironmentConfig:
        deployment = self.deployment
        if deployment.strategy is not Strategy.CANARY:
            return self
        if deployment.requires_approval and not deployment.approvers:
            raise ValueError("deployment.approvers: name who may approve when deployment.requires_approval is true")
        budget = canary_time_budget(deployment)
        if budget.worst_case_seconds > budget.limit_seconds:
            raise ValueError(f"the canary cannot fit CodeDeploy's one-hour hook limit: {budget.explain()}")
        return self

    @model_validator(mode="after")
    def _checks_name_what_exists(self) -> EnvironmentConfig:
        services = self.lms.services
        for flow_name, flow in self.checks.flows.items():
            if flow.service not in services:
                raise ValueError(f"checks.flows.{flow_name}: unknown service '{flow.service}'")
            if flow.uses_synthetic_user and not self.checks.synthetic_user_secret:
                raise ValueError(f"checks.flows.{flow_name} uses the synthetic user: set checks.synthetic_user_secret")
        for hook, per_service in self.checks.hooks.items():
            for service_name, hook_checks in per_service.items():
                where = f"checks.hooks.{hook.value}.{service_name}"
                if service_name not in services:
                    raise ValueError(f"{where}: unknown service")
                for flow_name in hook_checks.flows:
                    used = self.checks.flows.get(flow_name)
                    if used is None:
                        raise ValueError(f"{where}: unknown flow '{flow_name}'")
                    if hook_checks.target == "test" and services[used.service].test_url is None:
                        raise ValueError(f"{where}: flow '{flow_name}' targets the test listener but has no test_url")
        return self

    @model_validator(mode="after")
    def _synthetics_name_flows(self) -> EnvironmentConfig:
        for flow_name in self.records.synthetics_flows or ():
            if flow_name not in self.checks.flows:
                raise ValueError(f"records.synthetics_flows: unknown flow '{flow_name}'")
        return self

    @model_validator(mode="after")
    def _slack_approvers_are_approvers(self) -> EnvironmentConfig:
        unknown = sorted(set(self.alerts.slack_approvers.values()) - set(self.deployment.approvers))
        if unknown:
            raise ValueError(f"alerts.slack_approvers: {unknown} not in deployment.approvers")
        return self

    @model_validator(mode="after")
    def _critical_events_reach_someone(self) -> EnvironmentConfig:
        # Tollgate's own health alarms page the critical routes' email addresses (SNS email subscriptions);
        # a Slack-only critical route would leave them reaching nobody.
        if not any(Severity.CRITICAL in route.severities and route.emails for route in self.alerts.routes):
            raise ValueError(
                "alerts.routes: no route hears 'critical' with emails; Tollgate's health alarms would page nobody"
            )
        return self

    @model_validator(mode="after")
    def _timeouts_fit(self) -> EnvironmentConfig:
        # A request that may take longer than its hook has left is cut off by Lambda, not reported.
        checks = self.checks
        budget_ms = checks.hook_timeout_seconds * 1000 - checks.safety_margin_ms
        if checks.request_timeout_seconds * 1000 >= budget_ms:
            raise ValueError(
                "checks.request_timeout_seconds: must be shorter than hook_timeout_seconds minus safety_margin_ms"
            )
        return self

    @model_validator(mode="after")
    def _network_is_in_this_region(self) -> EnvironmentConfig:
        network = self.lms.network
        if network is None:
            return self
        foreign = sorted({z for z in network.availability_zones if z[:-1] != self.region})
        if foreign:
            raise ValueError(
                f"lms.network.availability_zones: {foreign} are not in this environment's region {self.region} "
                "(a function's subnets are in its own region)"
            )
        return self

    @model_validator(mode="after")
    def _operators_are_of_this_account(self) -> EnvironmentConfig:
        # The bus policy's deny exempts these principals by aws:PrincipalArn; another account's principal would
        # also need an Allow on the bus, which Tollgate does not give, so naming one is a mistake.
        for arn in self.operators.principal_arns or ():
            if arn.split(":")[4] != self.account:
                raise ValueError(f"operators.principal_arns: {arn} is not in this environment's account {self.account}")
        return self

    def service_for_deployment_group(self, deployment_group: str) -> str | None:
        return next((n for n, s in self.lms.services.items() if s.deployment_group == deployment_group), None)


# CodeDeploy fails a lifecycle hook that has not reported within one hour
# (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html).
HOOK_LIMIT_SECONDS = 3600
# Left free inside the hour: the hook's start, Step Functions and Lambda latency, the final report.
HOOK_MARGIN_SECONDS = 600
# Per partial step: shifting, analysing (GetMetricData, flows) and one poll of slack around the bake.
CANARY_STEP_OVERHEAD_SECONDS = 120


class CanaryTimeBudget(BaseModel):
    """The longest a canary execution can take, from the fields that set it."""

    model_config = ConfigDict(frozen=True)

    approval_seconds: int
    partial_steps: tuple[int, ...]
    bake_seconds: int
    max_bake_extension_seconds: int
    bake_poll_seconds: int

    @property
    def per_step_seconds(self) -> int:
        return (
            self.bake_seconds + self.max_bake_extension_seconds + self.bake_poll_seconds + CANARY_STEP_OVERHEAD_SECONDS
        )

    @property
    def worst_case_seconds(self) -> int:
        return self.approval_seconds + len(self.partial_steps) * self.per_step_seconds

    @property
    def limit_seconds(self) -> int:
        return HOOK_LIMIT_SECONDS - HOOK_MARGIN_SECONDS

    def explain(self) -> str:
        return (
            f"deployment.approval_timeout_seconds ({self.approval_seconds}) + {len(self.partial_steps)} partial "
            f"deployment.canary_steps {list(self.partial_steps)} x (deployment.bake_seconds ({self.bake_seconds}) + "
            f"deployment.max_bake_extension_seconds ({self.max_bake_extension_seconds}) + "
            f"deployment.bake_poll_seconds ({self.bake_poll_seconds}) + {CANARY_STEP_OVERHEAD_SECONDS} s per step) = "
            f"{self.worst_case_seconds} s, more than the {self.limit_seconds} s left after a "
            f"{HOOK_MARGIN_SECONDS} s margin"
        )


def canary_time_budget(deployment: Deployment) -> CanaryTimeBudget:
    return CanaryTimeBudget(
        approval_seconds=deployment.approval_timeout_seconds if deployment.requires_approval else 0,
        partial_steps=tuple(step for step in deployment.canary_steps if step < 100),
        bake_seconds=deployment.bake_seconds,
        max_bake_extension_seconds=deployment.max_bake_extension_seconds,
        bake_poll_seconds=deployment.bake_poll_seconds,
    )


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"field '{field}': {item['msg']}")
    return "; ".join(parts)


def parse_environment(name: str, raw: object) -> EnvironmentConfig:
    """Validate one environment's raw config; errors name the environment and the field."""
    try:
        config = EnvironmentConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"environment '{name}': {_describe(error)}") from error
    if config.name != name:
        raise ConfigError(f"environment '{name}': field 'name': is '{config.name}', expected '{name}'")
    return config


def load_environment(name: str, directory: Path = ENVIRONMENTS_DIR) -> EnvironmentConfig:
    if name not in ENVIRONMENT_NAMES:
        raise ConfigError(f"environment '{name}': unknown; expected one of {', '.join(ENVIRONMENT_NAMES)}")
    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"environment '{name}': no config file at {path}") from error
    except json.JSONDecodeError as error:
        raise ConfigError(f"environment '{name}': {path} is not valid JSON ({error})") from error
    return parse_environment(name, raw)


def load_all_environments(directory: Path = ENVIRONMENTS_DIR) -> dict[str, EnvironmentConfig]:
    return {name: load_environment(name, directory) for name in ENVIRONMENT_NAMES}


@cache
def environment(name: str) -> EnvironmentConfig:
    """Cached config for the running function (one parse per container)."""
    return load_environment(name)
