"""The one place a ClientError's code is read."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from lambdas.core.errors import describe, error_code, is_access_denied, is_throttling, is_timeout


def _client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "StopDeployment")


@pytest.mark.parametrize(
    ("error", "code", "throttling", "denied"),
    [
        (_client_error("ThrottlingException"), "ThrottlingException", True, False),
        (_client_error("AccessDeniedException"), "AccessDeniedException", False, True),
        (_client_error("DeploymentAlreadyCompletedException"), "DeploymentAlreadyCompletedException", False, False),
        (ClientError({}, "X"), "Unknown", False, False),
        (EndpointConnectionError(endpoint_url="http://x"), "EndpointConnectionError", False, False),
    ],
)
def test_error_code_and_kinds(error: BaseException, code: str, throttling: bool, denied: bool) -> None:
    assert error_code(error) == code
    assert is_throttling(error) is throttling
    assert is_access_denied(error) is denied


def test_timeouts_and_descriptions() -> None:
    assert is_timeout(ReadTimeoutError(endpoint_url="http://x"))
    assert not is_timeout(_client_error("Throttling"))
    assert describe(_client_error("AccessDenied", "no")) == "AccessDenied: no"
    assert describe(_client_error("AccessDenied")) == "AccessDenied"
    assert describe(ValueError("bad")) == "ValueError: bad"
