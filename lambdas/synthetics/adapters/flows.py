"""Adapter: run the flows over HTTP with the hooks' flow runner and HTTP client (same steps, same checks)."""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.core.config import EnvironmentConfig
from lambdas.hooks.adapters.secrets import load_synthetic_user
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.flows import FlowRun, run_flows
from lambdas.hooks.http_client import send_http
from lambdas.hooks.model import CheckResult


class HttpFlowRunner:
    def __init__(self, config: EnvironmentConfig, deadline: Deadline) -> None:
        self._config, self._deadline = config, deadline

    def run(self, runs: Sequence[FlowRun]) -> tuple[CheckResult, ...]:
        variables: dict[str, str] = {}
        hidden: frozenset[str] = frozenset()
        secret = self._config.checks.synthetic_user_secret
        if secret and any(r.flow.uses_synthetic_user for r in runs):
            user = load_synthetic_user(secret, deadline=self._deadline)
            variables, hidden = {"username": user.username, "password": user.password}, frozenset({user.password})
        return run_flows(
            list(runs),
            variables=variables,
            send=send_http,
            deadline=self._deadline,
            request_timeout_seconds=self._config.checks.request_timeout_seconds,
            secrets=hidden,
        )
