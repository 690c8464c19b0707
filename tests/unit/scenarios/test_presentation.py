"""What a person reads: the live timeline line, the summary table, the HTML report; and the judgement."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tollgate.local.lms_service import LmsFaults
from tollgate.scenarios.html_report import render_report
from tollgate.scenarios.runner import judge
from tollgate.scenarios.schema import Scenario
from tollgate.scenarios.timeline import ScenarioResult, TimelineEntry, render_summary, timeline_line


def _result(name: str = "staging-fails", *, mismatches: list[str] | None = None) -> ScenarioResult:
    result = ScenarioResult(
        name=name,
        title="a failing release",
        environment="staging",
        source=f"events/scenarios/{name}.yaml",
        expected="rolled-back",
        actual="rolled-back",
        rollbacks=1,
        alerts=[{"channel": "slack", "to": "#deploys", "summary": "Deployment failed"}],
        duration_seconds=185,
        mismatches=mismatches or [],
    )
    result.timeline = [
        TimelineEntry(t=0, step="BeforeInstall", new_percent=0, check="change freeze", verdict="pass", gate="pass"),
        TimelineEntry(t=120, step="AfterAllowTraffic", new_percent=100, verdict="fail: HTTP 503", gate="fail"),
        TimelineEntry(
            t=150,
            step="alarm 5xx-rate",
            new_percent=100,
            decision="AlarmRollback: rollback",
            alerts=("slack #deploys: Rollback started", "email oncall: Rollback started"),
            error_percent=30.0,
        ),
        TimelineEntry(t=185, step="deployment stopped", new_percent=0, decision="CodeDeploy auto rollback"),
    ]
    return result


def test_a_timeline_line_has_time_step_split_check_verdict_decision_and_alert() -> None:
    line = timeline_line(_result().timeline[2])
    assert re.match(r"^  02:30 +alarm 5xx-rate +0/100 +- +- +AlarmRollback: rollback +slack #deploys: Rollback", line)
    assert line.endswith("(+1)\n")


def test_the_summary_is_one_table_with_skipped_ones_named_and_not_counted() -> None:
    # Given one passing, one failing and one skipped scenario
    failing = _result("prod-x", mismatches=["expected 1 StopDeployment call(s), saw 2"])
    skipped = ScenarioResult(
        name="prod-canary", title="t", environment="production", source="s", expected="succeeded", skipped="needs x"
    )
    text = render_summary([_result(), failing, skipped])
    lines = text.splitlines()
    # Then the header names the columns, one row per scenario, what differed, and the count
    assert lines[0].split() == ["scenario", "expected", "actual", "rollbacks", "alerts", "duration"]
    assert lines[2].split() == ["staging-fails", "rolled-back", "rolled-back", "1", "1", "3m05s"]
    assert lines[3].split()[:3] == ["prod-x", "rolled-back", "rolled-back"] and "✗" in lines[3]
    assert "skipped: needs x" in lines[4]
    assert "prod-x: expected 1 StopDeployment call(s), saw 2" in text
    assert lines[-1] == "1 of 2 played scenarios as expected, 1 skipped (not counted as passing)"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_html_report_is_self_contained_with_one_picture_per_played_scenario() -> None:
    # Given a played and a skipped scenario
    skipped = ScenarioResult(
        name="prod-canary", title="t", environment="production", source="s", expected="succeeded", skipped="needs x"
    )
    page = render_report([_result(), skipped])
    parser = _Tags()
    parser.feed(page)
    tags = parser.tags
    # Then nothing is loaded from elsewhere
    assert not [a for _, attrs in tags for k, a in attrs.items() if k in ("src", "href") and not str(a).startswith("#")]
    assert not [t for t, _ in tags if t in ("script", "link", "img")]
    # And each scenario has a section; the played one a picture: traffic, error rate, a marker per gate
    sections = [attrs for t, attrs in tags if t == "section"]
    assert [s["id"] for s in sections] == ["staging-fails", "prod-canary"]
    assert [s["class"] for s in sections] == ["scenario passed", "scenario skipped"]
    assert len([t for t, _ in tags if t == "svg"]) == 1
    classes = [attrs.get("class") for t, attrs in tags if t in ("polyline", "line")]
    assert classes.count("traffic") == 1 and classes.count("error-rate") == 1
    assert classes.count("gate gate-pass") == 1 and classes.count("gate gate-fail") == 1
    assert classes.count("event") == 2
    # And the traffic line climbs to 100 % (y at the top of the plot) and drops back to 0 %
    traffic = next(attrs["points"] for t, attrs in tags if attrs.get("class") == "traffic")
    ys = [float(p.split(",")[1]) for p in str(traffic).split()]
    assert min(ys) == 40.0 and ys[-1] == 180.0


SCENARIO = Scenario.model_validate(
    {
        "name": "s",
        "title": "t",
        "environment": "staging",
        "release": {"service": "backend"},
        "expect": {"outcome": "rolled-back", "stop_deployments": 1, "alerts": ["Rollback"], "no_alerts": ["failed"]},
    }
)


def test_judge_names_every_difference() -> None:
    result = _result()
    result.actual, result.stop_deployments = "succeeded", 2
    result.alerts = [{"channel": "slack", "to": "#d", "summary": "Deployment failed"}]
    assert judge(SCENARIO, result, {}) == [
        "expected rolled-back, got succeeded",
        "expected 1 StopDeployment call(s), saw 2",
        "expected an alert containing 'Rollback', none was sent",
        "expected no alert containing 'failed', one was sent",
    ]


def test_judge_is_silent_when_everything_matches() -> None:
    result = _result()
    result.stop_deployments = 1
    result.alerts = [{"channel": "slack", "to": "#d", "summary": "Rollback started"}]
    assert judge(SCENARIO, result, {}) == []


@pytest.mark.parametrize(("percent", "fails"), [(0, 0), (25, 25), (40, 40), (100, 100)])
def test_the_stand_in_lms_fails_exactly_its_share_of_requests(percent: float, fails: int) -> None:
    faults = LmsFaults(error_percent=percent)
    assert sum(faults.next_request_fails() for _ in range(100)) == fails
