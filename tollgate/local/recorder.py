"""Record every AWS call the handlers make, through botocore's event hooks.

The hooks sit on the one boto3 session of ``lambdas.core.aws``, so every client the functions use
(their own and the ones Powertools gets from that session) reports its calls here. The replay report
is built from this record, never from a plan.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
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
    # ``time.perf_counter()`` when the call was made (its parameters built) and when its answer was parsed:
    # the bench times "alarm -> StopDeployment request" and the time spent waiting on AWS from these.
    at: float = field(default=0.0, repr=False, compare=False)
    answered_at: float | None = field(default=None, repr=False, compare=False)

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


# Operations that only read: what ``mutating`` leaves out.
_READS = ("Describe", "Get", "List", "BatchGet")
# Tollgate's own state table and bus: writing them changes nothing of the LMS.
_OWN_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "PutEvents"})


@dataclass
class CallRecorder:
    """Every AWS call made through ``lambdas.core.aws.session()``, in order, with its parameters and error code.

    A botocore ``before-parameter-build`` hook (once per API call, retries excluded, parameters as the caller
    passed them) and an ``after-call`` hook (the error code of a failed call), on the session and on the clients
    it has made. Calls go to ``current_function``; calls from several threads (a storm of alarms) are recorded
    safely.
    """

    current_function: str = "tollgate"
    calls: list[AwsCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def attach(self) -> None:
        """Record the calls of every client of the session, those created so far and later (idempotent)."""
        aws.register_hook("before-parameter-build", self._before_call, "tollgate-recorder-before")
        aws.register_hook("after-call", self._after_call, "tollgate-recorder-after")

    def detach(self) -> None:
        """Stop recording (the calls recorded so far stay)."""
        aws.unregister_hook("before-parameter-build", "tollgate-recorder-before")
        aws.unregister_hook("after-call", "tollgate-recorder-after")

    def _before_call(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = AwsCall(
            function=self.current_function,
            service=model.service_model.service_name,
            operation=model.name,
            params=redact(dict(params)),
            raw_params=dict(params),
            at=time.perf_counter(),
        )
        with self._lock:
            self.calls.append(call)
            context["tollgate_recorded_call"] = (call, len(self.calls) - 1)

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        answered_at = time.perf_counter()
        recorded = context.get("tollgate_recorded_call")
        if recorded is None:
            return
        call, index = recorded
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        answered = replace(call, error=str(error) if error else None, answered_at=answered_at)
        with self._lock:
            # Still where it was appended unless the record was cleared meanwhile (then there is nothing to
            # update): other threads only append after it.
            if index < len(self.calls) and self.calls[index] is call:
                self.calls[index] = answered

    def since(self, start: int) -> list[AwsCall]:
        return self.calls[start:]

    def named(self, operation: str) -> list[AwsCall]:
        return [c for c in self.calls if c.operation == operation]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def mutating(self) -> list[str]:
        """Operations that change AWS resources of the LMS (Tollgate's own tables and bus excluded)."""
        changes = (c.operation for c in self.calls if not c.operation.startswith(_READS))
        return [operation for operation in changes if operation not in _OWN_WRITES]
