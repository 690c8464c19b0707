"""What happened in a scenario, moment by moment, and the scenario's result; how a person reads them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Live line columns: time, step, traffic split, check, verdict, decision, alert.
_WIDTHS = (6, 24, 12, 26, 34, 30)


@dataclass(frozen=True)
class TimelineEntry:
    t: int  # virtual seconds since the scenario began
    step: str  # a lifecycle hook, a CodeDeploy/ECS state, an injected event
    new_percent: int  # share of production traffic on the new version after this moment
    check: str = ""  # what was checked (flows, metric gate, approval ...)
    verdict: str = ""  # pass | fail | the hook's or CodeDeploy's word, with the reason
    decision: str = ""  # what Tollgate decided (rollback, skipped, announced ...)
    alerts: tuple[str, ...] = ()  # Slack messages and emails sent at this moment
    error_percent: float = 0.0  # error rate of the version serving most traffic (for the picture)
    gate: str = ""  # "pass" | "fail" when this moment is a gate's verdict, for the picture

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alerts"] = list(self.alerts)
        data["traffic"] = traffic_split(self.new_percent)
        return data


@dataclass
class ScenarioResult:
    name: str
    title: str
    environment: str
    source: str  # the scenario file
    expected: str
    actual: str = ""
    skipped: str = ""  # why, when the scenario was not played
    mismatches: list[str] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    rollbacks: int = 0
    stop_deployments: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)  # {channel, to, summary}
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # whole Slack payloads and emails
    reports: list[dict[str, Any]] = field(default_factory=list)  # every replay report, with its AWS calls
    deployment_id: str = ""
    deployment_status: str = ""
    duration_seconds: int = 0  # virtual
    wall_seconds: float = 0.0

    @property
    def played(self) -> bool:
        return not self.skipped

    @property
    def passed(self) -> bool:
        return self.played and not self.mismatches

    def as_dict(self, *, with_reports: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "environment": self.environment,
            "source": self.source,
            "expected": self.expected,
            "actual": self.actual,
            "passed": self.passed,
            "skipped": self.skipped,
            "mismatches": self.mismatches,
            "rollbacks": self.rollbacks,
            "stop_deployments": self.stop_deployments,
            "alerts": self.alerts,
            "deployment_id": self.deployment_id,
            "deployment_status": self.deployment_status,
            "duration_seconds": self.duration_seconds,
            "wall_seconds": round(self.wall_seconds, 2),
            "timeline": [e.as_dict() for e in self.timeline],
        }
        if with_reports:
            data["reports"] = self.reports
        return data


def clock(seconds: int) -> str:
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def traffic_split(new_percent: int) -> str:
    return f"old {100 - new_percent} / new {new_percent}"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def timeline_header() -> str:
    names = ("time", "step", "old/new %", "check", "verdict", "decision")
    return "  " + " ".join(n.ljust(w) for n, w in zip(names, _WIDTHS, strict=True)) + " alert\n"


def timeline_line(entry: TimelineEntry) -> str:
    """One line a person reads as it happens; the full texts are in the output folder."""
    cells = (
        clock(entry.t),
        entry.step,
        f"{100 - entry.new_percent}/{entry.new_percent}",
        entry.check or "-",
        entry.verdict or "-",
        entry.decision or "-",
    )
    alert = entry.alerts[0] if entry.alerts else "-"
    more = f" (+{len(entry.alerts) - 1})" if len(entry.alerts) > 1 else ""
    line = " ".join(_cut(c, w).ljust(w) for c, w in zip(cells, _WIDTHS, strict=True))
    return f"  {line} {_cut(alert, 60)}{more}\n"


def render_timeline(result: ScenarioResult) -> str:
    """The whole timeline, untruncated, for the output folder."""
    lines = [f"{result.name}: {result.title} ({result.environment})"]
    for e in result.timeline:
        lines.append(f"{clock(e.t)}  {e.step}  [{traffic_split(e.new_percent)}]")
        for label, value in (("check", e.check), ("verdict", e.verdict), ("decision", e.decision)):
            if value:
                lines.append(f"        {label}: {value}")
        lines.extend(f"        alert: {a}" for a in e.alerts)
    return "\n".join(lines) + "\n"


def duration(seconds: int) -> str:
    return f"{seconds // 60}m{seconds % 60:02d}s"


def render_summary(results: list[ScenarioResult]) -> str:
    """One table: scenario, expected, actual, rollbacks, alerts, duration; then what differed."""
    header = ("scenario", "expected", "actual", "rollbacks", "alerts", "duration")
    rows = []
    for r in results:
        if r.skipped:
            rows.append((r.name, r.expected, f"skipped: {r.skipped}", "-", "-", "-"))
            continue
        actual = r.actual if r.passed else f"{r.actual} ✗"
        rows.append((r.name, r.expected, actual, str(r.rollbacks), str(len(r.alerts)), duration(r.duration_seconds)))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows)
    for r in results:
        lines.extend(f"{r.name}: {m}" for m in r.mismatches)
    played = [r for r in results if r.played]
    passed = sum(r.passed for r in played)
    skipped = len(results) - len(played)
    lines.append(
        f"{passed} of {len(played)} played scenarios as expected"
        + (f", {skipped} skipped (not counted as passing)" if skipped else "")
    )
    return "\n".join(lines) + "\n"
