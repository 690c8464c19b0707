"""Settings of the ledger's functions: the shared variables plus the ledger table, checked at cold start.

The parsed model is cached per distinct set of ``TOLLGATE_*`` variables: once per Lambda container, and
still right when one local process invokes many functions with different variables in turn.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import Field, ValidationError

from lambdas.core.config import ConfigError
from lambdas.core.settings import FunctionSettings

Model = TypeVar("Model", bound=FunctionSettings)


class LedgerSettings(FunctionSettings):
    ledger_table: str = Field(alias="TOLLGATE_LEDGER_TABLE", min_length=3)


def _variables() -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in os.environ.items() if k.startswith("TOLLGATE_"))


@cache
def _parse(model: type[FunctionSettings], variables: frozenset[tuple[str, str]], what: str) -> FunctionSettings:
    try:
        return model.model_validate(dict(variables))
    except ValidationError as error:
        missing = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise ConfigError(f"{what} settings: missing or invalid environment variables: {missing}") from error


def load_settings(model: type[Model], what: str) -> Model:
    parsed = _parse(model, _variables(), what)
    if not isinstance(parsed, model):  # pragma: no cover - _parse returns an instance of the model it was given
        raise TypeError(f"{what} settings: expected {model.__name__}")
    return parsed


def ledger_settings() -> LedgerSettings:
    return load_settings(LedgerSettings, "ledger")
