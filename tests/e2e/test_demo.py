"""`tollgate demo` (what `make demo` runs): every sample, every environment, reports and messages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tollgate.cli import main
from tollgate.scenarios.play import BUILT_IN_DIR


def test_demo_replays_every_sample_and_writes_reports_and_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one scenario (tests/e2e/test_scenarios.py plays every built-in one; the demo plays them all)
    scenarios = tmp_path / "scenarios-in"
    scenarios.mkdir()
    shutil.copy(BUILT_IN_DIR / "development-rolling-failing.yaml", scenarios)
    # When the demo runs
    assert main(["demo", "--out", str(tmp_path / "out"), "--scenarios", str(scenarios)]) == 0
    out = capsys.readouterr().out
    tmp_path = tmp_path / "out"
    # Then every sample has a report, and no replay ended in an error
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(s["event"] for s in summary) == sorted(p.name for p in EVENTS_DIR.glob("*.json"))
    assert all(s["decision"] != "error" for s in summary)
    assert f"{len(summary)} events replayed, 0 errors" in out
    # And the Slack messages and emails sent are kept, per environment, matching the reports' counts
    sent = 0
    for environment in ("development", "staging", "production"):
        messages = json.loads((tmp_path / f"{environment}.messages.json").read_text())
        sent += len(messages["slack"]) + len(messages["email"])
        assert all(m["payload"]["blocks"] for m in messages["slack"])
    assert sent == sum(s["notifications"] for s in summary)
    assert sent > 0
    # And each sample is one line (no AWS call listing without --verbose)
    sample_lines = [line for line in out.splitlines() if line.startswith("  ") and ".json " in line]
    assert len(sample_lines) == len(summary)
    assert "dynamodb.PutItem" not in out
    # And the scenarios were played after the samples, with the summary and the report in the folder
    assert out.index("== scenarios") > out.index("events replayed")
    assert "1 of 1 played scenarios as expected" in out
    result = json.loads((tmp_path / "scenarios" / "development-rolling-failing" / "result.json").read_text())
    assert (result["actual"], result["passed"]) == ("rolled-back", True)
    assert (tmp_path / "scenarios" / "report.html").is_file()
