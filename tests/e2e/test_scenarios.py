"""`tollgate simulate FILE...`: every built-in scenario plays as expected on the embedded AWS; the live timeline,
the summary and the output folder say so. The scenarios are played once for the module (they are the slow part)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from tollgate.cli import main
from tollgate.scenarios.play import built_in_scenarios, load_all, play_all
from tollgate.scenarios.timeline import ScenarioResult, render_summary

PLAYED = sorted(p.stem for p in built_in_scenarios())


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, ScenarioResult], str, Path]:
    out = tmp_path_factory.mktemp("scenarios")
    live = io.StringIO()
    results = play_all(load_all(built_in_scenarios()), out=out, stdout=live)
    return {r.name: r for r in results}, live.getvalue(), out


@pytest.mark.parametrize("name", PLAYED)
def test_every_built_in_scenario_plays_as_expected(
    played: tuple[dict[str, ScenarioResult], str, Path], name: str
) -> None:
    results, _, out = played
    result = results[name]
    # Then it played, matched every expectation, and its files are in the output folder
    assert result.played and result.mismatches == [], result.mismatches
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
