"""`tollgate show` and `tollgate history` on the embedded AWS: deployments played by `tollgate simulate`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tollgate.cli import main
from tollgate.ledger import source


@pytest.fixture(scope="module")
def staging_ledger() -> source.MemoryLedger:
    # Given staging's healthy backend release and one whose backend answers 5xx, played for real
    return source.played_ledger("staging")


@pytest.fixture
def played(monkeypatch: pytest.MonkeyPatch, staging_ledger: source.MemoryLedger) -> source.MemoryLedger:
    # The commands play the same two deployments; play them once for the whole module.
    for module in ("tollgate.commands.show", "tollgate.commands.history"):
        monkeypatch.setattr(f"{module}.played_ledger", lambda environment: staging_ledger)
    return staging_ledger


def test_the_ledger_holds_both_played_deployments_and_the_rollback(staging_ledger: source.MemoryLedger) -> None:
    simulations = staging_ledger.simulations
    assert [s.status for s in simulations] == ["Succeeded", "Failed"]
    failed = staging_ledger.deployment(simulations[1].deployment_id)
    assert failed is not None and failed.rolled_back and failed.outcome.value == "failed"
    assert failed.rollback_deployment_id == simulations[1].rollback_deployment_id
    rollback = staging_ledger.deployment(str(failed.rollback_deployment_id))
    assert rollback is not None and rollback.is_rollback and rollback.rollback_of == failed.deployment_id


def test_show_prints_the_rolled_back_deployments_whole_story(played: Any, capsys: pytest.CaptureFixture[str]) -> None:
    failed = played.simulations[1]
    # When the rolled-back deployment is shown
    assert main(["show", failed.deployment_id, "--env", "staging"]) == 0
    out = capsys.readouterr().out
    # Then its outcome and rollback, and every hook that ran with each of its checks and evidence
    assert f"Deployment {failed.deployment_id}: backend" in out
    assert "outcome      failed" in out and f"rolled back  yes ({failed.rollback_deployment_id}" in out
    ran = [step for step in failed.steps if step.outcome in ("Succeeded", "Failed") and step.verdict]
    for step in ran:
        assert f"  {step.name}: " in out, step.name
    assert out.count("evidence: ") >= len(ran)
    assert "FAIL  AfterAllowTestTraffic: flow backend-health" in out and "HTTP 503" in out


def test_markdown_is_a_change_record(played: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # When the last rolled-back deployment is shown as Markdown
    assert main(["show", "last-rolled-back", "--env", "staging", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    # Then it is a document with a title, the facts table, approvals, the gates table with evidence, the timeline
    lines = out.splitlines()
    assert lines[0].startswith("# Change record: backend") and "in staging" in lines[0]
    for heading in (
        "## Approvals",
        "## Gates and their evidence",
        "## Rollback and alarms",
        "## Alerts",
        "## Timeline",
    ):
        assert heading in lines
    assert "| **FAIL** | AfterAllowTestTraffic | flow backend-health |" in out
    assert '"problems": ["HTTP 503' in out  # the evidence, whole


def test_json_is_the_same_story(played: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "last-rolled-back", "--env", "staging", "--format", "json"]) == 0
    story = json.loads(capsys.readouterr().out)
    assert story["deployment"]["rolled_back"] is True
    assert any(not g["passed"] and g["hook"] == "AfterAllowTestTraffic" for g in story["gates"])


def test_history_lists_both_with_outcome_and_rollback(played: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--env", "staging", "--service", "backend", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    outcomes = [(r["outcome"], r["rolled_back"], r["is_rollback"]) for r in rows]
    assert ("succeeded", False, False) in outcomes and ("failed", True, False) in outcomes
    assert main(["history", "--env", "staging"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].split()[:2] == ["WHEN", "SERVICE"] and any("yes (" in line for line in table)


def test_an_unknown_deployment_or_bad_since_is_one_line(played: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "d-NOTHERE00", "--env", "staging"]) == 2
    assert main(["history", "--env", "staging", "--since", "soon"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(e.startswith("tollgate: ") for e in errors)
