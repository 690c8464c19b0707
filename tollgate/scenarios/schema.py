"""The scenario file: one story of a release, what the LMS does meanwhile, what is injected, what must happen.

Validated with pydantic; a mistake is one line naming the file and the field
(``events/scenarios/x.yaml: field 'events[1].alarm.kind': ...``). docs/scenarios.md documents every field.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from lambdas.core.config import Hook
from lambdas.rollback.alarms import AlarmKind

_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")


class ScenarioError(Exception):
    """A scenario file cannot be read or does not follow the schema: one line naming the file and the field."""


def parse_duration(value: object) -> int:
    """``90``, ``"90s"``, ``"2m"``, ``"1m30s"``, ``"1h"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 90s, 2m or 1m30s")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    raise ValueError(f"expected a duration like 90s, 2m or 1m30s, got {value!r}")


Seconds = Annotated[int, BeforeValidator(parse_duration)]


class Capability(StrEnum):
    """Parts of Tollgate a scenario needs beyond what every world has; a scenario needing a missing one is skipped."""

    CANARY_CONTROLLER = "canary-controller"


class Version(StrEnum):
    NEW = "new"  # the release being deployed
    OLD = "old"  # the release serving before it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Release(_Strict):
    service: str
    version: str = Field(default="v1.6.0", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


class LmsFault(_Strict):
    """From ``from`` (until ``until``, or the end) the ``version``'s answers misbehave."""

    start: Seconds = Field(default=0, alias="from")
    until: Seconds | None = None
    version: Version = Version.NEW
    error_percent: float = Field(default=0.0, ge=0, le=100)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    wrong_answers: bool = False
    refused: bool = False
    # (canary) only while the new version carries at least this share of production traffic, e.g. 50: a
    # release that breaks under load. The canary's pace is the state machine's, so this is how a scenario
    # says "at the 50% step" without guessing when that step comes.
    from_percent: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _a_window(self) -> LmsFault:
        if self.until is not None and self.until <= self.start:
            raise ValueError("'until' must be after 'from'")
        if not (self.error_percent or self.latency_ms or self.wrong_answers or self.refused):
            raise ValueError("a fault needs one of error_percent, latency_ms, wrong_answers, refused")
        return self

    def active_at(self, t: int) -> bool:
        return self.start <= t and (self.until is None or t < self.until)


class AlarmInjection(_Strict):
    kind: AlarmKind
    service: str | None = None  # default: the release's service
    count: int = Field(default=1, ge=1, le=1000)  # a storm: the same alarm delivered this many times


class OperatorAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    PROMOTE = "promote"
    ABORT = "abort"


class OperatorInjection(_Strict):
    action: OperatorAction
    by: str = Field(default="ana", min_length=1)


class RollbackType(StrEnum):
    SERVICE = "service"
    DATABASE = "database"
    FULL = "full"


class OperatorRollbackInjection(_Strict):
    type: RollbackType
    services: tuple[str, ...] = Field(default=(), min_length=0)  # default: the release's service
    confirmed: bool = True
    by: str = Field(default="ana", min_length=1)


class Injection(_Strict):
    """One thing that happens at ``at``; exactly one of the kinds."""

    at: Seconds
    alarm: AlarmInjection | None = None
    operator: OperatorInjection | None = None
    duplicate_hook: Hook | None = None
    operator_rollback: OperatorRollbackInjection | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Injection:
        kinds = [k for k in ("alarm", "operator", "duplicate_hook", "operator_rollback") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("an event needs exactly one of alarm, operator, duplicate_hook, operator_rollback")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("alarm", "operator", "duplicate_hook", "operator_rollback") if getattr(self, k))


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"  # the new version serves at the end
    ROLLED_BACK = "rolled-back"  # the old version serves at the end, because Tollgate or CodeDeploy put it back


class Expectations(_Strict):
    outcome: Outcome
    deployment_status: Literal["Succeeded", "Failed", "Stopped"] | None = None
    stop_deployments: int | None = Field(default=None, ge=0)
    rollbacks: int | None = Field(default=None, ge=0)
    failed_gate: Hook | None = None  # the hook whose verdict failed the deployment
    alerts: tuple[str, ...] = ()  # each must appear in some Slack message or email summary
    no_alerts: tuple[str, ...] = ()  # none may appear
    database_restored: bool | None = None
    # Production canary: the new version's traffic shares seen, in order, and the share at the end.
    canary_steps: tuple[int, ...] | None = None
    final_traffic_percent: int | None = Field(default=None, ge=0, le=100)


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    title: str = Field(min_length=1)
    environment: Literal["development", "staging", "production"]
    requires: tuple[Capability, ...] = ()
    release: Release
    step_seconds: Seconds = 60  # virtual time each lifecycle step takes
    watch: Seconds = 0  # virtual time watched after the deployment ended (for alarms in the watch window)
    lms: tuple[LmsFault, ...] = ()
    events: tuple[Injection, ...] = ()
    expect: Expectations

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        if self.step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        canary_only = {OperatorAction.PROMOTE, OperatorAction.ABORT}
        needs_controller = any(e.operator and e.operator.action in canary_only for e in self.events) or (
            self.expect.canary_steps is not None
        )
        if needs_controller and Capability.CANARY_CONTROLLER not in self.requires:
            raise ValueError("promote, abort and expect.canary_steps need 'requires: [canary-controller]'")
        return self


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file; ScenarioError names the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror or error}") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ScenarioError(f"{path}: not YAML{where}: {getattr(error, 'problem', None) or error}") from error
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of fields (name, title, environment, release, expect ...)")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(f"{path}: {_first_problem(error)}") from error
    _check_against_config(path, scenario)
    return scenario


def _first_problem(error: ValidationError) -> str:
    problems = error.errors()
    first = problems[0]
    field = _field_path(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    where = f"field '{field}': " if field else ""
    return f"{where}{message}{more}"


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts:
            parts.append(f".{item}")
        else:
            parts.append(str(item))
    return "".join(parts)


def _check_against_config(path: Path, scenario: Scenario) -> None:
    """Names the scenario uses must exist in its environment's config."""
    from lambdas.core.config import ConfigError, load_environment  # noqa: PLC0415 - only once the file is valid

    try:
        config = load_environment(scenario.environment)
    except ConfigError as error:
        raise ScenarioError(f"{path}: {error}") from error
    known = ", ".join(config.lms.services)
    if scenario.release.service not in config.lms.services:
        raise ScenarioError(
            f"{path}: field 'release.service': {scenario.environment} has no service "
            f"'{scenario.release.service}' (known: {known})"
        )
    for n, event in enumerate(scenario.events):
        named = [event.alarm.service] if event.alarm and event.alarm.service else []
        named += list(event.operator_rollback.services) if event.operator_rollback else []
        for service in named:
            if service not in config.lms.services:
                field = "alarm.service" if event.alarm else "operator_rollback.services"
                raise ScenarioError(
                    f"{path}: field 'events[{n}].{field}': {scenario.environment} has no service "
                    f"'{service}' (known: {known})"
                )
