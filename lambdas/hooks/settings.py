"""The hook function's settings: its environment variables, read once per container into one typed model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lambdas.core.config import ConfigError, EnvironmentConfig, Hook, environment
from lambdas.hooks.errors import HookSetupError


class HookSettings(BaseModel):
    """Variables the stack sets on each hook function."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    environment: str = Field(alias="TOLLGATE_ENVIRONMENT", min_length=1)
    event_bus: str = Field(alias="TOLLGATE_EVENT_BUS", min_length=1)
    hook: str = Field(alias="TOLLGATE_HOOK", min_length=1)
    state_table: str | None = Field(default=None, alias="TOLLGATE_STATE_TABLE")
    # AfterAllowTraffic with a metric gate: the post-shift watch it starts (stacks/constructs/after_shift.py).
    after_shift_state_machine: str | None = Field(default=None, alias="TOLLGATE_AFTER_SHIFT_STATE_MACHINE_ARN")
    # Local runs only: send every synthetic flow to this base URL (the stand-in LMS) instead of the config's.
    synthetics_base_url: str | None = Field(default=None, alias="TOLLGATE_SYNTHETICS_BASE_URL")


@dataclass(frozen=True)
class HookSetup:
    settings: HookSettings
    config: EnvironmentConfig
    hook: Hook


def load_setup(variables: Mapping[str, str]) -> HookSetup:
    """Settings, environment config and hook, or a HookSetupError naming the variable that is wrong."""
    try:
        settings = HookSettings.model_validate(dict(variables))
    except ValidationError as error:
        names = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise HookSetupError(f"hook settings: missing or invalid environment variables: {names}") from error
    try:
        hook = Hook(settings.hook)
    except ValueError as error:
        raise HookSetupError(
            f"TOLLGATE_HOOK is {settings.hook!r}; expected one of {', '.join(h.value for h in Hook)}"
        ) from error
    try:
        config = environment(settings.environment)
    except ConfigError as error:
        raise HookSetupError(f"TOLLGATE_ENVIRONMENT: {error}") from error
    return HookSetup(settings=settings, config=config, hook=hook)


_VARIABLES = tuple(field.alias or name for name, field in HookSettings.model_fields.items())


def hook_setup() -> HookSetup | HookSetupError:
    """Checked once per container (cold start: Lambda's variables never change); a broken setup is kept, so
    every invocation reports it. Keyed by the variables' values, as local runs host several functions."""
    return _setup_for(tuple((name, os.environ.get(name)) for name in _VARIABLES))


@cache
def _setup_for(variables: tuple[tuple[str, str | None], ...]) -> HookSetup | HookSetupError:
    try:
        return load_setup({name: value for name, value in variables if value is not None})
    except HookSetupError as error:
        return error
