"""Adapter: the synthetic user's credentials from Secrets Manager (never logged, never in evidence)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.core import aws


class SyntheticUserError(Exception):
    """The synthetic user's secret is missing or not ``{"username": ..., "password": ...}``."""


@dataclass(frozen=True)
class SyntheticUser:
    username: str
    password: str = field(repr=False)


def load_synthetic_user(secret_name: str, *, client: Any | None = None) -> SyntheticUser:
    secretsmanager = client or aws.client("secretsmanager")
    try:
        raw = secretsmanager.get_secret_value(SecretId=secret_name)["SecretString"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise SyntheticUserError(f"secret {secret_name}: {code}") from error
    except (BotoCoreError, KeyError) as error:
        raise SyntheticUserError(f"secret {secret_name}: {type(error).__name__}") from error
    try:
        value = json.loads(raw)
        return SyntheticUser(username=str(value["username"]), password=str(value["password"]))
    except (ValueError, KeyError, TypeError) as error:
        # The message never includes the value: it is a credential.
        raise SyntheticUserError(f"secret {secret_name} is not JSON with username and password") from error
