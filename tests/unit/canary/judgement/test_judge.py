"""judge_canary_step: the documented verdicts, its guarantees as properties, and its error rates by simulation."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lambdas.canary.judgement import CanaryAnalysis, CanaryVerdict, MetricSeries, judge_canary_step
from lambdas.core.config import CanaryAnalysisPolicy
from tests.unit.canary.judgement.helpers import analysis, production_policy, series, steady

POLICY = production_policy()
SEVERITY = {"pass": 0, "inconclusive": 1, "fail": 2}


def _check(verdict: CanaryVerdict, name: str) -> Any:
    return next(c for c in verdict.checks if c.name == name)


# --- documented behaviour, case by case -------------------------------------------------------------------------


def test_a_canary_like_its_baseline_passes_with_every_number() -> None:
    # Given a canary at 10% serving like the baseline / When judged
    verdict = judge_canary_step(steady(canary_errors=0, baseline_errors=2), POLICY)
    # Then it passes, and each check carries its inputs and thresholds
    assert verdict.verdict == "pass" and not verdict.more_traffic_needed
    assert [c.outcome for c in verdict.checks] == ["pass", "pass", "pass"]
    errors = _check(verdict, "errors").numbers
    assert errors["canary_requests"] == 800 and errors["baseline_errors"] == 16
    assert errors["margin_percent_points"] == POLICY.error_rate_margin_percent
    assert errors["alpha"] == POLICY.alpha / 2
    latency = _check(verdict, "latency").numbers
    assert latency["usable_periods"] == 8 and latency["slower_periods"] == 0 and latency["median_ratio"] == 1.0
    json.dumps(verdict.to_json(), allow_nan=False)


def test_a_null_5xx_beside_requests_is_zero_errors_and_a_null_request_count_is_no_data() -> None:
    # Given ALB's reporting: 5xx only when non-zero; no RequestCount at all when nothing flowed
    baseline = series([900] * 8, [None] * 8, [0.45] * 8)
    canary = series([100] * 7 + [None], [None] * 8, [0.45] * 7 + [None])
    # When judged
    verdict = judge_canary_step(analysis(baseline, canary), POLICY)
    # Then the 5xx are 0 on both sides, and the canary's empty period is left out of both sides
    errors = _check(verdict, "errors").numbers
    assert (errors["canary_errors"], errors["baseline_errors"]) == (0, 0)
    assert (errors["canary_requests"], errors["baseline_requests"]) == (700, 6300)
    assert _check(verdict, "requests").numbers["shared_periods"] == 7
    assert verdict.verdict == "pass"


def test_a_clear_5xx_regression_fails_by_the_z_test() -> None:
    verdict = judge_canary_step(steady(canary_errors=6, baseline_errors=2), POLICY)
    errors = _check(verdict, "errors")
    assert verdict.verdict == "fail" and errors.outcome == "fail"
    assert errors.numbers["exact_test"] == 0 and errors.numbers["z"] is not None and errors.numbers["z"] > 10
    assert verdict.reason.startswith("5xx 6.00% on the canary (48/800)")


def test_few_errors_on_a_small_canary_use_the_exact_test_and_fail_when_they_are_unlikely() -> None:
    # Given 4 errors in 300 canary requests against 1 in 9,000 on the baseline (expected under H0: 0.16)
    baseline = series([1500] * 6, [1, None, None, None, None, None], [0.4] * 6)
    canary = series([50] * 6, [1, 1, None, 1, None, 1], [0.4] * 6)
    verdict = judge_canary_step(analysis(baseline, canary), POLICY)
    errors = _check(verdict, "errors")
    # Then Fisher's exact test decides it, and 1.3 points above the baseline fails
    assert errors.numbers["exact_test"] == 1 and errors.numbers["z"] is None
    assert errors.outcome == "fail" and errors.numbers["p_value"] is not None and errors.numbers["p_value"] < 0.001


def test_a_tiny_difference_on_huge_traffic_is_significant_but_within_the_margin() -> None:
    # Given 0.30% vs 0.25% 5xx on millions of requests (p far below alpha)
    verdict = judge_canary_step(
        steady(canary_requests=200_000, baseline_requests=1_800_000, canary_errors=600, baseline_errors=4_500), POLICY
    )
    errors = _check(verdict, "errors")
    # Then the step passes: a twentieth of a point is not worth a rollback
    assert errors.numbers["p_value"] is not None and errors.numbers["p_value"] < 1e-6
    assert errors.outcome == "pass" and "within the 0.5-point margin" in errors.reason
    assert verdict.verdict == "pass"


def test_a_latency_regression_in_every_period_fails() -> None:
    verdict = judge_canary_step(steady(canary_p99=0.9, baseline_p99=0.45), POLICY)
    latency = _check(verdict, "latency")
    assert verdict.verdict == "fail" and latency.outcome == "fail"
    assert latency.numbers["slower_periods"] == 8 and latency.numbers["median_ratio"] == 2.0


def test_a_canary_slower_only_within_the_tolerance_passes() -> None:
    verdict = judge_canary_step(steady(canary_p99=0.53, baseline_p99=0.45), POLICY)  # +18%
    assert verdict.verdict == "pass"


def test_one_slow_period_does_not_fail_a_healthy_canary() -> None:
    # Given a healthy canary whose third period has a 4 s p99 (a cold cache, one slow dependency call)
    base = steady()
    p99 = list(base.canary.p99_seconds)
    p99[2] = 4.0
    canary = dataclasses.replace(base.canary, p99_seconds=tuple(p99))
    # When judged / Then it passes, and the outlier is visible in the numbers
    verdict = judge_canary_step(dataclasses.replace(base, canary=canary), POLICY)
    latency = _check(verdict, "latency")
    assert verdict.verdict == "pass"
    assert latency.numbers["slower_periods"] == 1 and latency.numbers["max_ratio"] == pytest.approx(4.0 / 0.45)


@pytest.mark.parametrize(
    ("no_data", "verdict", "more_traffic"), [("fail", "fail", False), ("inconclusive", "inconclusive", True)]
)
def test_no_data_follows_the_policy(no_data: str, verdict: str, more_traffic: bool) -> None:
    # Given a canary target group that reported nothing (weights never applied, or no traffic at all)
    empty = series([None] * 6, [None] * 6, [None] * 6)
    judged = judge_canary_step(analysis(steady(6).baseline, empty), POLICY.model_copy(update={"no_data": no_data}))
    # Then the verdict is the configured one, never pass
    assert judged.verdict == verdict and judged.more_traffic_needed is more_traffic
    assert "no data: the canary target group reported no requests in 6 periods" in judged.reason


def test_an_empty_window_is_no_data_on_both_sides() -> None:
    empty = series([], [], [])
    verdict = judge_canary_step(analysis(empty, empty), POLICY)
    assert verdict.verdict == "fail" and "canary and baseline target groups" in verdict.reason


def test_missing_p99_beside_requests_is_no_data_for_latency() -> None:
    base = steady()
    canary = dataclasses.replace(base.canary, p99_seconds=(None,) * 8)
    verdict = judge_canary_step(dataclasses.replace(base, canary=canary), POLICY)
    assert _check(verdict, "latency").outcome == "fail" and "no p99 data" in verdict.reason


def test_too_few_requests_is_inconclusive_and_asks_for_more_traffic() -> None:
    # Given 80 canary requests (the minimum is 100) and nothing wrong in them
    verdict = judge_canary_step(steady(canary_requests=10, canary_errors=0), POLICY)
    # Then the step is inconclusive only for want of traffic: the controller extends the bake
    assert verdict.verdict == "inconclusive" and verdict.more_traffic_needed
    assert _check(verdict, "requests").reason.startswith("too few requests to decide (canary 80 < 100)")


def test_strong_evidence_fails_even_on_little_traffic() -> None:
    # Given 80 canary requests of which 40 failed
    verdict = judge_canary_step(steady(canary_requests=10, canary_errors=5), POLICY)
    # Then it fails now rather than waiting for more
    assert verdict.verdict == "fail" and not verdict.more_traffic_needed


def test_too_few_latency_periods_is_inconclusive() -> None:
    verdict = judge_canary_step(steady(5, canary_requests=200, baseline_requests=1800), POLICY)
    latency = _check(verdict, "latency")
    assert latency.outcome == "inconclusive" and "only 5 of 6 periods" in latency.reason
    assert verdict.verdict == "inconclusive" and verdict.more_traffic_needed


def test_periods_that_could_not_show_a_slower_canary_do_not_pass_it() -> None:
    # Given a 90% canary (its p99 is the better-measured one): 6 periods, each beating the baseline's with
    # probability ~0.7 under the null, so even 6/6 slower is p ~ 0.12
    base = steady(6, canary_requests=900, baseline_requests=100)
    verdict = judge_canary_step(dataclasses.replace(base, step_percent=90), POLICY)
    latency = _check(verdict, "latency")
    # Then latency is inconclusive, not passed on a test that could not fail
    assert latency.outcome == "inconclusive" and "cannot show a slower canary" in latency.reason
    assert (
        latency.numbers["lowest_possible_p_value"] is not None and latency.numbers["lowest_possible_p_value"] >= 0.025
    )


def test_5xx_above_the_requests_counts_every_request_as_failed() -> None:
    baseline = series([900] * 6, [2] * 6, [0.4] * 6)
    canary = series([None] + [100] * 5, [30] + [0] * 5, [None] + [0.4] * 5)
    verdict = judge_canary_step(analysis(baseline, canary), POLICY)
    assert _check(verdict, "requests").numbers["periods_with_5xx_above_requests"] == 1
    assert _check(verdict, "errors").numbers["canary_errors"] == 30
    assert verdict.verdict == "fail"


# --- every policy field changes some verdict (no config that lies) ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "lenient", "strict", "case"),
    [
        ("alpha", 0.01, 0.2, steady(canary_errors=1, baseline_errors=4)),
        ("error_rate_margin_percent", 2.0, 0.5, steady(canary_errors=2, baseline_errors=2)),
        ("latency_tolerance_percent", 60, 20, steady(canary_p99=0.63, baseline_p99=0.45)),
        ("min_canary_requests", 100, 1000, steady()),
        ("min_baseline_requests", 500, 10_000, steady()),
        ("min_latency_periods", 6, 9, steady()),
        ("no_data", "inconclusive", "fail", analysis(steady().baseline, series([None] * 8, [None] * 8, [None] * 8))),
    ],
)
def test_every_policy_field_is_read(field: str, lenient: Any, strict: Any, case: CanaryAnalysis) -> None:
    # Given a case near the field's edge / When judged with a lenient and a strict value of only that field
    lenient_verdict = judge_canary_step(case, POLICY.model_copy(update={field: lenient}))
    strict_verdict = judge_canary_step(case, POLICY.model_copy(update={field: strict}))
    # Then the strict value gives a stricter verdict
    assert SEVERITY[strict_verdict.verdict] > SEVERITY[lenient_verdict.verdict], (lenient_verdict, strict_verdict)


# --- properties ----------------------------------------------------------------------------------------------------

_MISSING = st.sampled_from([False, False, False, False, True])
p99s = st.floats(0.01, 10, allow_nan=False)


@st.composite
def analyses(draw: st.DrawFn) -> CanaryAnalysis:
    periods = draw(st.integers(0, 14))

    def side(volume: int) -> MetricSeries:
        # Mostly periods with data, as ALB reports them: 5xx null or up to the requests, a p99 with requests
        requests = [None if draw(_MISSING) else draw(st.integers(1, volume)) for _ in range(periods)]
        errors = [None if r is None or draw(_MISSING) else draw(st.integers(0, r)) for r in requests]
        latency = [None if r is None else draw(p99s) for r in requests]
        return series(requests, errors, latency)

    return analysis(side(5_000), side(draw(st.sampled_from([50, 500, 5_000]))))


policies = st.builds(
    CanaryAnalysisPolicy,
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    error_rate_margin_percent=st.sampled_from([0.0, 0.5, 2.0]),
    latency_tolerance_percent=st.sampled_from([0.0, 20.0, 50.0]),
    min_canary_requests=st.sampled_from([1, 100, 1_000]),
    min_baseline_requests=st.sampled_from([1, 500]),
    min_latency_periods=st.sampled_from([8, 10]),
    no_data=st.sampled_from(["fail", "inconclusive"]),
)


@settings(max_examples=300, deadline=None)
@given(analyses(), policies)
def test_the_verdict_is_its_checks_and_inconclusive_never_passes(
    case: CanaryAnalysis, policy: CanaryAnalysisPolicy
) -> None:
    verdict = judge_canary_step(case, policy)
    outcomes = {c.outcome for c in verdict.checks}
    # Then fail iff a check failed; pass only if every check passed; more traffic only when inconclusive
    assert (verdict.verdict == "fail") == ("fail" in outcomes)
    assert (verdict.verdict == "pass") == (outcomes == {"pass"})
    assert not verdict.more_traffic_needed or verdict.verdict == "inconclusive"
    assert verdict.reason
    json.dumps(verdict.to_json(), allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(analyses(), policies, st.data())
def test_more_canary_errors_never_turn_fail_into_pass(
    case: CanaryAnalysis, policy: CanaryAnalysisPolicy, data: Any
) -> None:
    served = [i for i, r in enumerate(case.canary.request_count) if r]
    assume(served)
    # Given any analysis and one canary period with requests / When that period gets more 5xx (still <= requests)
    index = data.draw(st.sampled_from(served))
    requests = case.canary.request_count[index]
    assert requests is not None
    errors = list(case.canary.errors_5xx)
    errors[index] = float(data.draw(st.integers(int(errors[index] or 0), int(requests))))
    worse = dataclasses.replace(case, canary=dataclasses.replace(case.canary, errors_5xx=tuple(errors)))
    # Then a failing verdict still fails
    if judge_canary_step(case, policy).verdict == "fail":
        assert judge_canary_step(worse, policy).verdict == "fail"


@settings(max_examples=300, deadline=None)
@given(analyses(), policies, st.data())
def test_a_slower_canary_never_turns_fail_into_pass(
    case: CanaryAnalysis, policy: CanaryAnalysisPolicy, data: Any
) -> None:
    measured = [i for i, v in enumerate(case.canary.p99_seconds) if v is not None]
    assume(measured)
    # Given any analysis / When one canary period's p99 grows / Then a failing verdict still fails
    index = data.draw(st.sampled_from(measured))
    p99 = list(case.canary.p99_seconds)
    p99[index] = (p99[index] or 0.0) + data.draw(st.floats(0, 100, allow_nan=False))
    slower = dataclasses.replace(case, canary=dataclasses.replace(case.canary, p99_seconds=tuple(p99)))
    if judge_canary_step(case, policy).verdict == "fail":
        assert judge_canary_step(slower, policy).verdict == "fail"


@settings(max_examples=300, deadline=None)
@given(
    periods=st.integers(3, 30),
    canary_requests=st.integers(1, 3_000),
    baseline_requests=st.integers(1, 30_000),
    ratios=st.lists(st.floats(0.2, 1.2), min_size=30, max_size=30),
    flaky=st.data(),
    policy=policies,
)
def test_one_noisy_period_never_fails_a_healthy_canary(  # noqa: PLR0917 - hypothesis passes them by name
    periods: int,
    canary_requests: int,
    baseline_requests: int,
    ratios: list[float],
    flaky: Any,
    policy: CanaryAnalysisPolicy,
) -> None:
    # Given a canary within the tolerance in every period and errors no worse than the baseline's
    tolerance = 1 + policy.latency_tolerance_percent / 100
    p99 = [0.4 * min(r, tolerance) for r in ratios[:periods]]
    # When any one period has any p99 at all
    index = flaky.draw(st.integers(0, periods - 1))
    p99[index] = flaky.draw(st.floats(0, 60, allow_nan=False))
    case = analysis(
        series([baseline_requests] * periods, [None] * periods, [0.4] * periods),
        series([canary_requests] * periods, [None] * periods, p99),
    )
    # Then the step does not fail
    assert judge_canary_step(case, policy).verdict != "fail"


# --- error rates by simulation: identical distributions fail at most alpha of the time ------------------------------


def _simulated(
    rng: np.random.Generator,
    *,
    periods: int,
    canary_rate: float,
    baseline_rate: float,
    scale: float,
    error: float,
    step: int,
) -> CanaryAnalysis:
    """One step's ALB metrics: Poisson requests, binomial 5xx, lognormal latencies reduced to nearest-rank p99s."""
    sides = {}
    for side, rate, latency_scale, error_rate in (
        ("baseline", baseline_rate, 1.0, 0.003),
        ("canary", canary_rate, scale, 0.003 * error),
    ):
        requests, errors, p99 = [], [], []
        for _ in range(periods):
            n = int(rng.poisson(rate))
            e = int(rng.binomial(n, error_rate)) if n else 0
            requests.append(n or None)
            errors.append(e or None)  # ALB omits zero 5xx
            if n:
                values = np.sort(rng.lognormal(-1.2, 0.5, size=n)) * latency_scale
                p99.append(float(values[math.ceil(0.99 * n) - 1]))
            else:
                p99.append(None)
        sides[side] = series(requests, errors, p99)
    return analysis(sides["baseline"], sides["canary"], step=step)


@pytest.mark.parametrize(("step", "canary_rate", "baseline_rate"), [(10, 100, 900), (50, 500, 500)])
def test_a_canary_at_the_edge_of_the_null_fails_at_most_alpha_of_the_time(
    step: int, canary_rate: int, baseline_rate: int
) -> None:
    # Given canaries exactly at the null boundary of both tests: the same 5xx rate with no margin, and latencies
    # exactly (1 + tolerance) times the baseline's in distribution
    policy = POLICY.model_copy(update={"error_rate_margin_percent": 0.0})
    rng = np.random.default_rng(8)
    trials = 400
    scale = 1 + policy.latency_tolerance_percent / 100
    verdicts = [
        judge_canary_step(
            _simulated(
                rng, periods=10, canary_rate=canary_rate, baseline_rate=baseline_rate, scale=scale, error=1, step=step
            ),
            policy,
        )
        for _ in range(trials)
    ]
    # When judged many times / Then each check fails at most alpha / 2 of them (3 standard errors of slack),
    # and the step at most alpha
    slack = 3 * math.sqrt(policy.alpha / 2 * (1 - policy.alpha / 2) / trials)
    for name in ("errors", "latency"):
        rate = sum(_check(v, name).outcome == "fail" for v in verdicts) / trials
        assert rate <= policy.alpha / 2 + slack, (name, rate)
    assert sum(v.verdict == "fail" for v in verdicts) / trials <= policy.alpha + slack


def test_identical_canaries_almost_never_fail() -> None:
    rng = np.random.default_rng(9)
    verdicts = [
        judge_canary_step(
            _simulated(rng, periods=10, canary_rate=100, baseline_rate=900, scale=1, error=1, step=10), POLICY
        )
        for _ in range(300)
    ]
    assert sum(v.verdict == "fail" for v in verdicts) / 300 <= POLICY.alpha
    assert sum(v.verdict == "pass" for v in verdicts) / 300 >= 0.9


@pytest.mark.parametrize(("scale", "error", "check"), [(2.0, 1.0, "latency"), (1.0, 10.0, "errors")])
def test_a_real_regression_is_caught(scale: float, error: float, check: str) -> None:
    # Given a canary twice as slow, or with ten times the 5xx (3%), at 10% of traffic for 10 minutes
    rng = np.random.default_rng(10)
    verdicts = [
        judge_canary_step(
            _simulated(rng, periods=10, canary_rate=100, baseline_rate=900, scale=scale, error=error, step=10), POLICY
        )
        for _ in range(100)
    ]
    # Then nearly every step fails, on the right check
    assert sum(_check(v, check).outcome == "fail" for v in verdicts) >= 95
