"""Every sample in events/ replays through `tollgate replay --json` and yields the report contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tollgate.cli import main

SAMPLES = sorted(EVENTS_DIR.glob("*.json"))
REPORT_KEYS = {"handled_by", "decision", "reason", "results", "aws_calls", "notifications"}


def _args(path: Path) -> list[str]:
    args = ["replay", str(path), "--json"]
    event = json.loads(path.read_text())
    if "DeploymentId" in event:
        hook = path.stem.removeprefix("codedeploy-hook-")
        args += ["--env", "staging"] + (["--function", hook] if hook != "invocation" else [])
    return args


def test_there_are_samples_for_every_trigger() -> None:
    names = {p.stem for p in SAMPLES}
    for prefix in (
        "codedeploy-hook",
        "cloudwatch-alarm",
        "sns-cloudwatch-alarm",
        "codedeploy-deployment",
        "ecs-deployment",
        "scheduler",
    ):
        assert any(n.startswith(prefix) for n in names), prefix


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_replays_with_a_complete_report(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When the sample is replayed with --json
    exit_code = main(_args(sample))
    out = capsys.readouterr().out
    # Then one JSON object with the report contract comes out, and exit code 0
    assert exit_code == 0
    report = json.loads(out)
    assert report.keys() >= REPORT_KEYS
    assert [r["function"] for r in report["results"]] == report["handled_by"]
    assert {c["function"] for c in report["aws_calls"]} <= set(report["handled_by"])
    for call in report["aws_calls"]:
        assert {"function", "service", "operation", "params"} <= call.keys()
    for notification in report["notifications"]:
        assert {"channel", "to", "summary"} <= notification.keys()
    if not report["handled_by"]:
        assert report["decision"] == "ignored"
        assert report["reason"]
    assert report["decision"] != "error", report["reason"]


def test_a_file_that_is_not_json_exits_non_zero_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert main(["replay", str(bad), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "not JSON" in captured.err


def test_human_report_reads_well(capsys: pytest.CaptureFixture[str]) -> None:
    sample = EVENTS_DIR / "codedeploy-deployment-start.json"
    assert main(["replay", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "handled by" in out
    assert "decision" in out
