"""Run a function's real handler in-process, as Lambda would: its env vars, a context, one event."""

from __future__ import annotations

import copy
import importlib
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from typing import Any

from lambdas.core.settings import settings
from tollgate.local.context import LocalLambdaContext


@dataclass(frozen=True)
class Invocation:
    function: str
    output: Any
    error: str | None
    logs: str

    @property
    def decision(self) -> str:
        if self.error:
            return "error"
        if isinstance(self.output, dict) and "decision" in self.output:
            return str(self.output["decision"])
        return "done"

    @property
    def reason(self) -> str:
        if self.error:
            return self.error
        if isinstance(self.output, dict):
            return str(self.output.get("reason", ""))
        return ""


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    settings.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings.cache_clear()


def _handler(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


class _LogSink(io.TextIOBase):
    """Where Powertools' log handler writes locally: the current invocation's buffer, if any."""

    def __init__(self) -> None:
        self.target: io.StringIO | None = None

    def write(self, text: str) -> int:
        return self.target.write(text) if self.target is not None else len(text)


_SINK = _LogSink()


def _capture_logs() -> None:
    """Point the shared Powertools log handler at the sink (once; assigning avoids flushing the old stream)."""
    from lambdas.core.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    if getattr(handler, "stream", None) is not _SINK:
        handler.stream = _SINK  # type: ignore[attr-defined]


def invoke_handler(
    *,
    function_name: str,
    handler: str,
    environment: Mapping[str, str],
    event: Any,
    timeout_seconds: float = 30.0,
    memory_mb: int = 256,
    region: str = "eu-west-1",
    account: str = "123456789012",
) -> Invocation:
    """Invoke and capture the output, the error (never raised) and the logs (kept off stdout)."""
    logs = io.StringIO()
    # What the Lambda runtime sets; Powertools reads some of them (e.g. idempotency keys).
    runtime = {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "_HANDLER": handler,
    }
    with function_environment({**runtime, **environment}):
        context = LocalLambdaContext(
            function_name=function_name,
            timeout_seconds=timeout_seconds,
            memory_limit_in_mb=memory_mb,
            region=region,
            account=account,
        )
        _capture_logs()
        _SINK.target = logs
        try:
            with redirect_stdout(logs):
                output = _handler(handler)(copy.deepcopy(event), context)
            error = None
        except Exception as exc:
            output, error = None, f"{type(exc).__name__}: {exc}"
        finally:
            _SINK.target = None
    return Invocation(function=function_name, output=output, error=error, logs=logs.getvalue())
