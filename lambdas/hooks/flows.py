"""Synthetic transactions: run the LMS's critical user flows as ordered HTTP steps.

Step judgement is pure (``judge_step``); ``run_flow`` sends through an injected sender and stops at the
first failed step; ``run_flows`` runs flows concurrently, every request bounded by the deadline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from pydantic import JsonValue

from lambdas.core.config import HttpStep, JsonScalar, SyntheticFlow
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.errors import UnknownVariableError
from lambdas.hooks.http_client import HttpRequest, HttpRequestError, HttpResponse
from lambdas.hooks.model import CheckKind, CheckResult

Sender = Callable[[HttpRequest, float], HttpResponse]

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MISSING = object()
MAX_CONCURRENT_FLOWS = 32


@dataclass(frozen=True)
class FlowRun:
    """A flow to run: its name, its definition and the base URL it runs against."""

    name: str
    flow: SyntheticFlow
    base_url: str


@dataclass(frozen=True)
class StepOutcome:
    problems: tuple[str, ...]
    captures: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems


def render_text(text: str, variables: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise UnknownVariableError(f"'{{{name}}}' is not set by the synthetic user or an earlier step")
        return variables[name]

    return _VARIABLE.sub(substitute, text)


def render_json(value: JsonValue, variables: Mapping[str, str]) -> JsonValue:
    if isinstance(value, str):
        return render_text(value, variables)
    if isinstance(value, list):
        return [render_json(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: render_json(item, variables) for key, item in value.items()}
    return value


def lookup(document: object, path: str) -> object:
    """Value at a dotted JSON path (``items.0.id``), or ``_MISSING``."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _same(actual: object, expected: JsonScalar) -> bool:
    # JSON true is not 1: compare booleans only with booleans.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    return actual == expected


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def judge_step(step: HttpStep, response: HttpResponse, variables: Mapping[str, str]) -> StepOutcome:
    """Check one response against the step's assertions and collect its captures."""
    problems: list[str] = []
    if response.status not in step.expect_status:
        expected = " or ".join(str(code) for code in step.expect_status)
        problems.append(f"HTTP {response.status}, expected {expected}")
    if response.elapsed_ms > step.latency_budget_ms:
        problems.append(f"took {response.elapsed_ms:.0f} ms, budget {step.latency_budget_ms} ms")
    if step.expect_body_contains is not None and step.expect_body_contains.encode() not in response.body:
        problems.append(f"body does not contain {step.expect_body_contains!r}")
    captures: dict[str, str] = {}
    if step.expect_json or step.expect_json_present or step.capture:
        try:
            document = json.loads(response.body)
        except ValueError:
            problems.append("response is not JSON")
            return StepOutcome(problems=tuple(problems))
        for path in step.expect_json_present:
            if lookup(document, path) is _MISSING:
                problems.append(f"field '{path}' is missing")
        for path, allowed in step.expect_json.items():
            actual = lookup(document, path)
            wanted = [render_text(v, variables) if isinstance(v, str) else v for v in allowed]
            if actual is _MISSING:
                problems.append(f"field '{path}' is missing")
            elif not any(_same(actual, expected) for expected in wanted):
                problems.append(f"field '{path}' is {_show(actual)}, expected one of {_show(wanted)}")
        for variable, path in step.capture.items():
            value = lookup(document, path)
            if value is _MISSING or isinstance(value, dict | list) or value is None:
                problems.append(f"cannot capture '{variable}': field '{path}' is missing or not a scalar")
            else:
                captures[variable] = str(value).lower() if isinstance(value, bool) else str(value)
    return StepOutcome(problems=tuple(problems), captures=captures)


# A captured value shorter than this is not a credential (an id like "7"); redacting it would garble every
# number in the evidence. Tokens, session ids and the like are far longer.
MIN_REDACTED_CAPTURE = 4


def redact_text(text: str, secrets: frozenset[str] | set[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first, so a secret inside another goes too)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def redact_json(value: JsonValue, secrets: frozenset[str] | set[str]) -> JsonValue:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, list):
        return [redact_json(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact_text(k, secrets): redact_json(item, secrets) for k, item in value.items()}
    return value


_redact = redact_text


def secret_captures(captures: Mapping[str, str]) -> set[str]:
    """The captured values that are redacted everywhere (every capture long enough to be a credential)."""
    return {value for value in captures.values() if len(value) >= MIN_REDACTED_CAPTURE}


def build_request(step: HttpStep, base_url: str, variables: Mapping[str, str]) -> HttpRequest:
    headers = {name: render_text(value, variables) for name, value in step.headers.items()}
    headers.setdefault("User-Agent", "tollgate-synthetics")
    headers.setdefault("Accept", "application/json, text/html")
    body = None
    if step.json_body is not None:
        body = json.dumps(render_json(step.json_body, variables)).encode()
        headers.setdefault("Content-Type", "application/json")
    return HttpRequest(
        method=step.method, url=base_url.rstrip("/") + render_text(step.path, variables), headers=headers, body=body
    )


def run_flow(
    run: FlowRun,
    *,
    variables: Mapping[str, str],
    send: Sender,
    deadline: Deadline,
    request_timeout_seconds: float,
    secrets: frozenset[str] = frozenset(),
    captured: set[str] | None = None,
) -> CheckResult:
    """Run the flow's steps in order; the first failed step fails the flow with a readable reason.

    Every value a step captures (a token, an id) is a secret from then on: redacted from this flow's reasons
    and evidence, and added to ``captured`` so the caller redacts it from everything else it builds.
    """
    known = dict(variables)
    steps: list[JsonValue] = []
    hidden = set(secrets)

    def result(passed: bool, reason: str) -> CheckResult:
        return CheckResult(
            name=f"flow {run.name}",
            kind=CheckKind.SYNTHETIC_FLOW,
            passed=passed,
            reason=_redact(reason, hidden),
            details={"service": run.flow.service, "base_url": run.base_url, "steps": redact_json(steps, hidden)},
        )

    for step in run.flow.steps:
        where = f"step '{step.name}' ({step.method} {step.path})"
        remaining = deadline.remaining_seconds()
        if remaining <= 0:
            return result(False, f"{where}: no time left before the hook's deadline")
        try:
            request = build_request(step, run.base_url, known)
            response = send(request, min(request_timeout_seconds, remaining))
        except UnknownVariableError as error:
            return result(False, f"{where}: {error}")
        except HttpRequestError as error:
            steps.append({"name": step.name, "passed": False, "error": _redact(str(error), hidden)})
            return result(False, f"{where}: {error}")
        try:
            outcome = judge_step(step, response, known)
        except UnknownVariableError as error:
            return result(False, f"{where}: {error}")
        new_secrets = secret_captures(outcome.captures)
        hidden |= new_secrets
        if captured is not None:
            captured |= new_secrets
        steps.append(
            {
                "name": step.name,
                "passed": outcome.passed,
                "status": response.status,
                "elapsed_ms": round(response.elapsed_ms, 1),
                "problems": [_redact(problem, hidden) for problem in outcome.problems],
            }
        )
        if not outcome.passed:
            return result(False, f"{where}: {'; '.join(outcome.problems)}")
        known.update(outcome.captures)
    return result(True, f"{len(run.flow.steps)} steps passed")


def run_flows(
    runs: list[FlowRun],
    *,
    variables: Mapping[str, str],
    send: Sender,
    deadline: Deadline,
    request_timeout_seconds: float,
    secrets: frozenset[str] = frozenset(),
    captured: set[str] | None = None,
) -> tuple[CheckResult, ...]:
    """Run flows concurrently; a flow still running at the deadline fails as timed out."""
    if not runs:
        return ()
    executor = ThreadPoolExecutor(max_workers=min(len(runs), MAX_CONCURRENT_FLOWS), thread_name_prefix="flow")
    try:
        futures = [
            executor.submit(
                run_flow,
                run,
                variables=variables,
                send=send,
                deadline=deadline,
                request_timeout_seconds=request_timeout_seconds,
                secrets=secrets,
                captured=captured,
            )
            for run in runs
        ]
        wait(futures, timeout=max(0.0, deadline.remaining_seconds()))
        results = []
        for run, future in zip(runs, futures, strict=True):
            if future.done() and future.exception() is None:
                results.append(future.result())
            else:
                why = (
                    "did not finish before the hook's deadline"
                    if not future.done()
                    else f"crashed: {future.exception()!r}"
                )
                results.append(
                    CheckResult(name=f"flow {run.name}", kind=CheckKind.SYNTHETIC_FLOW, passed=False, reason=why)
                )
        return tuple(results)
    finally:
        # Never wait for a stuck request: its own timeout ends it.
        executor.shutdown(wait=False, cancel_futures=True)
