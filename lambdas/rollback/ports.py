"""Ports the rollback needs from other capabilities, with the stand-ins used until they exist."""

from __future__ import annotations

from typing import Protocol

from lambdas.core.observability import logger


class TrafficRestorer(Protocol):
    """Puts 100% of production traffic back on blue before a canary deployment is stopped.

    Tollgate's own canary sets the listener weights itself (10% -> 50% -> 100%), so stopping the
    CodeDeploy deployment alone could leave the weights where the canary put them.
    """

    def restore_blue(self, *, environment: str, service: str, deployment_id: str) -> bool:
        """Return True when weights were changed, False when there was nothing to restore."""
        ...


class NoCanaryController:
    """The stand-in until the canary controller provides a TrafficRestorer: changes nothing."""

    def restore_blue(self, *, environment: str, service: str, deployment_id: str) -> bool:
        logger.info(
            "no canary controller wired: listener weights left to CodeDeploy's rollback",
            extra={"environment": environment, "lms_service": service, "deployment_id": deployment_id},
        )
        return False
