"""``tollgate canary judge ANALYSIS.json [--env ENV] [--json]``: the live canary judgement on recorded metrics.

Operators backtest an environment's ``canary_analysis`` thresholds on history before a release: the file is the
ANALYSIS shape the live controller keeps in every step's evidence, and the judgement is the same function
(``lambdas.canary.judgement.judge_canary_step``) with the same policy. Exit 0 whatever the verdict; exit 2 with
one line for a file that cannot be read or is not that shape.

The ``canary`` command group is shared: ``canary_subcommands(subparsers)`` finds or creates it, so other modules
(status, promote, abort) add their subcommands to the same group in any order.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdas.canary.judgement import (
    AnalysisFormatError,
    CanaryAnalysis,
    CanaryVerdict,
    judge_canary_step,
    parse_analysis,
)
from lambdas.core.config import ENVIRONMENT_NAMES, CanaryAnalysisPolicy
from tollgate.cli import CommandError, environment_config

GROUP = "canary"
DEFAULT_ENVIRONMENT = "production"
# ANALYSIS files are at most a day of periods: a few hundred KB. Anything far larger is not one.
MAX_FILE_BYTES = 8 * 1024 * 1024


def canary_subcommands(subparsers: Any) -> Any:
    """The ``canary`` group's own subparsers action, created on first use."""
    parser = subparsers.choices.get(GROUP)
    if parser is None:
        parser = subparsers.add_parser(
            GROUP,
            help="progressive delivery: judge a step; status, promote or abort the running canary",
            description="Canary steps of a release.",
        )
        parser.set_defaults(run=lambda _args: _missing_subcommand(parser))
        return parser.add_subparsers(dest="canary_command", metavar="SUBCOMMAND")
    # argparse keeps the subparsers action only among the parser's actions.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("the canary command has no subcommands")  # pragma: no cover - created above


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    raise CommandError("canary: choose a subcommand")


def register(subparsers: Any) -> None:
    parser = canary_subcommands(subparsers).add_parser(
        "judge",
        help="judge recorded canary metrics (ANALYSIS.json) exactly as the live canary step does",
        description="Judge a canary step's recorded ALB metrics against the baseline with an environment's "
        "canary_analysis policy. Exit 0 whatever the verdict; exit 2 for a malformed file.",
    )
    parser.add_argument("analysis", type=Path, metavar="ANALYSIS.json")
    parser.add_argument(
        "--env", default=DEFAULT_ENVIRONMENT, choices=ENVIRONMENT_NAMES, help="whose policy (default: production)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def read_analysis(path: Path) -> CanaryAnalysis:
    """The file's analysis, or a one-line CommandError saying what is wrong with it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise CommandError(f"{path}: cannot read ({error.strerror or error})") from error
    if len(data) > MAX_FILE_BYTES:
        raise CommandError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; not an ANALYSIS file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CommandError(f"{path}: not UTF-8 (byte {error.start})") from error
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"{path}: not JSON ({error.msg} at line {error.lineno} column {error.colno})") from error
    except RecursionError as error:
        raise CommandError(f"{path}: not an ANALYSIS file (nested too deeply)") from error
    try:
        return parse_analysis(raw)
    except AnalysisFormatError as error:
        raise CommandError(f"{path}: {_one_line(str(error))}") from error


def run(args: argparse.Namespace) -> int:
    analysis = read_analysis(args.analysis)
    config = environment_config(args.env)
    policy = config.canary_analysis
    verdict = judge_canary_step(analysis, policy)
    if args.json:
        print(json.dumps(report(args.analysis, config.name, analysis, policy, verdict), allow_nan=False))
    else:
        print(describe(args.analysis, config.name, analysis, verdict))
    return 0


def report(
    path: Path, environment: str, analysis: CanaryAnalysis, policy: CanaryAnalysisPolicy, verdict: CanaryVerdict
) -> dict[str, object]:
    return {
        **verdict.to_json(),
        "file": str(path),
        "environment": environment,
        "service": analysis.service,
        "step_percent": analysis.step_percent,
        "period_seconds": analysis.period_seconds,
        "periods": analysis.periods,
        "policy": policy.model_dump(mode="json"),
    }


def describe(path: Path, environment: str, analysis: CanaryAnalysis, verdict: CanaryVerdict) -> str:
    lines = [
        f"{path}: {analysis.service} at {analysis.step_percent}% canary, {analysis.periods} periods of "
        f"{analysis.period_seconds} s, judged with {environment}'s canary_analysis",
        f"verdict: {verdict.verdict.upper()}" + (" (more traffic needed)" if verdict.more_traffic_needed else ""),
    ]
    for check in verdict.checks:
        lines.append(f"  {check.name:<9} {check.outcome:<13} {check.reason}")
        numbers = ", ".join(f"{key}={_number(value)}" for key, value in check.numbers.items())
        lines.append(f"  {'':<9} {'':<13} {numbers}")
    return "\n".join(lines)


def _number(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())
