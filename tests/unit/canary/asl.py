"""A small interpreter of the synthesized canary state machine, driving the real task use cases on fakes.

It follows Amazon States Language as Step Functions does for the states the canary uses (Task with
Retry/Catch/TimeoutSeconds and .waitForTaskToken, Choice, Wait, Pass, Succeed, Fail), so tests can walk
every path of the real definition with a fault in any task. Waits advance a fake clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lambdas.canary.controller import run_task
from lambdas.canary.model import TaskRequest
from lambdas.core.config import EnvironmentConfig
from tests.unit.canary.fakes import World


class TaskError(Exception):
    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause


@dataclass
class Run:
    status: str = ""
    error: str = ""
    visited: list[str] = field(default_factory=list)


def _get(document: Any, path: str, context: dict[str, Any]) -> Any:
    if path.startswith("$$."):
        current: Any = context
        parts = path[3:].split(".")
    else:
        current = document
        parts = [p for p in path[2:].split(".") if p] if path != "$" else []
    for part in parts:
        current = current[part]
    return current


def _parameters(template: Any, document: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _get(document, value, context)
            else:
                out[key] = _parameters(value, document, context)
        return out
    return template


def _put(document: Any, path: str | None, value: Any) -> Any:
    if path is None or path == "$":
        return value
    result = copy.deepcopy(document)
    result[path[2:]] = value
    return result


def _matches(errors: list[str], error: str) -> bool:
    return "States.ALL" in errors or error in errors or ("States.TaskFailed" in errors and error != "States.Timeout")


@dataclass
class Interpreter:
    definition: dict[str, Any]
    world: World
    config: EnvironmentConfig
    now: datetime
    # state name -> how many more invocations of it fail (an injected fault)
    faults: dict[str, int] = field(default_factory=dict)
    # called when the approval wait has begun (the task ran and no release happened yet)
    during_approval: Callable[[Interpreter], None] | None = None
    # called after each Wait state with the wait's state name
    after_wait: Callable[[Interpreter, str], None] | None = None
    max_transitions: int = 500

    def run(self, execution_input: dict[str, Any]) -> Run:
        run = Run()
        document: Any = execution_input
        name = self.definition["StartAt"]
        for _ in range(self.max_transitions):
            state = self.definition["States"][name]
            run.visited.append(name)
            kind = state["Type"]
            if kind == "Succeed":
                run.status = "SUCCEEDED"
                return run
            if kind == "Fail":
                run.status, run.error = "FAILED", state.get("Error", "")
                return run
            if kind == "Pass":
                document = _put(document, state.get("ResultPath", "$"), state.get("Result", document))
            elif kind == "Wait":
                self.now += timedelta(seconds=state["Seconds"])
                if self.after_wait:
                    self.after_wait(self, name)
            elif kind == "Choice":
                name = self._choose(state, document)
                continue
            elif kind == "Task":
                try:
                    result = self._task(name, state, document)
                except TaskError as error:
                    catcher = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], error.error)), None)
                    if catcher is None:
                        run.status, run.error = "FAILED", error.error
                        return run
                    document = _put(
                        document, catcher.get("ResultPath", "$"), {"Error": error.error, "Cause": error.cause}
                    )
                    name = catcher["Next"]
                    continue
                document = _put(document, state.get("ResultPath", "$"), result)
            if state.get("End"):
                run.status = "SUCCEEDED"
                return run
            name = state["Next"]
        raise AssertionError(f"no end after {self.max_transitions} transitions: {run.visited[-20:]}")

    def _choose(self, state: dict[str, Any], document: Any) -> str:
        for choice in state["Choices"]:
            if _get(document, choice["Variable"], {}) == choice["StringEquals"]:
                return str(choice["Next"])
        return str(state["Default"])

    def _task(self, name: str, state: dict[str, Any], document: Any) -> Any:
        attempts: dict[str, int] = {}
        while True:
            try:
                return self._invoke_once(name, state, document)
            except TaskError as error:
                retrier = next((r for r in state.get("Retry", []) if _matches(r["ErrorEquals"], error.error)), None)
                key = str(retrier["ErrorEquals"]) if retrier else ""
                attempts[key] = attempts.get(key, 0) + 1
                if retrier is None or attempts[key] > retrier.get("MaxAttempts", 3):
                    raise

    def _invoke_once(self, name: str, state: dict[str, Any], document: Any) -> Any:
        token = f"token-{name}-{len(self.world.executions.released)}"
        context = {"Task": {"Token": token}}
        payload = _parameters(state["Parameters"]["Payload"], document, context)
        waits = state["Resource"].endswith(".waitForTaskToken")
        if waits:
            self.world.executions.open_tokens.add(token)
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            raise TaskError("Fault", f"injected fault in {name}")
        try:
            output = run_task(
                TaskRequest.model_validate(payload), config=self.config, ports=self.world.ports, now=self.now
            ).model_dump(mode="json")
        except Exception as error:
            raise TaskError(type(error).__name__, str(error)) from error
        if waits:
            released = self._released(token)
            if released is None and self.during_approval:
                self.during_approval(self)
                released = self._released(token)
            if released is None:
                self.world.executions.open_tokens.discard(token)
                raise TaskError("States.Timeout", "the approval wait timed out")
            kind, detail = released
            if kind != "success":
                raise TaskError(kind, str(detail.get("cause", "")))
            return detail
        selected = {
            key[:-2]: _get({"Payload": output}, path, {}) for key, path in state.get("ResultSelector", {}).items()
        }
        return selected or output

    def _released(self, token: str) -> tuple[str, dict[str, Any]] | None:
        for released_token, kind, detail in self.world.executions.released:
            if released_token == token:
                return kind, dict(detail)
        return None
