"""The canary: `tollgate canary judge` throughput, one live analysis decision, and a whole live release."""

from __future__ import annotations

import contextlib
import io
import json
import random
import tempfile
import time
from pathlib import Path

from bench.measure import REPO_ROOT, line

SAMPLES = sorted((REPO_ROOT / "events" / "canary").glob("*.json"))
FILES = 1_000


def _jittered(raw: dict[str, object], rng: random.Random, periods: int) -> dict[str, object]:
    """A sample stretched to ``periods`` periods with +-10% noise: the same shape, different numbers."""
    out: dict[str, object] = {k: raw[k] for k in ("service", "step_percent", "period_seconds")}
    for side in ("baseline", "canary"):
        series = raw[side]
        assert isinstance(series, dict)
        values: dict[str, list[float | int | None]] = {}
        for key, column in series.items():
            stretched = [column[i % len(column)] for i in range(periods)]
            if key == "TargetResponseTime_p99":
                values[key] = [None if v is None else round(v * rng.uniform(0.9, 1.1), 4) for v in stretched]
            else:
                values[key] = [None if v is None else max(0, round(v * rng.uniform(0.9, 1.1))) for v in stretched]
        # Keep 5xx at or under the requests, as ALB reports them.
        values["HTTPCode_Target_5XX_Count"] = [
            None if e is None else min(e, r or 0)
            for e, r in zip(values["HTTPCode_Target_5XX_Count"], values["RequestCount"], strict=True)
        ]
        out[side] = values
    return out


def _write_files(directory: Path) -> list[Path]:
    rng = random.Random(20)  # benchmark data, not secrets
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLES]
    paths = []
    for index in range(FILES):
        path = directory / f"analysis-{index:04d}.json"
        periods = rng.choice([8, 15, 30, 60])  # 8 min to an hour of one-minute periods
        path.write_text(json.dumps(_jittered(samples[index % len(samples)], rng, periods)), encoding="utf-8")
        paths.append(path)
    return paths


def judge_lines() -> list[str]:
    from lambdas.canary.judgement import judge_canary_step, parse_analysis  # noqa: PLC0415
    from lambdas.core.config import load_environment  # noqa: PLC0415
    from tollgate.cli import build_parser, main  # noqa: PLC0415

    policy = load_environment("production").canary_analysis
    with tempfile.TemporaryDirectory(prefix="tollgate-canary-bench-") as folder:
        paths = _write_files(Path(folder))

        started = time.perf_counter()
        for path in paths:
            json.loads(path.read_text(encoding="utf-8"))
        bare = time.perf_counter() - started

        started = time.perf_counter()
        verdicts: dict[str, int] = {}
        for path in paths:
            verdict = judge_canary_step(parse_analysis(json.loads(path.read_text(encoding="utf-8"))), policy)
            verdicts[verdict.verdict] = verdicts.get(verdict.verdict, 0) + 1
        pure = time.perf_counter() - started

        sink = io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            codes = [main(["canary", "judge", str(path), "--json"]) for path in paths]
        command = time.perf_counter() - started
        started = time.perf_counter()
        for _ in paths:
            build_parser()
        parsers = time.perf_counter() - started
    assert codes == [0] * FILES, "every generated file is well-formed"
    shown = ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items()))
    return [
        line(f"baseline: read + json.loads of {FILES} ANALYSIS files", f"{bare * 1000:.0f} ms"),
        line(
            "parse + judge (the live judgement), per file",
            f"{pure / bare:.1f} x",
            f"({pure / FILES * 1e6:.0f} us per file; {shown})",
        ),
        line(
            f"`tollgate canary judge --json` in-process, {FILES} files",
            f"{command / bare:.1f} x",
            f"({FILES / command:.0f} files/s, {command / FILES * 1e6:.0f} us per file)",
        ),
        line(
            "  of which building tollgate's whole argument parser",
            f"{parsers / bare:.1f} x",
            f"({parsers / FILES * 1e6:.0f} us per call; every subcommand's, not judge's)",
        ),
    ]


def analysis_lines() -> list[str]:
    """One live analysis decision (two target groups' GetMetricData + the judgement) vs one bare GetMetricData."""
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    from bench.measure import median, timed  # noqa: PLC0415
    from lambdas.canary.adapters.cloudwatch import AlbMetrics  # noqa: PLC0415
    from lambdas.canary.adapters.judgement import CanaryJudgement  # noqa: PLC0415
    from lambdas.core import aws  # noqa: PLC0415
    from lambdas.core.config import load_environment  # noqa: PLC0415
    from tollgate.embedded_aws import EmbeddedAws  # noqa: PLC0415

    config = load_environment("production")
    groups = config.lms.services["backend"].target_groups
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=7)
    with EmbeddedAws(region=config.region):
        cloudwatch = aws.client("cloudwatch")
        rng = random.Random(8)  # benchmark data, not secrets
        for group, requests in ((groups.blue, 900.0), (groups.green, 100.0)):
            dimensions = [
                {"Name": "TargetGroup", "Value": group},
                {"Name": "LoadBalancer", "Value": config.lms.load_balancer},
            ]
            for minute in range(7):
                at = start + timedelta(minutes=minute, seconds=30)
                cloudwatch.put_metric_data(
                    Namespace="AWS/ApplicationELB",
                    MetricData=[
                        {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": requests, "Timestamp": at},
                        {
                            "MetricName": "HTTPCode_Target_5XX_Count",
                            "Dimensions": dimensions,
                            "Value": 0.0,
                            "Timestamp": at,
                        },
                        *[
                            {
                                "MetricName": "TargetResponseTime",
                                "Dimensions": dimensions,
                                "Value": 0.08 + rng.uniform(-0.01, 0.01),
                                "Timestamp": at,
                            }
                            for _ in range(5)
                        ],
                    ],
                )
        metrics, judge = AlbMetrics(config), CanaryJudgement(config)
        bare_query = {
            "Id": "m0",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": "RequestCount",
                    "Dimensions": [
                        {"Name": "TargetGroup", "Value": groups.blue},
                        {"Name": "LoadBalancer", "Value": config.lms.load_balancer},
                    ],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }

        def bare() -> None:
            cloudwatch.get_metric_data(MetricDataQueries=[bare_query], StartTime=start, EndTime=end)

        verdicts: list[str] = []

        def decision() -> None:
            analysis = {
                "service": "backend",
                "step_percent": 10,
                "period_seconds": 60,
                "baseline": metrics.series(groups.blue, start=start, end=end, period_seconds=60),
                "canary": metrics.series(groups.green, start=start, end=end, period_seconds=60),
            }
            verdicts.append(str(judge.judge(analysis)["verdict"]))

        bare()
        decision()
        bare_s, decision_s = median(timed(bare, 30)), median(timed(decision, 30))
    return [
        line("baseline: one bare GetMetricData call (embedded AWS)", f"{bare_s * 1000:.1f} ms"),
        line(
            "one analysis decision: 2 x GetMetricData (3 series each) + judgement",
            f"{decision_s / bare_s:.1f} x",
            f"({decision_s * 1000:.1f} ms; verdict {verdicts[-1]})",
        ),
    ]


def live_canary_lines() -> list[str]:
    """A whole production release on the embedded AWS (approval, 10 -> 50 -> 100, the post-shift window), timed.

    The e2e tests act at given canary steps from the state machine's own tasks and assert no time; how long
    a release takes, and how much of it is Tollgate rather than the scripted waits, is measured here. The
    baseline is a staging blue/green release of the same service in the same run: the same world brought up,
    the same hooks, no canary.
    """
    from tollgate.local.simulation import simulate_deployment  # noqa: PLC0415 - brings the embedded AWS up

    started = time.perf_counter()
    staging = simulate_deployment("staging", "backend")
    blue_green = time.perf_counter() - started
    started = time.perf_counter()
    production = simulate_deployment("production", "backend", approve=True)
    canary = time.perf_counter() - started
    for played in (staging, production):
        if played.status != "Succeeded":
            raise RuntimeError(f"{played.environment} release did not succeed: {played.status}")
    return [
        line("baseline: staging blue/green release, healthy", f"{blue_green:.1f} s"),
        line(
            "production canary release, approved and healthy",
            f"{canary / blue_green:.1f} x",
            f"({canary:.1f} s; {len(production.canary)} canary tasks, waits divided by the local time scale)",
        ),
    ]
