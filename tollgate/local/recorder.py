"""Record every AWS call the handlers make, through botocore's event hooks.

The hooks sit on the one boto3 session of ``lambdas.core.aws``, so every client the functions use
(their own and the ones Powertools gets from that session) reports its calls here. The replay report
is built from this record, never from a plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lambdas.core import aws

_SECRET_KEY = re.compile(r"secret|password|token|authorization|credential", re.IGNORECASE)
_MAX_STRING = 2000


@dataclass(frozen=True)
class AwsCall:
    function: str
    service: str
    operation: str
    params: dict[str, Any]
    error: str | None = None
    # The unredacted parameters, kept in memory only (the local bus needs PutEvents entries whole).
    raw_params: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        out = {"function": self.function, "service": self.service, "operation": self.operation, "params": self.params}
        if self.error:
            out["error"] = self.error
        return out


def redact(value: Any, key: str = "") -> Any:
    """Secrets never reach a report; long strings are cut."""
    if key and _SECRET_KEY.search(key) and key not in {"SecretId", "Name"}:
        return "***"
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, str) and len(value) > _MAX_STRING:
        return value[:_MAX_STRING] + "…"
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass
class CallRecorder:
    """Attach with ``attach()`` before any client exists; calls go to ``current_function``."""

    current_function: str = "tollgate"
    calls: list[AwsCall] = field(default_factory=list)
    _pending: dict[int, int] = field(default_factory=dict)

    def attach(self) -> None:
        aws.reset()  # clients copy the session's hooks when created: start from a fresh session
        events = aws.session().events
        events.register("before-parameter-build", self._before_call, unique_id="tollgate-recorder-before")
        events.register("after-call", self._after_call, unique_id="tollgate-recorder-after")

    def _before_call(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls.append(
            AwsCall(
                function=self.current_function,
                service=model.service_model.service_name,
                operation=model.name,
                params=redact(dict(params)),
                raw_params=dict(params),
            )
        )
        context["tollgate_call_index"] = len(self.calls) - 1

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        index = context.get("tollgate_call_index")
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if index is not None and error:
            call = self.calls[index]
            self.calls[index] = AwsCall(
                call.function, call.service, call.operation, call.params, str(error), call.raw_params
            )

    def since(self, start: int) -> list[AwsCall]:
        return self.calls[start:]
