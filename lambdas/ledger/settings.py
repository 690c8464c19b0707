"""Settings of the ledger's functions: the shared variables plus the ledger table, checked at cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import Field, ValidationError

from lambdas.core.config import ConfigError
from lambdas.core.settings import FunctionSettings


class LedgerSettings(FunctionSettings):
    ledger_table: str = Field(alias="TOLLGATE_LEDGER_TABLE", min_length=3)


@cache
def ledger_settings() -> LedgerSettings:
    try:
        return LedgerSettings.model_validate(dict(os.environ))
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ConfigError(f"ledger settings: missing or invalid environment variables: {missing}") from error
