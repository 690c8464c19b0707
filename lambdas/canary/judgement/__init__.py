"""Canary judgement: a canary step's ALB metrics against the baseline's, as pure functions.

The live controller (lambdas/canary) and ``tollgate canary judge`` call exactly this, so every live decision
can be re-judged offline. docs/decisions/0020-canary-judgement.md records the statistics and why.
"""

from lambdas.canary.judgement.judge import judge_canary_step
from lambdas.canary.judgement.model import (
    AnalysisFormatError,
    CanaryAnalysis,
    CanaryCheck,
    CanaryVerdict,
    MetricSeries,
    analysis_to_json,
    parse_analysis,
)

__all__ = [
    "AnalysisFormatError",
    "CanaryAnalysis",
    "CanaryCheck",
    "CanaryVerdict",
    "MetricSeries",
    "analysis_to_json",
    "judge_canary_step",
    "parse_analysis",
]
