"""Settings of the synthetics function, checked at cold start."""

from __future__ import annotations

from pydantic import Field

from lambdas.core.settings import FunctionSettings
from lambdas.ledger.settings import load_settings


class SyntheticsSettings(FunctionSettings):
    state_table: str = Field(alias="TOLLGATE_STATE_TABLE", min_length=3)  # the run lease lives there


def synthetics_settings() -> SyntheticsSettings:
    return load_settings(SyntheticsSettings, "synthetics")
