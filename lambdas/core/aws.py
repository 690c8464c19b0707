"""AWS clients, created lazily once per container and shared by the adapters.

Standard retry mode retries throttling and transient errors with backoff. The endpoint comes from
the standard ``AWS_ENDPOINT_URL`` variable when set (the embedded AWS sets it), so local runs take
the same code path as Lambda.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="tollgate",
)

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[str, Any] = {}


def session() -> boto3.session.Session:
    """The one boto3 session of this process; local tooling registers botocore event hooks on it."""
    global _session
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session


def client(service: str) -> Any:
    """A cached client for ``service`` (created on first use, never at import time)."""
    existing = _clients.get(service)
    if existing is not None:
        return existing
    created = session().client(service, config=_CONFIG)
    with _lock:
        return _clients.setdefault(service, created)


def reset() -> None:
    """Forget the session and clients (the local runtime calls this between embedded AWS runs)."""
    global _session
    with _lock:
        _session = None
        _clients.clear()
