"""Adapter: the synthetic user's credentials from Secrets Manager (never logged, never in evidence)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core.errors import error_code
from lambdas.hooks.adapters.clients import budgeted_client
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import OutOfTimeError, SyntheticUserError


@dataclass(frozen=True)
class SyntheticUser:
    username: str
    password: str = field(repr=False)


def load_synthetic_user(secret_name: str, *, deadline: Deadline, client: Any | None = None) -> SyntheticUser:
    try:
        secretsmanager = client or budgeted_client("secretsmanager", deadline)
        raw = secretsmanager.get_secret_value(SecretId=secret_name)["SecretString"]
    except (ClientError, BotoCoreError, OutOfTimeError, KeyError) as error:
        raise SyntheticUserError(f"secret {secret_name}: {error_code(error)}") from error
    try:
        value = json.loads(raw)
        return SyntheticUser(username=str(value["username"]), password=str(value["password"]))
    except (ValueError, KeyError, TypeError) as error:
        # The message never includes the value: it is a credential.
        raise SyntheticUserError(f"secret {secret_name} is not JSON with username and password") from error


class SecretsManagerSecrets:
    """The SecretsReader port on Secrets Manager."""

    def synthetic_user(self, secret_name: str, *, deadline: Deadline) -> SyntheticUser:
        return load_synthetic_user(secret_name, deadline=deadline)
