"""The hand-written distributions agree with scipy (a test dependency only; the Lambda package has none)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from lambdas.canary.judgement import stats

REL = 1e-9


@pytest.mark.parametrize("z", [-8.0, -2.5, -1.0, 0.0, 0.5, 1.96, 3.0, 6.0, 12.0, 30.0])
def test_normal_upper_tail_matches_scipy_far_into_the_tail(z: float) -> None:
    # Given a z score / When the upper tail is computed / Then it matches scipy relatively, even at 1e-198
    assert stats.normal_sf(z) == pytest.approx(scipy_stats.norm.sf(z), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    n_a=st.integers(1, 200_000),
    n_b=st.integers(1, 2_000_000),
    rate_a=st.floats(0, 1),
    rate_b=st.floats(0, 1),
)
def test_two_proportion_z_matches_the_textbook_pooled_statistic(
    n_a: int, n_b: int, rate_a: float, rate_b: float
) -> None:
    # Given two samples of requests with some errors
    e_a, e_b = round(n_a * rate_a), round(n_b * rate_b)
    # When the pooled z-test is computed
    z, p = stats.two_proportion_z(e_a, n_a, e_b, n_b)
    # Then z is the pooled statistic and p its one-sided normal tail (scipy)
    pooled = (e_a + e_b) / (n_a + n_b)
    variance = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
    if variance == 0:
        assert (z, p) == (0.0, 1.0)
    else:
        expected = (e_a / n_a - e_b / n_b) / math.sqrt(variance)
        assert z == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert p == pytest.approx(scipy_stats.norm.sf(expected), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("e_a", "n_a", "e_b", "n_b"),
    [
        (0, 100, 5, 900),
        (1, 100, 2, 900),
        (3, 200, 50, 18_000),
        (5, 110, 3, 980),
        (2, 40, 0, 400),
        (40, 40, 0, 400),
        (1, 1, 0, 1),
        (7, 1_000, 700, 100_000),
        (12, 5_000, 30, 1_000_000),
    ],
)
def test_fisher_exact_matches_scipy_on_canary_shaped_tables(e_a: int, n_a: int, e_b: int, n_b: int) -> None:
    # Given a canary/baseline 2x2 table / When the one-sided exact test runs / Then it is scipy's
    expected = scipy_stats.fisher_exact([[e_a, n_a - e_a], [e_b, n_b - e_b]], alternative="greater").pvalue
    assert stats.fisher_exact_greater(e_a, n_a, e_b, n_b) == pytest.approx(expected, rel=1e-7, abs=1e-15)


@settings(max_examples=200, deadline=None)
@given(n_a=st.integers(1, 3_000), n_b=st.integers(1, 30_000), e_a=st.integers(0, 40), e_b=st.integers(0, 120))
def test_fisher_exact_matches_scipy_on_random_tables(n_a: int, n_b: int, e_a: int, e_b: int) -> None:
    e_a, e_b = min(e_a, n_a), min(e_b, n_b)
    expected = scipy_stats.hypergeom.sf(e_a - 1, n_a + n_b, e_a + e_b, n_a)
    assert stats.fisher_exact_greater(e_a, n_a, e_b, n_b) == pytest.approx(expected, rel=1e-7, abs=1e-14)


@settings(max_examples=200, deadline=None)
@given(trials=st.integers(1, 6_000), a=st.integers(1, 500), b=st.integers(1, 60_000), fraction=st.floats(0, 0.05))
def test_beta_binomial_tail_matches_scipy(trials: int, a: int, b: int, fraction: float) -> None:
    at_least = max(1, math.ceil(fraction * trials))
    expected = scipy_stats.betabinom.sf(at_least - 1, trials, a, b)
    # scipy's lgamma differences lose ~1e-6 relative on small tails (ours is exact: see the Fraction test)
    assert stats.beta_binomial_sf(at_least, trials, float(a), float(b)) == pytest.approx(expected, rel=2e-5, abs=1e-9)


def _exact_beta_binomial_sf(at_least: int, trials: int, a: int, b: int) -> Fraction:
    def beta(x: int, y: int) -> Fraction:
        return Fraction(math.factorial(x - 1) * math.factorial(y - 1), math.factorial(x + y - 1))

    below = sum(math.comb(trials, k) * beta(k + a, trials - k + b) / beta(a, b) for k in range(at_least))
    return 1 - below


@pytest.mark.parametrize(
    ("at_least", "trials", "a", "b"),
    [
        (1, 1, 1, 14_168),
        (2, 33, 1, 12_852),
        (1, 50, 5, 446),
        (2, 120, 3, 300),
        (6, 400, 10, 990),
        (1, 5, 1, 1),
        (9, 284, 1, 1_751),
        (40, 3_000, 2, 300),
    ],
)
def test_beta_binomial_tail_is_exact_against_rational_arithmetic(at_least: int, trials: int, a: int, b: int) -> None:
    # Given whole-number parameters / When the tail is summed in exact fractions
    # Then ours agrees to 1e-9 relative, even on a 1e-8 tail
    expected = float(_exact_beta_binomial_sf(at_least, trials, a, b))
    assert stats.beta_binomial_sf(at_least, trials, float(a), float(b)) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=40), st.integers(0, 42))
def test_poisson_binomial_tail_matches_scipy(probabilities: list[float], at_least: int) -> None:
    got = stats.poisson_binomial_sf(at_least, probabilities)
    if at_least == 0:
        assert got == 1.0
    elif at_least > len(probabilities):
        assert got == 0.0
    else:
        expected = scipy_stats.poisson_binom.sf(at_least - 1, probabilities)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_poisson_binomial_tail_matches_enumeration() -> None:
    # Given four unequal probabilities / When every outcome is enumerated / Then the tails agree
    probabilities = [0.1, 0.45, 0.3, 0.9]
    for at_least in range(6):
        brute = sum(
            math.prod(p if hit else 1 - p for p, hit in zip(probabilities, outcome, strict=True))
            for outcome in itertools.product([0, 1], repeat=4)
            if sum(outcome) >= at_least
        )
        assert stats.poisson_binomial_sf(at_least, probabilities) == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize(
    ("count", "rank"), [(1, 1), (50, 50), (99, 99), (100, 99), (101, 100), (450, 446), (1000, 990)]
)
def test_p99_rank_is_the_nearest_rank(count: int, rank: int) -> None:
    assert stats.p99_rank(count) == rank


@pytest.mark.parametrize(
    ("canary", "baseline", "expected"),
    [(1, 1, 0.5), (20, 20, 0.5), (10, 90, 0.1), (1, 9, 0.1), (50, 450, None), (500, 4500, None), (2000, 2000, None)],
)
def test_p99_exceedance_probability_is_the_order_statistic_race(
    canary: int, baseline: int, expected: float | None
) -> None:
    # Given two samples of one continuous distribution
    got = stats.p99_exceedance_probability(canary, baseline)
    if expected is not None:
        # Then in the closed cases (both p99s are maxima) it is n_c / (n_c + n_b) ...
        assert got == pytest.approx(expected, rel=1e-12)
    # ... and in every case it is the upper tail of BetaBinomial(n_c, N_b - r_b + 1, r_b) at n_c - r_c + 1
    r_c, r_b = stats.p99_rank(canary), stats.p99_rank(baseline)
    reference = scipy_stats.betabinom.sf(canary - r_c, canary, baseline - r_b + 1, r_b)
    assert got == pytest.approx(reference, rel=1e-9)


def test_p99_exceedance_probability_matches_simulation() -> None:
    # Given a canary of 50 and a baseline of 450 requests per period from one distribution
    import numpy as np  # noqa: PLC0415 - test-only dependency

    rng = np.random.default_rng(20)
    trials = 20_000
    canary = np.sort(rng.lognormal(-1.0, 0.6, size=(trials, 50)), axis=1)[:, stats.p99_rank(50) - 1]
    baseline = np.sort(rng.lognormal(-1.0, 0.6, size=(trials, 450)), axis=1)[:, stats.p99_rank(450) - 1]
    # When we count how often the canary's nearest-rank p99 beats the baseline's
    observed = float(np.mean(canary > baseline))
    # Then it is the computed null probability, within 4 standard errors
    expected = stats.p99_exceedance_probability(50, 450)
    assert abs(observed - expected) < 4 * math.sqrt(expected * (1 - expected) / trials)


def test_edges_return_the_certain_answers() -> None:
    # No requests on a side: no evidence
    assert stats.two_proportion_z(0, 0, 3, 100) == (0.0, 1.0)
    # More canary errors than there are in the table cannot happen: probability 0
    assert stats.fisher_exact_greater(5, 4, 0, 10) == 0.0
    # Tails at or below zero successes are certain, beyond the trials impossible
    assert stats.beta_binomial_sf(0, 10, 1.0, 1.0) == 1.0
    assert stats.beta_binomial_sf(11, 10, 1.0, 1.0) == 0.0


def test_a_huge_baseline_falls_back_to_lgamma_and_still_matches_scipy() -> None:
    # Given a = N_b - r_b + 1 above the term-by-term product's limit (a baseline of ~200k requests in a period)
    a, b = 2_001.0, 198_000.0
    expected = scipy_stats.betabinom.sf(10, 1_000, a, b)
    assert stats.beta_binomial_sf(11, 1_000, a, b) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("canary", "baseline"), [(150_000, 1_350_000), (500_000, 500_000), (10**9, 9 * 10**9)])
def test_huge_periods_use_the_normal_approximation_within_a_hundredth(canary: int, baseline: int) -> None:
    # Given more than a thousand canary requests over the p99 in one period / Then scipy agrees to 1e-2
    r_c, r_b = stats.p99_rank(canary), stats.p99_rank(baseline)
    expected = scipy_stats.betabinom.sf(canary - r_c, canary, baseline - r_b + 1, r_b)
    assert stats.p99_exceedance_probability(canary, baseline) == pytest.approx(expected, abs=1e-2)
