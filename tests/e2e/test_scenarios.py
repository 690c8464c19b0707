"""`tollgate simulate FILE...`: every built-in scenario plays as expected on the embedded AWS; the live timeline,
the summary and the output folder say so. The scenarios are played once for the module (they are the slow part)."""

from __future__ import annotations

import io
import json
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tollgate.cli import main
from tollgate.scenarios import runner
from tollgate.scenarios.play import built_in_scenarios, load_all, play_all
from tollgate.scenarios.timeline import ScenarioResult, render_summary

PLAYED = sorted(p.stem for p in built_in_scenarios())


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, ScenarioResult], str, Path]:
    out = tmp_path_factory.mktemp("scenarios")
    live = io.StringIO()
    # Two at a time, not the CLI's four: the other xdist workers share this machine's two cores, and the scenarios'
    # flows have latency budgets of their own (a second or two per request).
    results = play_all(load_all(built_in_scenarios()), out=out, stdout=live, workers=2)
    return {r.name: r for r in results}, live.getvalue(), out


@pytest.mark.parametrize("name", PLAYED)
def test_every_built_in_scenario_plays_as_expected(
    played: tuple[dict[str, ScenarioResult], str, Path], name: str
) -> None:
    results, _, out = played
    result = results[name]
    # Then it played, matched every expectation, and its files are in the output folder
    failed_gates = [(e.t, e.step, e.verdict) for e in result.timeline if e.gate == "fail"]
    assert result.played and result.mismatches == [], (result.mismatches, failed_gates)
    assert result.actual == result.expected
    folder = out / name
    assert {p.name for p in folder.iterdir()} == {"result.json", "timeline.txt", "reports.json", "messages.json"}
    messages = json.loads((folder / "messages.json").read_text())
    assert len(messages["slack"]) + len(messages["email"]) == len(result.alerts)


def test_the_production_canary_scenarios_show_the_steps_and_the_analysis(
    played: tuple[dict[str, ScenarioResult], str, Path],
) -> None:
    results, live, _ = played
    # The approved release went 10 -> 50 -> 100 through the canary's state machine, each step analysed
    approved = results["production-canary-approved"]
    steps = [entry.step for entry in approved.timeline]
    assert steps.index("canary shift 10%") < steps.index("canary analysis 10%") < steps.index("canary shift 50%")
    assert steps.index("canary analysis 50%") < steps.index("AfterAllowTraffic")
    assert [e.gate for e in approved.timeline if e.step.startswith("canary analysis")] == ["pass", "pass"]
    assert any(line.startswith("  ") and "canary shift 50%" in line and " 50/50 " in line for line in live.splitlines())
    # The failing one was judged at 50% against the baseline, and traffic went back to the old version
    failed = results["production-canary-fails-at-50"]
    analyses = [e for e in failed.timeline if e.step.startswith("canary analysis")]
    assert [(e.step, e.gate) for e in analyses] == [("canary analysis 10%", "pass"), ("canary analysis 50%", "fail")]
    assert "5xx" in analyses[-1].verdict and failed.stop_deployments == 0


def test_what_the_scenarios_show(played: tuple[dict[str, ScenarioResult], str, Path]) -> None:
    results, live, out = played
    # The storm stopped the deployment exactly once; the rollbacks went to the revision before the release
    assert results["staging-alarm-storm"].stop_deployments == 1
    assert results["development-rolling-failing"].rollbacks == 1
    # The live timeline has a header and a line per moment, with time, step and traffic split
    assert "  time   step" in live
    assert any(line.startswith("  02:00  AfterAllowTestTraffic    100/0 ") for line in live.splitlines())
    assert "alarm 5xx-rate x20" in live
    # The summary in the folder is the one a person reads, and the HTML report has a picture per played scenario
    summary = (out / "summary.txt").read_text()
    assert summary == render_summary(list(results.values()))
    assert summary.splitlines()[-1] == f"{len(PLAYED)} of {len(PLAYED)} played scenarios as expected"
    page = (out / "report.html").read_text()
    assert page.count("<svg") == len(PLAYED)
    assert page.count("<section") == len(results)


def test_an_outcome_that_differs_from_its_expectation_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a healthy development release whose file expects a rollback
    wrong = tmp_path / "wrong.yaml"
    source = next(p for p in built_in_scenarios() if p.stem == "development-rolling-healthy")
    shutil.copy(source, wrong)
    wrong.write_text(wrong.read_text().replace("outcome: succeeded", "outcome: rolled-back"))
    # When it is simulated Then the exit code is 1 and the summary names the difference
    assert main(["simulate", str(wrong), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert "development-rolling-healthy: expected rolled-back, got succeeded" in out
    assert "0 of 1 played scenarios as expected" in out
    assert (tmp_path / "out" / "report.html").is_file()


def test_events_due_within_the_post_shift_window_happen_before_its_check_however_slow_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the storm scenario with its alarms moved inside the window after the shift (AfterAllowTraffic at
    # 04:00 starts the watch at 05:00), on a machine so loaded that the driver never sees the wall clock move
    # while the window runs: the virtual clock then moves only with the state machine's own tasks
    source = next(p for p in built_in_scenarios() if p.stem == "staging-alarm-storm").read_text()
    inside = source.replace("at: 4m20s", "at: 5m20s").replace("at: 4m25s", "at: 5m25s")
    assert inside != source
    storm = tmp_path / "storm-inside-the-window.yaml"
    storm.write_text(inside)
    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: 0.0, time=time.time))
    # When it plays
    [result] = play_all(load_all([storm]), out=tmp_path / "out", stdout=io.StringIO())
    # Then the alarms fired before the watch's check: the deployment was stopped once, as the scenario expects
    assert result.mismatches == [], result.mismatches
    assert (result.deployment_status, result.stop_deployments) == ("Stopped", 1)
