"""Adapter: the live judgement of lambdas.canary.judgement (the judge capability), behind the Judge port.

Imported by name at first use: the judgement package is built alongside (CONTRACTS.md, "Canary judgement API").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from lambdas.core.config import EnvironmentConfig


class CanaryJudgement:
    def __init__(self, config: EnvironmentConfig) -> None:
        self._config = config

    def judge(self, analysis: Mapping[str, Any]) -> dict[str, Any]:
        judgement: Any = importlib.import_module("lambdas.canary.judgement")
        parsed = judgement.parse_analysis(dict(analysis))
        verdict = judgement.judge_canary_step(parsed, getattr(self._config, "canary_analysis"))  # noqa: B009
        result: dict[str, Any] = verdict.to_json()
        return result
