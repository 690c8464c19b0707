"""Play scenario files one after the other: live timeline, summary table, everything written to a folder."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from tollgate.local.template import REPO_ROOT, ensure_fresh_templates
from tollgate.scenarios.html_report import render_report
from tollgate.scenarios.runner import AVAILABLE_CAPABILITIES, play_scenario
from tollgate.scenarios.schema import Scenario, load_scenario
from tollgate.scenarios.timeline import (
    ScenarioResult,
    render_summary,
    render_timeline,
    timeline_header,
    timeline_line,
)

BUILT_IN_DIR = REPO_ROOT / "events" / "scenarios"


def built_in_scenarios() -> list[Path]:
    return sorted(BUILT_IN_DIR.glob("*.yaml"))


def load_all(paths: Sequence[Path]) -> list[tuple[Path, Scenario]]:
    """Every file validated before anything plays (ScenarioError on the first mistake)."""
    return [(path, load_scenario(path)) for path in paths]


# Scenarios mostly wait (the state machines' Wait states, bakes, the post-shift window), so several play at once
# even on two cores; each in its own process, since the embedded AWS keeps its state in module globals.
PARALLEL_SCENARIOS = 4


def play_all(
    scenarios: Sequence[tuple[Path, Scenario]],
    *,
    out: Path | None,
    stdout: TextIO,
    live: bool = True,
    verbose: bool = False,
    workers: int = PARALLEL_SCENARIOS,
) -> list[ScenarioResult]:
    """Play every scenario; each one's timeline is printed whole, in the given order, as soon as it ended."""
    if workers > 1 and len(scenarios) > 1:
        ensure_fresh_templates()  # once, before the workers start: they must not race on the local synth
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_play_one, path, scenario, verbose) for path, scenario in scenarios]
            played = [_shown_when_done(future, stdout, live=live) for future in futures]
    else:
        played = []
        for path, scenario in scenarios:
            if live:
                stdout.write(_heading(scenario))
                stdout.flush()

            def show(entry: Any) -> None:
                if live:
                    stdout.write(timeline_line(entry))
                    stdout.flush()

            result = play_scenario(scenario, source=_shown(path), on_entry=show)
            if live:
                stdout.write(_ending(result, verbose=verbose))
            played.append(result)
    results = []
    for result in played:
        results.append(result)
        if out is not None:
            write_scenario(out, result)
    if out is not None:
        write_summary(out, results)
    return results


def _heading(scenario: Scenario) -> str:
    text = f"\n== {scenario.name} ({scenario.environment}): {scenario.title}\n"
    if all(capability in AVAILABLE_CAPABILITIES for capability in scenario.requires):
        text += timeline_header()
    return text


def _ending(result: ScenarioResult, *, verbose: bool) -> str:
    text = f"  skipped: {result.skipped}\n" if result.skipped else ""
    return text + (render_aws_calls(result) if verbose else "")


def _play_one(path: Path, scenario: Scenario, verbose: bool) -> tuple[ScenarioResult, str]:
    """In a worker process: the scenario played, and its timeline as it would have been printed live."""
    lines: list[str] = []
    result = play_scenario(scenario, source=_shown(path), on_entry=lambda entry: lines.append(timeline_line(entry)))
    return result, _heading(scenario) + "".join(lines) + _ending(result, verbose=verbose)


def _shown_when_done(future: Future[tuple[ScenarioResult, str]], stdout: TextIO, *, live: bool) -> ScenarioResult:
    result, text = future.result()
    if live:
        stdout.write(text)
        stdout.flush()
    return result


def render_aws_calls(result: ScenarioResult) -> str:
    lines = [f"  AWS calls of {result.name}"]
    for report in result.reports:
        lines.append(f"    [{report['trigger']}] {len(report['aws_calls'])} calls")
        lines.extend(
            f"      {c['function']}: {c['service']}.{c['operation']}" + (f" ({c['error']})" if c.get("error") else "")
            for c in report["aws_calls"]
        )
    return "\n".join(lines) + "\n"


def write_scenario(out: Path, result: ScenarioResult) -> None:
    folder = out / result.name
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / "result.json", result.as_dict())
    if result.skipped:
        return
    (folder / "timeline.txt").write_text(render_timeline(result), encoding="utf-8")
    _dump(folder / "reports.json", result.reports)
    _dump(folder / "messages.json", result.messages)


def write_summary(out: Path, results: list[ScenarioResult]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(render_summary(results), encoding="utf-8")
    _dump(out / "summary.json", [r.as_dict() | {"timeline": len(r.timeline)} for r in results])
    (out / "report.html").write_text(render_report(results), encoding="utf-8")


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def exit_code(results: Sequence[ScenarioResult]) -> int:
    """1 when any played scenario differs from its expectations; skipped ones neither pass nor fail."""
    return 1 if any(r.played and not r.passed for r in results) else 0
