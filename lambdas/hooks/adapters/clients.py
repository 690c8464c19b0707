"""AWS clients whose retries and timeouts fit the time left before a deadline.

One client per (service, policy), cached with the process's other clients (``lambdas.core.aws``), so local
tooling's event hooks reach it and a session reset forgets it.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from lambdas.core import aws
from lambdas.hooks.deadline import CallPolicy, Deadline, call_policy


def client_for(service: str, policy: CallPolicy) -> Any:
    return aws.client(
        service,
        Config(
            retries={"mode": "standard", "max_attempts": policy.attempts},
            connect_timeout=policy.connect_timeout,
            read_timeout=policy.read_timeout,
            user_agent_extra="tollgate",
        ),
        variant=policy,
    )


def budgeted_client(service: str, deadline: Deadline) -> Any:
    """A client for ``service`` whose worst case ends before ``deadline``; OutOfTimeError when none can."""
    return client_for(service, call_policy(deadline.remaining_seconds()))
