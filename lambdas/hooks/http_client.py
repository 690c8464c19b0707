"""Adapter: one HTTP request with urllib (stdlib only: nothing else ships in the function)."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


class HttpRequestError(Exception):
    """The request got no HTTP response (refused, timed out, DNS, TLS)."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    elapsed_ms: float


# Enough to judge a JSON answer or an HTML shell; a bigger body is not read.
MAX_BODY_BYTES = 1_000_000


def send_http(request: HttpRequest, timeout_seconds: float) -> HttpResponse:
    """Send ``request``; any HTTP status is a response, anything without one raises HttpRequestError."""
    if not request.url.startswith(("http://", "https://")):
        raise HttpRequestError(f"refusing a non-HTTP URL: {request.url}")
    prepared = urllib.request.Request(  # noqa: S310 - scheme checked above
        request.url, data=request.body, headers=request.headers, method=request.method
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(prepared, timeout=timeout_seconds) as answer:  # noqa: S310  # nosec B310
            body = answer.read(MAX_BODY_BYTES)
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        body = error.read(MAX_BODY_BYTES)
        status = int(error.code)
    except urllib.error.URLError as error:
        raise HttpRequestError(_describe(error.reason)) from error
    except TimeoutError as error:
        raise HttpRequestError(f"no response within {timeout_seconds:.1f} s") from error
    except (ConnectionError, OSError, http.client.HTTPException) as error:
        raise HttpRequestError(_describe(error)) from error
    return HttpResponse(status=status, body=body, elapsed_ms=(time.monotonic() - started) * 1000)


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no response before the timeout"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return str(reason) or type(reason).__name__
