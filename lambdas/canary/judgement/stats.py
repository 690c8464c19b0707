"""The few distributions a canary judgement needs, in plain Python (no scipy in the Lambda package).

Each function is cross-checked against scipy in tests/unit/canary/judgement/test_stats.py. They take counts
as ints and return probabilities clamped to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Terms smaller than this fraction of the running sum no longer change a double.
_NEGLIGIBLE = 1e-17
# Longest product _log_beta_ratio sums term by term (a baseline of ~100k requests in one period) and longest
# exact tail beta_binomial_sf sums: past them, lgamma and a normal approximation keep a day of periods fast.
_EXACT_PRODUCT_UP_TO = 1_000
_EXACT_TERMS = 1_000


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z; erfc keeps the upper tail accurate far out (no 1 - cdf cancellation)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z(errors_a: int, total_a: int, errors_b: int, total_b: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of H0: p_a <= p_b against H1: p_a > p_b. Returns (z, one-sided p-value).

    With no variance under H0 (no errors anywhere, or only errors) there is no evidence: z = 0, p = 1.
    """
    if total_a <= 0 or total_b <= 0:
        return 0.0, 1.0
    pooled = (errors_a + errors_b) / (total_a + total_b)
    variance = pooled * (1.0 - pooled) * (1.0 / total_a + 1.0 / total_b)
    if variance <= 0.0:
        return 0.0, 1.0
    z = (errors_a / total_a - errors_b / total_b) / math.sqrt(variance)
    return z, normal_sf(z)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_greater(errors_a: int, total_a: int, errors_b: int, total_b: int) -> float:
    """One-sided Fisher exact test (H1: side a has the higher error proportion): P(X >= errors_a) where
    X ~ Hypergeometric(population total_a + total_b, errors_a + errors_b successes, total_a draws).

    Exact at any count, which is what the rare-error regime of a small canary needs. Summed from errors_a
    upward with the pmf's ratio recurrence, stopping once terms past the mode no longer matter.
    """
    population = total_a + total_b
    successes = errors_a + errors_b
    draws = total_a
    if errors_a <= 0:
        return 1.0
    top = min(successes, draws)
    if errors_a > top:
        return 0.0
    k = errors_a
    log_pmf = (
        _log_choose(successes, k) + _log_choose(population - successes, draws - k) - _log_choose(population, draws)
    )
    term = math.exp(log_pmf)
    total = term
    mode = (draws + 1) * (successes + 1) // (population + 2)
    while k < top:
        term *= (successes - k) * (draws - k) / ((k + 1) * (population - successes - draws + k + 1))
        k += 1
        total += term
        if k > mode and term < _NEGLIGIBLE * total:
            break
    return min(1.0, max(0.0, total))


def beta_binomial_sf(at_least: int, trials: int, a: float, b: float) -> float:
    """P(Y >= at_least) for Y ~ BetaBinomial(trials, a, b), by summing the (short) lower tail and complementing.

    pmf(0) = B(a, trials + b) / B(a, b); pmf(k+1) / pmf(k) = (trials - k)(k + a) / ((k + 1)(trials - k - 1 + b)).
    """
    if at_least <= 0:
        return 1.0
    if at_least > trials:
        return 0.0
    if at_least > _EXACT_TERMS:
        return _beta_binomial_sf_normal(at_least, trials, a, b)
    log_pmf0 = _log_beta_ratio(a, b, trials)
    # cdf = pmf(0) * (1 + rest), rest = sum of pmf(k) / pmf(0); 1 - cdf = -expm1(log cdf) keeps a small tail exact
    # where 1 - sum would cancel.
    ratio, rest = 1.0, 0.0
    for k in range(at_least - 1):
        ratio *= (trials - k) * (k + a) / ((k + 1) * (trials - k - 1 + b))
        rest += ratio
    return min(1.0, max(0.0, -math.expm1(log_pmf0 + math.log1p(rest))))


def _beta_binomial_sf_normal(at_least: int, trials: int, a: float, b: float) -> float:
    """Normal approximation (with continuity correction) for the tail of a beta-binomial with thousands of terms:
    a canary of 100k+ requests in one period, where the exact sum would cost more than it could change (the
    error is about 1e-2 at a thousand terms and shrinks beyond, measured against scipy in the tests)."""
    mean = trials * a / (a + b)
    variance = trials * a * b * (a + b + trials) / ((a + b) ** 2 * (a + b + 1))
    return min(1.0, max(0.0, normal_sf((at_least - 0.5 - mean) / math.sqrt(variance))))


def _log_beta_ratio(a: float, b: float, trials: int) -> float:
    """log(B(a, trials + b) / B(a, b)). For a whole a (the judgement's case: a = N_b - r_b + 1, about 1% of the
    baseline's requests) it is the sum over i < a of log(1 - trials / (trials + b + i)), exact where the
    difference of four large lgammas would lose about 1e-11 absolute, i.e. 1e-7 relative on a small tail."""
    if a == math.floor(a) and a <= _EXACT_PRODUCT_UP_TO:
        return math.fsum(math.log1p(-trials / (trials + b + i)) for i in range(int(a)))
    return math.lgamma(trials + b) + math.lgamma(a + b) - math.lgamma(trials + a + b) - math.lgamma(b)


def poisson_binomial_sf(at_least: int, probabilities: Sequence[float]) -> float:
    """P(K >= at_least) for K the number of successes of independent Bernoulli(p_i) trials (exact, O(n^2))."""
    if at_least <= 0:
        return 1.0
    if at_least > len(probabilities):
        return 0.0
    # K >= at_least iff failures <= n - at_least: track whichever count needs fewer states, dropping the mass
    # that has already crossed (it cannot come back), so a healthy canary's small K costs O(n * K).
    n = len(probabilities)
    if at_least - 1 <= n - at_least:
        return min(1.0, max(0.0, 1.0 - _mass_at_most(at_least - 1, probabilities)))
    return min(1.0, max(0.0, _mass_at_most(n - at_least, [1.0 - p for p in probabilities])))


def _mass_at_most(limit: int, probabilities: Sequence[float]) -> float:
    """P(at most ``limit`` successes) of independent Bernoulli(p_i) trials, tracking only states 0..limit."""
    distribution = [1.0] + [0.0] * limit  # distribution[j] = P(j successes so far), j <= limit
    for p in probabilities:
        q = 1.0 - p
        for j in range(limit, 0, -1):
            distribution[j] = distribution[j] * q + distribution[j - 1] * p
        distribution[0] *= q
    return math.fsum(distribution)


def p99_rank(count: int) -> int:
    """1-based rank of the nearest-rank 99th percentile of ``count`` values: ceil(0.99 * count), in integers."""
    return max(1, (99 * count + 99) // 100)


def p99_exceedance_probability(canary_count: int, baseline_count: int) -> float:
    """P(canary sample p99 > baseline sample p99) for two independent samples of one continuous distribution.

    The baseline's p99 is its order statistic of rank r_b = p99_rank(N_b), and F(X_(r_b)) ~ Beta(r_b, N_b - r_b + 1)
    for the common CDF F. The canary's p99 (rank r_c of n_c) exceeds it iff at least m = n_c - r_c + 1 canary
    values do, and given F(X_(r_b)) = u that count is Binomial(n_c, 1 - u); so the count is
    BetaBinomial(n_c, N_b - r_b + 1, r_b) and the answer is its upper tail at m. Distribution-free: it depends
    only on the two request counts, which is how the small canary's noisier p99 is compared like with like.
    """
    canary_rank = p99_rank(canary_count)
    baseline_rank = p99_rank(baseline_count)
    return beta_binomial_sf(
        canary_count - canary_rank + 1, canary_count, float(baseline_count - baseline_rank + 1), float(baseline_rank)
    )
