"""Scenario files: every built-in one is valid; a mistake is one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate.cli import main
from tollgate.scenarios.play import built_in_scenarios
from tollgate.scenarios.schema import Capability, ScenarioError, load_scenario, parse_duration

VALID = """\
name: staging-ok
title: a healthy release
environment: staging
release: {service: backend}
expect: {outcome: succeeded}
"""


def _write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_built_in_scenario_is_valid_and_the_canary_ones_say_they_need_the_controller() -> None:
    # Given the built-in scenarios
    paths = built_in_scenarios()
    assert len(paths) >= 9
    # When each is loaded, Then it validates, and exactly the production canary ones need the controller
    scenarios = {p.stem: load_scenario(p) for p in paths}
    assert {n for n, s in scenarios.items() if Capability.CANARY_CONTROLLER in s.requires} == {
        "production-canary-approved",
        "production-canary-fails-at-50",
    }
    assert all(s.name == stem for stem, s in scenarios.items())


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("environment: staging", "environment: qa"), "environment", "'development', 'staging' or 'production'"),
        (("release: {service: backend}", "release: {service: database}"), "release.service", "no service 'database'"),
        (("expect: {outcome: succeeded}", "expect: {outcome: fine}"), "expect.outcome", "succeeded"),
        (("title: a healthy release\n", ""), "title", "Field required"),
        (
            ("expect:", "events:\n  - {at: 1m, alarm: {kind: 6xx}}\nexpect:"),
            "events[0].alarm.kind",
            "5xx-rate",
        ),
        (("expect:", "events:\n  - {at: soon, duplicate_hook: AfterInstall}\nexpect:"), "events[0].at", "duration"),
        (
            ("expect:", "events:\n  - {at: 1m}\nexpect:"),
            "events[0]",
            "exactly one of alarm, operator, duplicate_hook, operator_rollback",
        ),
        (("expect:", "lms:\n  - {from: 1m, error_percent: 150}\nexpect:"), "lms[0].error_percent", "100"),
        (("expect:", "colour: blue\nexpect:"), "colour", "Extra inputs are not permitted"),
        (
            ("expect:", "events:\n  - {at: 5m, operator: {action: promote}}\nexpect:"),
            "",
            "requires: [canary-controller]",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], field: str, words: str
) -> None:
    # Given a scenario file with one mistake
    path = _write(tmp_path, VALID.replace(*change))
    # When it is loaded
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    # Then the message is one line naming the file, the field and what is wrong
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    if field:
        assert f"field '{field}'" in message
    assert words in message


def test_a_file_that_is_not_yaml_or_not_a_mapping_says_so(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"not YAML \(line 2\)"):
        load_scenario(_write(tmp_path, "name: x\n  bad: [\n"))
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(_write(tmp_path, "- a list\n"))


def test_the_command_refuses_a_bad_file_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a good and a bad file When both are simulated
    good = _write(tmp_path, VALID, "good.yaml")
    bad = _write(tmp_path, VALID.replace("environment: staging", "environment: qa"), "bad.yaml")
    # Then nothing plays: one line on stderr names the bad file and field, exit 2
    assert main(["simulate", str(good), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert f"{bad}: field 'environment'" in line


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("2m", 120), ("1m30s", 90), ("1h", 3600), (45, 45)])
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@given(st.integers(min_value=0, max_value=99), st.integers(min_value=0, max_value=59))
def test_minutes_and_seconds_add_up(minutes: int, seconds: int) -> None:
    assert parse_duration(f"{minutes}m{seconds}s") == minutes * 60 + seconds


@pytest.mark.parametrize("bad", ["soon", "", "-1m", True, -5, "1.5m"])
def test_what_is_not_a_duration_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)
