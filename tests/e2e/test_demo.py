"""`tollgate demo` (what `make demo` runs): every sample, every environment, reports and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tollgate.cli import main


def test_demo_replays_every_sample_and_writes_reports_and_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the demo runs
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
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
    # And whole deployments were played: the healthy one succeeded, the faulty one rolled back
    healthy = json.loads((tmp_path / "simulate-staging-backend-none.json").read_text())
    faulty = json.loads((tmp_path / "simulate-staging-backend-5xx.json").read_text())
    assert (healthy["status"], healthy["rolled_back"]) == ("Succeeded", False)
    assert (faulty["status"], faulty["rolled_back"]) == ("Failed", True)
    assert "== whole deployments ==" in out
