"""A seeded LMS environment on the embedded AWS, ready for alarm and operator rollbacks.

Used by the functional tests and by the lead's benchmark (``alarm_to_stop_deployment``): it does not
depend on pytest. The embedded AWS must be running (``EmbeddedAws`` started) before it is used.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdas.core import aws
from lambdas.core.config import EnvironmentConfig, load_environment
from lambdas.rollback.alarms import AlarmKind, alarm_name
from tests.snapshots import built_once
from tests.unit.rollback.builders import alarm_state_change, deployment_state_change
from tollgate.commands.rollback import backdate_database_backups
from tollgate.embedded_aws import EmbeddedAws, extensions
from tollgate.embedded_aws.seed import SeededEnvironment, create_succeeded_deployment, seed_environment
from tollgate.embedded_aws.tables import IDEMPOTENCY_TABLE, STATE_TABLE, create_tollgate_tables
from tollgate.local.context import LocalLambdaContext
from tollgate.local.invoke import function_environment
from tollgate.local.recorder import AwsCall, CallRecorder

__all__ = [
    "RollbackScenario",
    "StopTiming",
    "alarm_state_change",
    "deployment_state_change",
    "rollback_scenario",
]


@dataclass
class RollbackScenario:
    config: EnvironmentConfig
    seeded: SeededEnvironment
    recorder: CallRecorder

    @property
    def bus_name(self) -> str:
        return f"tollgate-{self.config.name}"

    # -- deployments ------------------------------------------------------------------------------

    def succeeded_deployment(self, service: str, task_definition: str | None = None) -> str:
        return create_succeeded_deployment(self.config, self.seeded, service, task_definition_arn=task_definition)

    def in_flight_deployment(self, service: str) -> str:
        """A Succeeded deployment of the previous revision, then an InProgress one of the current revision."""
        seeded = self.seeded.service(service)
        self.succeeded_deployment(service, seeded.previous_task_definition_arn)
        lms = self.config.lms.services[service]
        deployment_id: str = aws.client("codedeploy").create_deployment(
            applicationName=self.config.lms.codedeploy_application,
            deploymentGroupName=lms.deployment_group,
            revision=_appspec(seeded.current_task_definition_arn, lms.container_name, lms.container_port),
            description=f"{service} release",
        )["deploymentId"]
        extensions.set_deployment_status(deployment_id, "InProgress")
        return deployment_id

    def finished_deployment(self, service: str) -> str:
        """The previous revision, then the current revision: both Succeeded, the latter just now."""
        seeded = self.seeded.service(service)
        self.succeeded_deployment(service, seeded.previous_task_definition_arn)
        return self.succeeded_deployment(service, seeded.current_task_definition_arn)

    # -- events -----------------------------------------------------------------------------------

    def alarm_event(
        self,
        service: str = "backend",
        kind: AlarmKind = AlarmKind.ERROR_RATE,
        *,
        state: str = "ALARM",
        event_id: str | None = None,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        suppressed_by: str | None = None,
        muted: bool = False,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        return alarm_state_change(
            name or alarm_name(self.config.name, service, kind),
            state=state,
            event_id=event_id,
            tags=tags,
            suppressed_by=suppressed_by,
            muted=muted,
            at=at,
            account=self.seeded.account_id,
            region=self.seeded.region,
        )

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        from lambdas.rollback.handler import handler  # noqa: PLC0415 - after the env vars are set

        return handler(event, LocalLambdaContext(function_name="tollgate-rollback"))

    def announcements(self) -> list[dict[str, Any]]:
        return [c.raw_params for c in self.recorder.named("PutEvents")]  # whole: details may be long

    # -- the benchmark's entry point --------------------------------------------------------------

    def alarm_to_stop_deployment(self, service: str = "backend") -> StopTiming:
        """From handing an ALARM event to the handler (in-process) to its StopDeployment request.

        Each call starts a fresh in-flight deployment, since a deployment is rolled back only once.
        """
        deployment_id = self.in_flight_deployment(service)
        event = self.alarm_event(service)
        self.recorder.clear()
        started = time.perf_counter()
        self.handle(event)
        calls = list(self.recorder.calls)
        stop = next(
            (
                i
                for i, c in enumerate(calls)
                if c.operation == "StopDeployment" and c.raw_params.get("deploymentId") == deployment_id
            ),
            None,
        )
        if stop is None:
            raise AssertionError(f"no StopDeployment for {deployment_id}")
        return StopTiming(seconds=calls[stop].at - started, calls_before=calls[:stop])


@dataclass(frozen=True)
class StopTiming:
    """One alarm's way to its StopDeployment request: how long it took, and the AWS calls made on the way."""

    seconds: float
    calls_before: list[AwsCall]

    @property
    def waiting_on_aws(self) -> float:
        """Seconds spent inside those calls (parameters built -> answer parsed); the rest is Tollgate's own."""
        return sum((c.answered_at or c.at) - c.at for c in self.calls_before)


def _appspec(task_definition: str, container: str, port: int) -> dict[str, Any]:
    from tollgate.embedded_aws.seed import appspec_revision, ecs_appspec  # noqa: PLC0415

    return appspec_revision(ecs_appspec(task_definition, container, port))


FUNCTION_ENVIRONMENT = (
    "TOLLGATE_ENVIRONMENT",
    "TOLLGATE_EVENT_BUS",
    "TOLLGATE_IDEMPOTENCY_TABLE",
    "TOLLGATE_STATE_TABLE",
)


def _seed(config: EnvironmentConfig) -> SeededEnvironment:
    create_tollgate_tables(aws.client("dynamodb"))
    aws.client("events").create_event_bus(Name=f"tollgate-{config.name}")
    seeded = seed_environment(config)
    backdate_database_backups(config, seeded.account_id, seeded.region)
    return seeded


@contextmanager
def rollback_scenario(
    environment: str = "production", *, ecs_deployments_completed: bool = True, embedded: EmbeddedAws | None = None
) -> Iterator[RollbackScenario]:
    """Seed ``environment`` into the running embedded AWS, set the function's env vars, record every AWS call;
    restores the env vars afterwards. With ``embedded``, the seeded environment is built once per process and
    restored from its snapshot after (tests/snapshots.py)."""
    config = load_environment(environment)
    values = {
        "TOLLGATE_ENVIRONMENT": environment,
        "TOLLGATE_EVENT_BUS": f"tollgate-{environment}",
        "TOLLGATE_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
        "TOLLGATE_STATE_TABLE": STATE_TABLE,
        # moto marks a new ECS service's deployment COMPLETED when this many tasks "run".
        "MOTO_ECS_SERVICE_RUNNING": "2" if ecs_deployments_completed else "0",
    }
    recorder = CallRecorder()
    with function_environment(values):
        try:
            if embedded is None:
                seeded = _seed(config)
            else:
                key = ("rollback", environment, ecs_deployments_completed)
                seeded = built_once(embedded, key, lambda: _seed(config))
            recorder.attach()
            yield RollbackScenario(config=config, seeded=seeded, recorder=recorder)
        finally:
            recorder.detach()
