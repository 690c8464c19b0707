"""AWS clients whose retries and timeouts fit the time left before a deadline.

One client per (service, policy), created on first use from the process's one boto3 session (so local
tooling's event hooks apply) and forgotten when that session is replaced.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from lambdas.core import aws
from lambdas.hooks.deadline import CallPolicy, Deadline, call_policy

_lock = threading.Lock()
_session: list[boto3.session.Session] = []
_clients: dict[tuple[str, CallPolicy], Any] = {}


def client_for(service: str, policy: CallPolicy) -> Any:
    session = aws.session()
    with _lock:
        if not _session or _session[0] is not session:
            _session[:] = [session]
            _clients.clear()
        existing = _clients.get((service, policy))
    if existing is not None:
        return existing
    created = session.client(
        service,
        config=Config(
            retries={"mode": "standard", "max_attempts": policy.attempts},
            connect_timeout=policy.connect_timeout,
            read_timeout=policy.read_timeout,
            user_agent_extra="tollgate",
        ),
    )
    with _lock:
        return _clients.setdefault((service, policy), created)


def budgeted_client(service: str, deadline: Deadline) -> Any:
    """A client for ``service`` whose worst case ends before ``deadline``; OutOfTimeError when none can."""
    return client_for(service, call_policy(deadline.remaining_seconds()))
