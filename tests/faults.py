"""Fault injection at AWS call sites, through botocore's event hooks on the functions' one session.

Used by the fault-injection suites of every function: each AWS call site gets throttling, AccessDenied,
a 5xx and a timeout, and each step boundary gets a kill (``SimulatedKill``: a Lambda timeout between two
AWS calls), after which the test replays the platform's retry. Faults answer before the request is sent
(``kill_after`` lets the call reach AWS first), so the injected answer is what the function's retries
would finally see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from lambdas.core import aws


class SimulatedKill(BaseException):
    """The function died here (a Lambda timeout): derived from BaseException so no ``except Exception``
    in the code under test can swallow it, exactly as nothing survives a real timeout."""


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    ACCESS_DENIED = "access_denied"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    KILL_BEFORE = "kill_before"  # the function dies just before the call is sent
    KILL_AFTER = "kill_after"  # the call succeeded in AWS, then the function died before using the answer


CALL_FAULTS = (FaultKind.THROTTLE, FaultKind.ACCESS_DENIED, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT)
KILLS = (FaultKind.KILL_BEFORE, FaultKind.KILL_AFTER)

_ERRORS = {
    FaultKind.THROTTLE: (400, "ThrottlingException", "Rate exceeded (injected)"),
    FaultKind.ACCESS_DENIED: (403, "AccessDeniedException", "not authorized (injected)"),
    FaultKind.SERVER_ERROR: (500, "InternalFailure", "internal error (injected)"),
}


@dataclass
class _Rule:
    operation: str
    kind: FaultKind
    nth: int  # the nth call of the operation after the rule was set (1-based) is the first hit
    times: int  # how many consecutive calls from the nth are hit
    offset: int = 0  # calls of the operation made before the rule was set
    hits: int = 0

    def fires(self, call_number: int) -> bool:
        if self.nth <= call_number - self.offset < self.nth + self.times:
            self.hits += 1
            return True
        return False


@dataclass
class FaultInjector:
    """Faults for the calls of every client of the session, those created before ``attach`` and after."""

    rules: list[_Rule] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)  # every call seen, "service:Operation", in order
    _counts: dict[str, int] = field(default_factory=dict)

    def inject(self, operation: str, kind: FaultKind, *, nth: int = 1, times: int = 1) -> FaultInjector:
        """``operation`` is "Operation" or "service:Operation" (e.g. "dynamodb:PutItem")."""
        offset = sum(n for name, n in self._counts.items() if operation in (name, name.split(":", 1)[1]))
        self.rules.append(_Rule(operation=operation, kind=kind, nth=nth, times=times, offset=offset))
        return self

    def clear(self) -> None:
        self.rules.clear()
        self.operations.clear()
        self._counts.clear()

    def hit(self) -> int:
        return sum(rule.hits for rule in self.rules)

    def attach(self) -> None:
        aws.register_hook("before-call", self._before_call, "tollgate-faults-before")
        aws.register_hook("after-call", self._after_call, "tollgate-faults-after")

    def detach(self) -> None:
        aws.unregister_hook("before-call", "tollgate-faults-before")
        aws.unregister_hook("after-call", "tollgate-faults-after")

    def _matching(self, model: Any, call_number: int, kinds: tuple[FaultKind, ...]) -> _Rule | None:
        name = f"{model.service_model.service_name}:{model.name}"
        for rule in self.rules:
            if rule.kind in kinds and rule.operation in (model.name, name) and rule.fires(call_number):
                return rule
        return None

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        name = f"{model.service_model.service_name}:{model.name}"
        self.operations.append(name)
        self._counts[name] = call_number = self._counts.get(name, 0) + 1
        context["tollgate_fault_call_number"] = call_number
        rule = self._matching(model, call_number, (*CALL_FAULTS, FaultKind.KILL_BEFORE))
        if rule is None:
            return None
        if rule.kind is FaultKind.KILL_BEFORE:
            raise SimulatedKill(f"killed before {model.name}")
        if rule.kind is FaultKind.TIMEOUT:
            raise ReadTimeoutError(endpoint_url=f"injected://{model.name}")
        status, code, message = _ERRORS[rule.kind]
        response = AWSResponse(f"injected://{model.name}", status, {}, None)
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
        }
        return response, parsed

    def _after_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        call_number = int(context.get("tollgate_fault_call_number", 0))
        if self._matching(model, call_number, (FaultKind.KILL_AFTER,)) is not None:
            raise SimulatedKill(f"killed after {model.name}")


@contextmanager
def injected_faults() -> Iterator[FaultInjector]:
    injector = FaultInjector()
    injector.attach()
    try:
        yield injector
    finally:
        injector.detach()
