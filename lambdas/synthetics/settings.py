"""Settings of the synthetics function, checked at cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import Field, ValidationError

from lambdas.core.config import ConfigError
from lambdas.core.settings import FunctionSettings


class SyntheticsSettings(FunctionSettings):
    state_table: str = Field(alias="TOLLGATE_STATE_TABLE", min_length=3)  # the run lease lives there


@cache
def synthetics_settings() -> SyntheticsSettings:
    try:
        return SyntheticsSettings.model_validate(dict(os.environ))
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ConfigError(f"synthetics settings: missing or invalid environment variables: {missing}") from error
