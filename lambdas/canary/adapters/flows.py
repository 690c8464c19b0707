"""Adapter: the hooks' production synthetic flows, run once per bake poll so the canary gets traffic."""

from __future__ import annotations

from typing import Any

from lambdas.core.config import EnvironmentConfig, Hook
from lambdas.hooks.adapters.secrets import load_synthetic_user
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import SyntheticUserError
from lambdas.hooks.flows import run_flows
from lambdas.hooks.http_client import send_http
from lambdas.hooks.plan import MissingCheckConfigError, plan_checks


class ProductionFlows:
    def __init__(self, config: EnvironmentConfig, *, deadline: Deadline, base_url_override: str | None) -> None:
        self._config = config
        self._deadline = deadline
        self._override = base_url_override

    def run(self, service: str) -> dict[str, Any]:
        try:
            plan = plan_checks(self._config, Hook.AFTER_ALLOW_TRAFFIC, service, base_url_override=self._override)
        except MissingCheckConfigError as error:
            return {"passed": True, "reason": f"no production flows: {error}", "checks": []}
        variables: dict[str, str] = {}
        # Values the flows capture (a bearer token) join the secrets, so no check's evidence carries them.
        secrets: set[str] = set()
        if plan.uses_synthetic_user and self._config.checks.synthetic_user_secret:
            try:
                user = load_synthetic_user(self._config.checks.synthetic_user_secret, deadline=self._deadline)
            except SyntheticUserError as error:
                return {"passed": False, "reason": str(error), "checks": []}
            variables = {"username": user.username, "password": user.password}
            secrets.add(user.password)
        results = run_flows(
            list(plan.flow_runs),
            variables=variables,
            send=send_http,
            deadline=self._deadline,
            request_timeout_seconds=self._config.checks.request_timeout_seconds,
            secrets=frozenset(secrets),
            captured=secrets,
        )
        failed = [r for r in results if not r.passed]
        return {
            "passed": not failed,
            "reason": "; ".join(r.reason for r in failed) or f"{len(results)} flows passed",
            "checks": [r.model_dump(mode="json") for r in results],
        }
