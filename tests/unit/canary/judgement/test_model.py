"""ANALYSIS.json: parsed strictly, every malformation named, and it round-trips."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.canary.judgement import (
    AnalysisFormatError,
    CanaryAnalysis,
    MetricSeries,
    analysis_to_json,
    judge_canary_step,
    parse_analysis,
)
from lambdas.core.config import load_environment
from tests.fuzz import hostile_events
from tests.unit.canary.judgement.helpers import SAMPLES_DIR, sample


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_sample_parses_and_round_trips(path: Any) -> None:
    # Given a sample file / When parsed and written back / Then it is the same JSON and the same analysis
    raw = json.loads(path.read_text(encoding="utf-8"))
    parsed = parse_analysis(raw)
    assert analysis_to_json(parsed) == raw
    assert parse_analysis(analysis_to_json(parsed)) == parsed


def test_null_means_no_datapoint_and_counts_are_kept_exactly() -> None:
    # Given the healthy sample / When parsed
    parsed = parse_analysis(sample("healthy"))
    # Then nulls stay None, counts are floats of whole numbers, p99 in seconds
    raw = sample("healthy")
    assert parsed.canary.errors_5xx == tuple(
        None if v is None else float(v) for v in raw["canary"]["HTTPCode_Target_5XX_Count"]
    )
    assert parsed.baseline.p99_seconds == tuple(raw["baseline"]["TargetResponseTime_p99"])
    assert parsed.periods == len(raw["canary"]["RequestCount"])


def _mutated(path: tuple[Any, ...], value: Any) -> Any:
    raw = copy.deepcopy(sample("healthy"))
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("service",), "", "service: expected a service name"),
        (("service",), 7, "service: expected a service name"),
        (("step_percent",), 0, "step_percent: expected a whole number in 1..100"),
        (("step_percent",), True, "step_percent: expected a whole number in 1..100"),
        (("step_percent",), 10.5, "step_percent: expected a whole number in 1..100"),
        (("period_seconds",), -60, "period_seconds: expected a whole number in 1..86400"),
        (("canary",), [], "canary: expected an object"),
        (("canary", "RequestCount"), "97", "canary.RequestCount: expected a list, got a string"),
        (("canary", "RequestCount"), None, "canary.RequestCount: expected a list, got null"),
        (("canary", "RequestCount", 0), -1, "canary.RequestCount[0]: expected a finite non-negative number"),
        (("canary", "RequestCount", 1), 10.5, "canary.RequestCount[1]: a count must be a whole number"),
        (("canary", "RequestCount", 1), 10**400, "canary.RequestCount[1]: expected a finite non-negative number"),
        (("canary", "RequestCount", 1), 1e15, "canary.RequestCount[1]: a count must be a whole number up to"),
        (("baseline", "HTTPCode_Target_5XX_Count", 2), "2", "baseline.HTTPCode_Target_5XX_Count[2]: expected a number"),
        (("baseline", "HTTPCode_Target_5XX_Count", 2), False, "expected a number or null, got a boolean"),
        (("baseline", "TargetResponseTime_p99", 0), float("nan"), "TargetResponseTime_p99[0]: expected a finite"),
        (("baseline", "TargetResponseTime_p99", 0), float("inf"), "TargetResponseTime_p99[0]: expected a finite"),
        (("canary", "TargetResponseTime_p99", 0), -0.1, "canary.TargetResponseTime_p99[0]: expected a finite"),
        (("canary", "TargetResponseTime_p99"), [0.4], "canary.TargetResponseTime_p99: has 1 values"),
        (("baseline", "RequestCount"), [1] * 9, "baseline.RequestCount: has 9 values, canary.RequestCount has 8"),
        (("canary", "RequestCounts"), [1] * 8, "canary: unknown key(s) RequestCounts"),
        (("canary", "RequestCount"), _DELETE, "canary: missing RequestCount"),
        (("extra",), 1, "(root): unknown key(s) extra"),
        (("baseline",), _DELETE, "(root): missing baseline"),
    ],
)
def test_a_malformed_analysis_names_the_field(path: tuple[Any, ...], value: Any, message: str) -> None:
    # Given the healthy sample with one field broken / When parsed / Then the error names that field
    with pytest.raises(AnalysisFormatError) as caught:
        parse_analysis(_mutated(path, value))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("raw", [None, [], "analysis", 3, True])
def test_a_non_object_is_refused(raw: Any) -> None:
    with pytest.raises(AnalysisFormatError, match=r"^\(root\): expected an object"):
        parse_analysis(raw)


def test_too_many_periods_are_refused() -> None:
    raw = {
        "service": "backend",
        "step_percent": 10,
        "period_seconds": 60,
        "baseline": {"RequestCount": [1] * 1441, "HTTPCode_Target_5XX_Count": [], "TargetResponseTime_p99": []},
        "canary": {"RequestCount": [], "HTTPCode_Target_5XX_Count": [], "TargetResponseTime_p99": []},
    }
    with pytest.raises(AnalysisFormatError, match=r"baseline\.RequestCount: 1441 periods, at most 1440"):
        parse_analysis(raw)


counts = st.one_of(st.none(), st.integers(0, 10**9))
seconds = st.one_of(st.none(), st.floats(0, 4000, allow_nan=False))


@st.composite
def analyses(draw: st.DrawFn) -> CanaryAnalysis:
    periods = draw(st.integers(0, 30))

    def side() -> MetricSeries:
        def values(strategy: st.SearchStrategy[Any]) -> tuple[Any, ...]:
            return tuple(
                None if v is None else float(v) if isinstance(v, int) else v
                for v in draw(st.lists(strategy, min_size=periods, max_size=periods))
            )

        return MetricSeries(values(counts), values(counts), values(seconds))

    return CanaryAnalysis(
        service=draw(st.sampled_from(["backend", "frontend"])),
        step_percent=draw(st.integers(1, 100)),
        period_seconds=draw(st.sampled_from([60, 300])),
        baseline=side(),
        canary=side(),
    )


@settings(max_examples=150, deadline=None)
@given(analyses())
def test_any_analysis_round_trips_through_json_text(parsed: CanaryAnalysis) -> None:
    # Given any well-formed analysis / When written as JSON text and read back / Then nothing changed
    assert parse_analysis(json.loads(json.dumps(analysis_to_json(parsed)))) == parsed


@settings(max_examples=400, deadline=None)
@given(hostile_events([sample(p.stem) for p in sorted(SAMPLES_DIR.glob("*.json"))]))
def test_hostile_input_is_refused_or_judged_never_crashes(raw: Any) -> None:
    # Given a mutated sample or a non-object (wrong types, huge ints, NaN, lone surrogates, deep nesting)
    try:
        parsed = parse_analysis(raw)
    except AnalysisFormatError as error:
        # Then it is refused with one line naming a field
        assert str(error) and "\n" not in str(error)
        return
    # Or it is well-formed, and the judgement decides it without raising
    verdict = judge_canary_step(parsed, load_environment("production").canary_analysis)
    assert verdict.verdict in {"pass", "fail", "inconclusive"}
    json.dumps(verdict.to_json(), allow_nan=False)
