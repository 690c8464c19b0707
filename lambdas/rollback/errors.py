"""The rollback capability's domain errors, in one module; each derives from Tollgate's ``TollgateError``."""

from __future__ import annotations

from lambdas.core.errors import TollgateError


class RollbackError(TollgateError):
    """Base of the rollback functions' errors."""


class DeploymentLookupError(RollbackError):
    """The service's deployments could not be read."""


class RollbackActionError(RollbackError):
    """AWS refused a rollback action (stop, redeploy or service update)."""


class AlarmTagsError(RollbackError):
    """CloudWatch did not give the alarm's tags."""


class InvalidRequestError(RollbackError, ValueError):
    """An operator's rollback request that cannot be carried out as given (one line, naming the field)."""
