"""Judge one canary step: the canary target group against the baseline over the step's window (pure).

Three checks (docs/decisions/0020-canary-judgement.md says why each is built the way it is):

- ``requests``: both sides have data and enough requests over the periods they share;
- ``errors``: the canary's 5xx rate is higher than the baseline's both significantly (one-sided two-proportion
  test at alpha / 2: pooled z, or Fisher's exact test when the canary expects fewer than 5 errors) and by more
  than the practical margin;
- ``latency``: per period, does the canary's p99 beat the baseline's by more than the tolerance? Under the null
  ("the canary is at most tolerance slower, in distribution") each period does so with a probability that
  depends only on the two request counts (stats.p99_exceedance_probability), so the count of such periods is
  judged exactly against its Poisson-binomial null at alpha / 2; and the median of the per-period ratios must
  exceed the tolerance too, so one noisy period cannot swing it.

Any failing check fails the step (strong evidence fails even on little traffic); otherwise any inconclusive
check makes it inconclusive (which never passes); otherwise it passes. No clock, no AWS, no environment.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from lambdas.canary.judgement import stats
from lambdas.canary.judgement.model import CanaryAnalysis, CanaryCheck, CanaryVerdict, MetricSeries, Number, Outcome
from lambdas.core.config import CanaryAnalysisPolicy

# Below this many expected canary errors under the null the normal approximation is poor (Cochran's rule):
# use the exact test.
EXACT_TEST_BELOW_EXPECTED_ERRORS = 5.0
# A p99 of 0 s would make a ratio infinite; TargetResponseTime has microsecond resolution at best.
_MIN_P99_SECONDS = 1e-6


@dataclass(frozen=True)
class _Period:
    requests: int
    errors: int
    p99: float | None
    errors_above_requests: bool


@dataclass(frozen=True)
class _Judged:
    check: CanaryCheck
    for_want_of_traffic: bool = False


def _periods(series: MetricSeries) -> list[_Period]:
    """Per period: requests, 5xx and p99. ALB publishes HTTPCode_Target_5XX_Count only when it is non-zero, so a
    null 5xx beside a RequestCount is 0; a null RequestCount is no data. A 5xx count above the requests (which
    CloudWatch should never report) counts every one of those requests as failed rather than hiding errors."""
    out = []
    for requests, errors, p99 in zip(series.request_count, series.errors_5xx, series.p99_seconds, strict=True):
        request_count = int(requests or 0)
        error_count = int(errors or 0)
        out.append(
            _Period(
                requests=max(request_count, error_count),
                errors=error_count,
                p99=p99,
                errors_above_requests=error_count > request_count,
            )
        )
    return out


def judge_canary_step(analysis: CanaryAnalysis, policy: CanaryAnalysisPolicy) -> CanaryVerdict:
    canary = _periods(analysis.canary)
    baseline = _periods(analysis.baseline)
    # Like with like: only the periods where both target groups served requests are compared.
    shared = [i for i, (c, b) in enumerate(zip(canary, baseline, strict=True)) if c.requests > 0 and b.requests > 0]
    judged = (
        _requests_check(canary, baseline, shared, policy),
        _errors_check(canary, baseline, shared, policy),
        _latency_check(canary, baseline, shared, policy),
    )
    checks = tuple(j.check for j in judged)
    failed = [c for c in checks if c.outcome == "fail"]
    undecided = [j for j in judged if j.check.outcome == "inconclusive"]
    verdict: Outcome
    if failed:
        verdict, reason = "fail", "; ".join(c.reason for c in failed)
    elif undecided:
        verdict, reason = "inconclusive", "; ".join(j.check.reason for j in undecided)
    else:
        verdict, reason = "pass", "; ".join(c.reason for c in checks)
    more_traffic = verdict == "inconclusive" and all(j.for_want_of_traffic for j in undecided)
    return CanaryVerdict(verdict=verdict, reason=reason, checks=checks, more_traffic_needed=more_traffic)


def _requests_check(
    canary: list[_Period], baseline: list[_Period], shared: list[int], policy: CanaryAnalysisPolicy
) -> _Judged:
    canary_requests = sum(canary[i].requests for i in shared)
    baseline_requests = sum(baseline[i].requests for i in shared)
    numbers: dict[str, Number] = {
        "periods": len(canary),
        "shared_periods": len(shared),
        "canary_periods_with_requests": sum(1 for p in canary if p.requests > 0),
        "baseline_periods_with_requests": sum(1 for p in baseline if p.requests > 0),
        "canary_requests": canary_requests,
        "baseline_requests": baseline_requests,
        "min_canary_requests": policy.min_canary_requests,
        "min_baseline_requests": policy.min_baseline_requests,
        "periods_with_5xx_above_requests": sum(1 for p in (*canary, *baseline) if p.errors_above_requests),
    }
    name = "requests"
    if not shared:
        sides = (("canary", canary), ("baseline", baseline))
        empty = [side for side, periods in sides if not any(p.requests for p in periods)]
        if empty:
            groups = " and ".join(empty) + (" target groups" if len(empty) > 1 else " target group")
            detail = f"no data: the {groups} reported no requests in {len(canary)} periods"
        else:
            detail = f"no data: the two target groups never served requests in the same period ({len(canary)} periods)"
        reason = f"{detail} (no-data policy: {policy.no_data})"
        return _Judged(CanaryCheck(name, policy.no_data, reason, numbers), for_want_of_traffic=True)
    short = []
    if canary_requests < policy.min_canary_requests:
        short.append(f"canary {canary_requests} < {policy.min_canary_requests}")
    if baseline_requests < policy.min_baseline_requests:
        short.append(f"baseline {baseline_requests} < {policy.min_baseline_requests}")
    if short:
        reason = f"too few requests to decide ({', '.join(short)}): more traffic needed"
        return _Judged(CanaryCheck(name, "inconclusive", reason, numbers), for_want_of_traffic=True)
    reason = f"{canary_requests} canary and {baseline_requests} baseline requests in {len(shared)} shared periods"
    return _Judged(CanaryCheck(name, "pass", reason, numbers))


def _errors_check(
    canary: list[_Period], baseline: list[_Period], shared: list[int], policy: CanaryAnalysisPolicy
) -> _Judged:
    n_c = sum(canary[i].requests for i in shared)
    e_c = sum(canary[i].errors for i in shared)
    n_b = sum(baseline[i].requests for i in shared)
    e_b = sum(baseline[i].errors for i in shared)
    alpha = policy.alpha / 2
    margin = policy.error_rate_margin_percent
    numbers: dict[str, Number] = {
        "canary_requests": n_c,
        "canary_errors": e_c,
        "baseline_requests": n_b,
        "baseline_errors": e_b,
        "canary_error_rate_percent": None,
        "baseline_error_rate_percent": None,
        "difference_percent_points": None,
        "margin_percent_points": margin,
        "expected_canary_errors": None,
        "exact_test": None,
        "z": None,
        "p_value": None,
        "alpha": alpha,
    }
    name = "errors"
    if not shared:
        return _Judged(CanaryCheck(name, "inconclusive", "no 5xx data to compare", numbers), for_want_of_traffic=True)
    rate_c, rate_b = 100 * e_c / n_c, 100 * e_b / n_b
    difference = rate_c - rate_b
    expected = n_c * (e_c + e_b) / (n_c + n_b)
    exact = expected < EXACT_TEST_BELOW_EXPECTED_ERRORS
    if exact:
        z = None
        p_value = stats.fisher_exact_greater(e_c, n_c, e_b, n_b)
    else:
        z, p_value = stats.two_proportion_z(e_c, n_c, e_b, n_b)
    numbers.update(
        canary_error_rate_percent=rate_c,
        baseline_error_rate_percent=rate_b,
        difference_percent_points=difference,
        expected_canary_errors=expected,
        exact_test=1 if exact else 0,
        z=z,
        p_value=p_value,
    )
    test = "Fisher exact" if exact else f"z = {z:.2f}"
    rates = f"5xx {rate_c:.2f}% on the canary ({e_c}/{n_c}) vs {rate_b:.2f}% on the baseline ({e_b}/{n_b})"
    significant = p_value < alpha
    if significant and difference > margin:
        reason = f"{rates}: {difference:.2f} points higher (margin {margin:g}), p = {p_value:.2g} < {alpha:g} ({test})"
        return _Judged(CanaryCheck(name, "fail", reason, numbers))
    if significant:
        why = f"significantly higher (p = {p_value:.2g}) but within the {margin:g}-point margin"
    else:
        why = f"not significantly higher (p = {p_value:.2g} >= {alpha:g}, {test})"
    return _Judged(CanaryCheck(name, "pass", f"{rates}: {why}", numbers))


def _latency_check(
    canary: list[_Period], baseline: list[_Period], shared: list[int], policy: CanaryAnalysisPolicy
) -> _Judged:
    tolerance = policy.latency_tolerance_percent / 100
    alpha = policy.alpha / 2
    usable = [i for i in shared if canary[i].p99 is not None and baseline[i].p99 is not None]
    numbers: dict[str, Number] = {
        "usable_periods": len(usable),
        "min_latency_periods": policy.min_latency_periods,
        "tolerance_percent": policy.latency_tolerance_percent,
        "slower_periods": None,
        "expected_slower_periods": None,
        "p_value": None,
        "lowest_possible_p_value": None,
        "alpha": alpha,
        "median_ratio": None,
        "max_ratio": None,
        "canary_p99_median_seconds": None,
        "baseline_p99_median_seconds": None,
    }
    name = "latency"
    if not usable:
        if shared:
            # Requests on both sides but no p99 on one: ALB reports TargetResponseTime with every request, so
            # this is missing data, judged by the no-data policy.
            reason = f"no p99 data in {len(shared)} periods with requests on both sides"
            reason += f" (no-data policy: {policy.no_data})"
            return _Judged(CanaryCheck(name, policy.no_data, reason, numbers), for_want_of_traffic=True)
        return _Judged(CanaryCheck(name, "inconclusive", "no p99 data to compare", numbers), for_want_of_traffic=True)
    # `usable` has a p99 on both sides in every period, so these stay aligned.
    canary_p99 = [v for i in usable if (v := canary[i].p99) is not None]
    baseline_p99 = [v for i in usable if (v := baseline[i].p99) is not None]
    ratios = [c / max(b, _MIN_P99_SECONDS) for c, b in zip(canary_p99, baseline_p99, strict=True)]
    slower = sum(1 for r in ratios if r > 1 + tolerance)
    null_probabilities = [stats.p99_exceedance_probability(canary[i].requests, baseline[i].requests) for i in usable]
    p_value = stats.poisson_binomial_sf(slower, null_probabilities)
    lowest_possible = math.prod(null_probabilities)
    median_ratio = statistics.median(ratios)
    numbers.update(
        slower_periods=slower,
        expected_slower_periods=math.fsum(null_probabilities),
        p_value=p_value,
        lowest_possible_p_value=lowest_possible,
        median_ratio=median_ratio,
        max_ratio=max(ratios),
        canary_p99_median_seconds=statistics.median(canary_p99),
        baseline_p99_median_seconds=statistics.median(baseline_p99),
    )
    summary = (
        f"p99 {1000 * statistics.median(canary_p99):.0f} ms on the canary vs "
        f"{1000 * statistics.median(baseline_p99):.0f} ms on the baseline (median ratio {median_ratio:.2f}), "
        f"{slower}/{len(usable)} periods over +{policy.latency_tolerance_percent:g}%"
    )
    if len(usable) < policy.min_latency_periods:
        # Never judged on fewer periods: with at least 3, a median over the tolerance needs half of them slower.
        reason = f"{summary}: only {len(usable)} of {policy.min_latency_periods} periods needed; more traffic needed"
        return _Judged(CanaryCheck(name, "inconclusive", reason, numbers), for_want_of_traffic=True)
    if p_value < alpha and median_ratio > 1 + tolerance:
        return _Judged(CanaryCheck(name, "fail", f"{summary}, p = {p_value:.2g} < {alpha:g}", numbers))
    if lowest_possible >= alpha:
        # Even a canary slower in every one of these periods could not have failed: passing would be a guess.
        reason = (
            f"{summary}: these {len(usable)} periods cannot show a slower canary "
            f"(lowest possible p = {lowest_possible:.2g} >= {alpha:g}); more traffic needed"
        )
        return _Judged(CanaryCheck(name, "inconclusive", reason, numbers), for_want_of_traffic=True)
    if p_value < alpha:
        why = f"more periods slower than chance (p = {p_value:.2g}) but the median ratio is within the tolerance"
    else:
        why = f"not slower beyond chance (p = {p_value:.2g} >= {alpha:g})"
    return _Judged(CanaryCheck(name, "pass", f"{summary}: {why}", numbers))
