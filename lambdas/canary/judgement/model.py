"""What a canary step is judged on (ANALYSIS.json) and what the judgement says.

ANALYSIS.json is the one shape the live controller builds from GetMetricData and keeps in the step's evidence,
and the one ``tollgate canary judge`` reads, so every live decision can be re-judged offline::

    {"service": "backend", "step_percent": 10, "period_seconds": 60,
     "baseline": {"RequestCount": [...], "HTTPCode_Target_5XX_Count": [...], "TargetResponseTime_p99": [...]},
     "canary":   {"RequestCount": [...], "HTTPCode_Target_5XX_Count": [...], "TargetResponseTime_p99": [...]}}

One value per period, oldest first, equal lengths, ``null`` where CloudWatch had no datapoint, seconds for
TargetResponseTime as CloudWatch reports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["pass", "fail", "inconclusive"]
Number = float | int | None

SERVICE_KEY, STEP_KEY, PERIOD_KEY = "service", "step_percent", "period_seconds"
SIDES = ("baseline", "canary")
REQUESTS, ERRORS, P99 = "RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime_p99"
SERIES_KEYS = (REQUESTS, ERRORS, P99)
TOP_KEYS = (SERVICE_KEY, STEP_KEY, PERIOD_KEY, *SIDES)
# A step's window is at most CodeDeploy's one-hour hook; a day of one-minute periods is plenty for backtests
# and keeps the exact latency test (quadratic in periods) fast.
MAX_PERIODS = 1440
MAX_SERVICE_LENGTH = 64
# Far above any target group's requests in one period; keeps every count exact in a double.
MAX_COUNT = 1e12


class AnalysisFormatError(ValueError):
    """ANALYSIS input that is not the documented shape; the message names the field."""


@dataclass(frozen=True)
class MetricSeries:
    """One target group's ALB metrics, one value per period, oldest first; None where CloudWatch had none."""

    request_count: tuple[float | None, ...]
    errors_5xx: tuple[float | None, ...]
    p99_seconds: tuple[float | None, ...]


@dataclass(frozen=True)
class CanaryAnalysis:
    service: str
    step_percent: int
    period_seconds: int
    baseline: MetricSeries
    canary: MetricSeries

    @property
    def periods(self) -> int:
        return len(self.canary.request_count)


@dataclass(frozen=True)
class CanaryCheck:
    name: str
    outcome: Outcome
    reason: str
    numbers: Mapping[str, Number]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "outcome": self.outcome, "reason": self.reason, "numbers": dict(self.numbers)}


@dataclass(frozen=True)
class CanaryVerdict:
    """pass | fail | inconclusive, with every check and its numbers. Inconclusive never passes;
    ``more_traffic_needed`` says it is only for want of requests, so extending the bake may decide it."""

    verdict: Outcome
    reason: str
    checks: tuple[CanaryCheck, ...]
    more_traffic_needed: bool

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "more_traffic_needed": self.more_traffic_needed,
            "checks": [check.to_json() for check in self.checks],
        }


def parse_analysis(raw: object) -> CanaryAnalysis:
    """The ANALYSIS.json shape, strictly: unknown or missing keys, wrong types, negative or fractional counts,
    non-finite numbers and unequal lengths raise AnalysisFormatError naming the field."""
    if not isinstance(raw, dict):
        raise AnalysisFormatError(f"(root): expected an object with {', '.join(TOP_KEYS)}, got {_kind(raw)}")
    _exact_keys("(root)", raw, TOP_KEYS)
    service = raw[SERVICE_KEY]
    if not isinstance(service, str) or not 0 < len(service) <= MAX_SERVICE_LENGTH:
        raise AnalysisFormatError(f"{SERVICE_KEY}: expected a service name (1-{MAX_SERVICE_LENGTH} characters)")
    step = _integer(STEP_KEY, raw[STEP_KEY], 1, 100)
    period = _integer(PERIOD_KEY, raw[PERIOD_KEY], 1, 86_400)
    sides = {side: _series(side, raw[side]) for side in SIDES}
    lengths = {
        f"{side}.{key}": len(values)
        for side, series in sides.items()
        for key, values in zip(SERIES_KEYS, (series.request_count, series.errors_5xx, series.p99_seconds), strict=True)
    }
    expected = lengths[f"canary.{REQUESTS}"]
    for name, length in lengths.items():
        if length != expected:
            raise AnalysisFormatError(
                f"{name}: has {length} values, canary.{REQUESTS} has {expected} (one value per period, equal lengths)"
            )
    return CanaryAnalysis(
        service=service, step_percent=step, period_seconds=period, baseline=sides["baseline"], canary=sides["canary"]
    )


def analysis_to_json(analysis: CanaryAnalysis) -> dict[str, object]:
    """The ANALYSIS.json shape of ``analysis``; ``parse_analysis`` of it gives ``analysis`` back."""

    def side(series: MetricSeries) -> dict[str, list[Number]]:
        return {
            REQUESTS: [_count_out(v) for v in series.request_count],
            ERRORS: [_count_out(v) for v in series.errors_5xx],
            P99: list(series.p99_seconds),
        }

    return {
        SERVICE_KEY: analysis.service,
        STEP_KEY: analysis.step_percent,
        PERIOD_KEY: analysis.period_seconds,
        "baseline": side(analysis.baseline),
        "canary": side(analysis.canary),
    }


def _count_out(value: float | None) -> int | None:
    return None if value is None else int(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(type(value), "a number")


def _exact_keys(where: str, raw: dict[object, object], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in raw]
    if missing:
        raise AnalysisFormatError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(k) for k in raw if k not in keys)
    if unknown:
        shown = ", ".join(u[:40] for u in unknown[:3])
        raise AnalysisFormatError(f"{where}: unknown key(s) {shown}; expected exactly {', '.join(keys)}")


def _integer(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AnalysisFormatError(f"{name}: expected a whole number in {low}..{high}")
    return value


def _series(side: str, raw: object) -> MetricSeries:
    if not isinstance(raw, dict):
        raise AnalysisFormatError(f"{side}: expected an object with {', '.join(SERIES_KEYS)}, got {_kind(raw)}")
    _exact_keys(side, raw, SERIES_KEYS)
    return MetricSeries(
        request_count=_values(f"{side}.{REQUESTS}", raw[REQUESTS], count=True),
        errors_5xx=_values(f"{side}.{ERRORS}", raw[ERRORS], count=True),
        p99_seconds=_values(f"{side}.{P99}", raw[P99], count=False),
    )


def _values(name: str, raw: object, *, count: bool) -> tuple[float | None, ...]:
    if not isinstance(raw, list):
        raise AnalysisFormatError(f"{name}: expected a list, got {_kind(raw)}")
    if len(raw) > MAX_PERIODS:
        raise AnalysisFormatError(f"{name}: {len(raw)} periods, at most {MAX_PERIODS}")
    out: list[float | None] = []
    for index, value in enumerate(raw):
        if value is None:
            out.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AnalysisFormatError(f"{name}[{index}]: expected a number or null, got {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:  # an int beyond a double's range
            number = math.inf
        if not math.isfinite(number) or number < 0:
            raise AnalysisFormatError(f"{name}[{index}]: expected a finite non-negative number, got {value!r:.40}")
        if count and (number != math.floor(number) or number > MAX_COUNT):
            raise AnalysisFormatError(
                f"{name}[{index}]: a count must be a whole number up to {MAX_COUNT:.0e}, got {value!r:.40}"
            )
        out.append(number)
    return tuple(out)
