"""Synthetic flow steps: rendering, judging, capturing, and running with a fake sender."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdas.core.config import HttpStep, SyntheticFlow
from lambdas.hooks.deadline import Deadline
from lambdas.hooks.flows import (
    FlowRun,
    UnknownVariableError,
    build_request,
    judge_step,
    lookup,
    render_text,
    run_flow,
    run_flows,
)
from lambdas.hooks.http_client import HttpRequest, HttpRequestError, HttpResponse


def response(status: int = 200, body: object = None, elapsed_ms: float = 10.0) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
    return HttpResponse(status=status, body=raw, elapsed_ms=elapsed_ms)


def far_deadline() -> Deadline:
    return Deadline(at=time.monotonic() + 30)


@pytest.mark.parametrize(
    ("step", "answer", "problem"),
    [
        (HttpStep(name="s", path="/"), response(503), "HTTP 503, expected 200"),
        (HttpStep(name="s", path="/", latency_budget_ms=100), response(elapsed_ms=250), "took 250 ms, budget 100 ms"),
        (HttpStep(name="s", path="/", expect_json={"status": ("ok",)}), response(body={"status": "down"}), "is 'down'"),
        (HttpStep(name="s", path="/", expect_json={"status": ("ok",)}), response(body={}), "'status' is missing"),
        (HttpStep(name="s", path="/", expect_json_present=("id",)), response(body=b"<html>"), "not JSON"),
        (HttpStep(name="s", path="/", expect_json={"synthetic": (True,)}), response(body={"synthetic": 1}), "is 1"),
        (
            HttpStep(name="s", path="/", expect_body_contains="root"),
            response(body=b"<html></html>"),
            "does not contain",
        ),
        (HttpStep(name="s", path="/", capture={"id": "items"}), response(body={"items": [1]}), "cannot capture 'id'"),
    ],
    ids=["status", "latency", "wrong-value", "missing", "not-json", "bool-is-not-int", "body", "capture-non-scalar"],
)
def test_judge_step_names_each_problem(step: HttpStep, answer: HttpResponse, problem: str) -> None:
    # Given a step and a response that breaks one assertion
    # When it is judged
    outcome = judge_step(step, answer, {})
    # Then it fails naming that problem
    assert not outcome.passed
    assert any(problem in p for p in outcome.problems), outcome.problems


def test_judge_step_captures_and_compares_rendered_values() -> None:
    # Given a step expecting an id captured earlier and capturing the status
    step = HttpStep(name="read", path="/x", expect_json={"id": ("{app}",)}, capture={"state": "status"})
    # When the response matches
    outcome = judge_step(step, response(body={"id": "a1", "status": "submitted"}), {"app": "a1"})
    # Then it passes and captures
    assert outcome.passed
    assert outcome.captures == {"state": "submitted"}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="{}"), max_size=30))
def test_render_leaves_text_without_variables_alone(text: str) -> None:
    assert render_text(text, {}) == text


def test_render_refuses_unknown_variables() -> None:
    with pytest.raises(UnknownVariableError, match="token"):
        render_text("Bearer {token}", {})


@pytest.mark.parametrize(
    ("document", "path", "found"),
    [({"a": {"b": 1}}, "a.b", 1), ({"a": [5, 6]}, "a.1", 6), ({"a": [5]}, "a.3", None), ({"a": 1}, "a.b", None)],
)
def test_lookup_dotted_paths(document: object, path: str, found: object) -> None:
    result = lookup(document, path)
    assert (result if found is not None else result is not found) == (found if found is not None else True)


def test_build_request_renders_body_headers_and_path() -> None:
    # Given a step using variables everywhere
    step = HttpStep(
        name="s",
        method="POST",
        path="/apps/{id}",
        headers={"Authorization": "Bearer {token}"},
        json_body={"user": "{username}", "n": 3},
    )
    # When the request is built
    request = build_request(step, "http://lms/", {"id": "7", "token": "t", "username": "u"})
    # Then everything is filled in
    assert request.url == "http://lms/apps/7"
    assert request.headers["Authorization"] == "Bearer t"
    assert json.loads(request.body or b"") == {"user": "u", "n": 3}


FLOW = SyntheticFlow(
    service="backend",
    uses_synthetic_user=True,
    steps=(
        HttpStep(
            name="sign in",
            method="POST",
            path="/token",
            json_body={"password": "{password}"},
            capture={"token": "token"},
        ),
        HttpStep(name="use", path="/me", headers={"Authorization": "Bearer {token}"}, expect_json={"ok": (True,)}),
    ),
)


def test_run_flow_passes_captures_forward() -> None:
    # Given a sender that answers a token, then checks it
    seen: list[HttpRequest] = []

    def send(request: HttpRequest, timeout: float) -> HttpResponse:
        seen.append(request)
        if request.url.endswith("/token"):
            return response(body={"token": "abc"})
        return response(body={"ok": request.headers.get("Authorization") == "Bearer abc"})

    # When the flow runs
    result = run_flow(
        FlowRun("f", FLOW, "http://lms"),
        variables={"password": "pw"},
        send=send,
        deadline=far_deadline(),
        request_timeout_seconds=5,
    )
    # Then both steps pass in order
    assert result.passed, result.reason
    assert [r.url for r in seen] == ["http://lms/token", "http://lms/me"]


def test_run_flow_redacts_secrets_from_reasons() -> None:
    # Given an LMS that echoes the password back in a field we check
    def send(request: HttpRequest, timeout: float) -> HttpResponse:
        return response(body={"token": "abc", "ok": "pw-very-secret"})

    # When the flow fails on that field
    result = run_flow(
        FlowRun("f", FLOW, "http://lms"),
        variables={"password": "pw-very-secret"},
        send=send,
        deadline=far_deadline(),
        request_timeout_seconds=5,
        secrets=frozenset({"pw-very-secret"}),
    )
    # Then the reason and evidence never contain the password
    assert not result.passed
    assert "pw-very-secret" not in result.model_dump_json()
    assert "***" in result.reason


def test_run_flow_bounds_each_request_by_the_deadline() -> None:
    # Given 2 s left and a 10 s request timeout
    timeouts: list[float] = []

    def send(request: HttpRequest, timeout: float) -> HttpResponse:
        timeouts.append(timeout)
        raise HttpRequestError("connection refused")

    # When the flow runs
    result = run_flow(
        FlowRun("f", FLOW, "http://lms"),
        variables={"password": "x"},
        send=send,
        deadline=Deadline(at=time.monotonic() + 2),
        request_timeout_seconds=10,
    )
    # Then the request got at most the time left, and the refusal is the reason
    assert timeouts and timeouts[0] <= 2
    assert "connection refused" in result.reason


def test_run_flow_with_no_time_left_fails_without_sending() -> None:
    sent: list[HttpRequest] = []
    result = run_flow(
        FlowRun("f", FLOW, "http://lms"),
        variables={"password": "x"},
        send=lambda r, t: sent.append(r) or response(),  # type: ignore[func-returns-value]
        deadline=Deadline(at=time.monotonic() - 1),
        request_timeout_seconds=10,
    )
    assert not result.passed and "no time left" in result.reason
    assert sent == []


def test_run_flows_runs_concurrently_and_fails_stragglers_at_the_deadline() -> None:
    # Given one flow that hangs past the deadline and three quick ones
    release = threading.Event()
    all_quick_in_flight = threading.Barrier(3, timeout=5)
    quick = SyntheticFlow(service="backend", steps=(HttpStep(name="q", path="/quick"),))
    hang = SyntheticFlow(service="backend", steps=(HttpStep(name="h", path="/hang"),))

    def send(request: HttpRequest, timeout: float) -> HttpResponse:
        if request.url.endswith("/hang"):
            release.wait(5)
            return response()
        # Each quick flow waits until all three are in flight: only concurrent runs get past this
        all_quick_in_flight.wait()
        return response()

    runs = [FlowRun(f"quick-{n}", quick, "http://lms") for n in range(3)] + [FlowRun("hang", hang, "http://lms")]
    # When they run with a 1 s deadline
    results = run_flows(
        runs, variables={}, send=send, deadline=Deadline(at=time.monotonic() + 1), request_timeout_seconds=5
    )
    release.set()
    # Then the quick ones passed together (run one after another, the barrier would have broken them)
    # and the hung one failed as timed out
    assert [r.passed for r in results] == [True, True, True, False]
    assert "deadline" in results[3].reason
