"""AWS clients, created lazily once per container and shared by the adapters.

Standard retry mode retries throttling and transient errors with backoff. The endpoint comes from
the standard ``AWS_ENDPOINT_URL`` variable when set (the embedded AWS sets it), so local runs take
the same code path as Lambda.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, create_loader

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="tollgate",
)

_lock = threading.Lock()
_sessions: list[boto3.session.Session] = []  # at most one: the process's session, created on first use
_clients: dict[tuple[str, Hashable], Any] = {}  # (service, variant) -> client
# Service models parsed once per process: a session reset (the local runtime's, between embedded AWS
# runs) must not parse every model's JSON again. In Lambda there is one session per container anyway.
_loaders: list[Loader] = []


def session() -> boto3.session.Session:
    """The one boto3 session of this process; local tooling registers botocore event hooks on it."""
    with _lock:
        if not _sessions:
            if not _loaders:
                _loaders.append(create_loader())
            core = botocore.session.get_session()
            core.register_component("data_loader", _loaders[0])
            _sessions.append(boto3.session.Session(botocore_session=core))
            # boto3 appends its own data folder to the loader's search paths on every new session.
            paths = _loaders[0].search_paths
            paths[:] = list(dict.fromkeys(paths))
        return _sessions[0]


def client(service: str, config: Config | None = None, *, variant: Hashable = None) -> Any:
    """A cached client for ``service`` (created on first use, never at import time).

    ``config`` with a ``variant`` naming it gives a client of its own for callers whose retries and timeouts
    differ (the hooks fit each call into the invocation's remaining time); every client comes from the one
    session, so ``register_hook`` reaches it.
    """
    if config is not None and variant is None:
        raise ValueError(f"a {service} client with its own config needs a variant naming it")
    cache_key = (service, variant)
    existing = _clients.get(cache_key)
    if existing is not None:
        return existing
    created = session().client(service, config=_CONFIG if config is None else config)
    with _lock:
        return _clients.setdefault(cache_key, created)


def register_hook(event_name: str, handler: Callable[..., Any], unique_id: str) -> None:
    """Register a botocore event hook on the session and on every client created so far (idempotent).

    A client copies the session's hooks when it is created, so a hook on the session alone would miss the
    clients that exist and local tooling (the call recorder, the tests' fault injector) would have to drop
    them all and pay for creating each again (~10 ms). Not for use while other threads create clients.
    """
    for emitter in _emitters():
        emitter.register(event_name, handler, unique_id=unique_id)


def unregister_hook(event_name: str, unique_id: str) -> None:
    """Remove a hook that ``register_hook`` registered, from the session and every client."""
    for emitter in _emitters():
        emitter.unregister(event_name, unique_id=unique_id)


def _emitters() -> list[Any]:
    events = session().events
    with _lock:
        return [events, *(created.meta.events for created in _clients.values())]


def reset() -> None:
    """Forget the session and clients (the local runtime calls this between embedded AWS runs)."""
    with _lock:
        _sessions.clear()
        _clients.clear()
