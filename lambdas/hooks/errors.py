"""Every error the deployment hooks raise, in one module, each a TollgateError."""

from __future__ import annotations

from lambdas.core.errors import TollgateError


class HookError(TollgateError):
    """Base of the hooks' domain errors."""


class HookSetupError(HookError):
    """The function's settings, config or hook name are missing or invalid."""


class OutOfTimeError(HookError):
    """Too little of the invocation is left for the AWS call to fit."""


class DeploymentLookupError(HookError):
    """GetDeployment failed or the deployment does not exist."""


class UnknownDeploymentError(HookError):
    """The deployment belongs to no service of this environment."""


class MissingCheckConfigError(HookError):
    """The config does not say what this hook checks for this service."""


class MissingStateTableError(HookError):
    """A check needs the state table and the function has none configured."""


class UnknownVariableError(HookError):
    """A step uses a ``{variable}`` that neither the synthetic user nor an earlier step provides."""


class MetricsError(HookError):
    """CloudWatch did not answer GetMetricData."""


class SyntheticUserError(HookError):
    """The synthetic user's secret is missing or not ``{"username": ..., "password": ...}``."""


class TrafficError(HookError):
    """The target group carrying the new release cannot be determined."""


class AnnounceFailedError(HookError):
    """The verdict could not be put on Tollgate's bus."""


class ReportError(HookError):
    """PutLifecycleEventHookExecutionStatus failed.

    ``permanent``: no retry can report (unknown deployment or execution, malformed request).
    ``access_denied``: the function may not report; only a person can fix it, so the invocation raises.
    """

    def __init__(self, message: str, *, permanent: bool = False, access_denied: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.access_denied = access_denied


class UnreportableHookError(HookError):
    """The hook's status could not be reported (refused, or no time left). Raised out of the handler so the
    invocation errors: Lambda retries it and Tollgate's health alarm pages someone."""


class WatchError(Exception):
    """The post-shift watch could not be started (Step Functions refused or failed)."""
