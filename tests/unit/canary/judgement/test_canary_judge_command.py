"""`tollgate canary judge`: the samples give their documented verdicts; a malformed file exits 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.canary.judgement import judge_canary_step, parse_analysis
from lambdas.core.config import load_environment
from tests.unit.canary.judgement.helpers import SAMPLES_DIR, sample
from tollgate.cli import build_parser, main

# The verdicts docs/events.md documents for events/canary/, under production's policy.
DOCUMENTED = {
    "healthy": ("pass", {"requests": "pass", "errors": "pass", "latency": "pass"}),
    "error-regression": ("fail", {"requests": "pass", "errors": "fail", "latency": "pass"}),
    "latency-regression": ("fail", {"requests": "pass", "errors": "pass", "latency": "fail"}),
    "no-data": ("fail", {"requests": "fail", "errors": "inconclusive", "latency": "inconclusive"}),
    "one-flaky-period": ("pass", {"requests": "pass", "errors": "pass", "latency": "pass"}),
    "low-traffic": ("inconclusive", {"requests": "inconclusive", "errors": "pass", "latency": "pass"}),
}


def _judge(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["canary", "judge", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_sample_is_documented() -> None:
    assert sorted(p.stem for p in SAMPLES_DIR.glob("*.json")) == sorted(DOCUMENTED)
    table = (SAMPLES_DIR.parents[1] / "docs" / "events.md").read_text(encoding="utf-8")
    for name, (verdict, _) in DOCUMENTED.items():
        assert f"`canary/{name}.json`" in table and f"**{verdict}**" in table


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_sample_gives_its_documented_verdict(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a recorded step / When judged with --json
    code, out, err = _judge(capsys, str(SAMPLES_DIR / f"{name}.json"), "--json")
    # Then it exits 0 whatever the verdict, and prints one object with the verdict and every check's numbers
    report = json.loads(out)
    verdict, checks = DOCUMENTED[name]
    assert (code, err) == (0, "")
    assert report["verdict"] == verdict and report["reason"]
    assert {c["name"]: c["outcome"] for c in report["checks"]} == checks
    assert all(c["numbers"] for c in report["checks"])
    assert report["environment"] == "production" and report["service"] == "backend"
    assert report["policy"] == load_environment("production").canary_analysis.model_dump(mode="json")


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_the_command_runs_exactly_the_live_judgement(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a sample / When judged by the command and by the function the controller calls / Then they agree
    live = judge_canary_step(parse_analysis(sample(name)), load_environment("production").canary_analysis)
    _, out, _ = _judge(capsys, str(SAMPLES_DIR / f"{name}.json"), "--json")
    report = json.loads(out)
    assert {k: report[k] for k in live.to_json()} == json.loads(json.dumps(live.to_json()))


def test_env_selects_the_environments_policy(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the no-data sample / When judged with staging's policy (no data: inconclusive) / Then it waits for traffic
    _, out, _ = _judge(capsys, str(SAMPLES_DIR / "no-data.json"), "--env", "staging", "--json")
    report = json.loads(out)
    assert (report["verdict"], report["more_traffic_needed"], report["environment"]) == (
        "inconclusive",
        True,
        "staging",
    )


def test_text_output_reads_as_a_verdict_with_its_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _judge(capsys, str(SAMPLES_DIR / "error-regression.json"))
    lines = out.splitlines()
    assert code == 0
    assert "backend at 10% canary, 8 periods of 60 s, judged with production's canary_analysis" in lines[0]
    assert lines[1] == "verdict: FAIL"
    errors = next(line for line in lines if line.strip().startswith("errors"))
    assert "fail" in errors and "5xx 6.06% on the canary (52/858)" in errors
    assert any("p_value=" in line and "canary_errors=52" in line for line in lines)


def _write(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "analysis.json"
    path.write_bytes(content)
    return str(path)


def _healthy_with(change: Any) -> bytes:
    raw = sample("healthy")
    change(raw)
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
        (b"\xff\xfe{}", "not UTF-8 (byte 0)"),
        (b"", "not JSON"),
        (b"[1, 2]", "(root): expected an object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (
            _healthy_with(lambda r: r["canary"]["RequestCount"].pop()),
            "baseline.RequestCount: has 8 values, canary.RequestCount has 7",
        ),
        (_healthy_with(lambda r: r["baseline"]["RequestCount"].__setitem__(0, -5)), "baseline.RequestCount[0]"),
        (_healthy_with(lambda r: r.pop("canary")), "(root): missing canary"),
        (_healthy_with(lambda r: r["canary"].__setitem__("TargetResponseTime_p99", {})), "expected a list"),
    ],
)
def test_a_malformed_file_exits_2_with_one_line(
    tmp_path: Path, content: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file that is not an ANALYSIS / When judged / Then exit 2, one line on stderr naming what is wrong
    code, out, err = _judge(capsys, _write(tmp_path, content), "--json")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("tollgate: ") and message in err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _judge(capsys, str(tmp_path / "absent.json"))
    assert code == 2 and "cannot read" in err and err.count("\n") == 1


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _judge(capsys, _write(tmp_path, b" " * (8 * 1024 * 1024 + 1)))
    assert code == 2 and "larger than 8 MB" in err


def test_the_canary_group_is_shared_and_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the parser / When `canary` is given alone / Then a one-line refusal (exit 2)
    assert main(["canary"]) == 2
    assert "canary: choose a subcommand" in capsys.readouterr().err
    # And another module can add to the same group through canary_subcommands
    from tollgate.commands.canary_judge import canary_subcommands  # noqa: PLC0415

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    group = canary_subcommands(subparsers)
    group.add_parser("history").set_defaults(run=lambda _args: 0)
    assert parser.parse_args(["canary", "history"]).run(None) == 0
    assert parser.parse_args(["canary", "status", "--env", "production", "--service", "backend"]).kind == "status"
    assert parser.parse_args(["canary", "judge", "x.json"]).analysis == Path("x.json")
