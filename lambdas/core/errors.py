"""One error vocabulary: how a ClientError's code is read, and the base of Tollgate's domain errors.

Adapters turn botocore's errors into domain errors here and nowhere else, so "is this throttling?"
or "was that refused?" has one answer across every function.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

# https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html (standard mode's throttling codes)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException"}
)
CONDITION_FAILED = "ConditionalCheckFailedException"


class TollgateError(Exception):
    """Base of every domain error Tollgate raises; each capability's errors derive from it."""


class StateTableError(TollgateError):
    """Tollgate's state table could not be read or written."""


def error_code(error: BaseException) -> str:
    """The AWS error code of ``error``: the ClientError's code, else the botocore error's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "Unknown")
    if isinstance(error, BotoCoreError):
        return type(error).__name__
    return type(error).__name__


def is_throttling(error: BaseException) -> bool:
    return error_code(error) in THROTTLING_CODES


def is_access_denied(error: BaseException) -> bool:
    return error_code(error) in ACCESS_DENIED_CODES


def is_timeout(error: BaseException) -> bool:
    return isinstance(error, ConnectTimeoutError | ReadTimeoutError)


def describe(error: BaseException) -> str:
    """A one-line description for logs and reasons: the code and, for a ClientError, its message."""
    if isinstance(error, ClientError):
        message = str(error.response.get("Error", {}).get("Message") or "")
        return f"{error_code(error)}: {message}" if message else error_code(error)
    return f"{type(error).__name__}: {error}"
