"""How the ledger reads to a person: the history table, and a deployment's story as text, Markdown or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdas.ledger.compliance import ComplianceRecord, Gate
from lambdas.ledger.model import DecisionRecord, DeploymentRecord

MAX_EVIDENCE = 160
MARKDOWN_EVIDENCE = 4000  # a change ticket carries the evidence whole


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


def _rollback(d: DeploymentRecord) -> str:
    if d.is_rollback:
        return f"is rollback of {d.rollback_of}"
    if not d.rolled_back:
        return "no"
    restored = f", restored in {_duration(d.restore_seconds)}" if d.restore_seconds is not None else ""
    return f"yes ({d.rollback_deployment_id or 'traffic back on the previous release'}{restored})"


def deployment_row(d: DeploymentRecord) -> dict[str, Any]:
    return {
        "deployment_id": d.deployment_id,
        "when": d.started_at.isoformat() if d.started_at else None,
        "service": d.service,
        "version": d.version,
        "commit": d.commit,
        "started_by": d.started_by,
        "outcome": d.outcome.value,
        "rolled_back": d.rolled_back,
        "is_rollback": d.is_rollback,
        "rollback_deployment_id": d.rollback_deployment_id,
        "duration_seconds": d.duration_seconds,
        "time_to_restore_seconds": d.restore_seconds,
    }


def history_table(deployments: Sequence[DeploymentRecord]) -> str:
    header = ("WHEN", "SERVICE", "VERSION", "OUTCOME", "ROLLBACK", "DURATION", "DEPLOYMENT")
    rows = [
        (
            _when(d.started_at),
            d.service or "-",
            d.version or "-",
            d.outcome.value,
            _rollback(d),
            _duration(d.duration_seconds),
            d.deployment_id,
        )
        for d in deployments
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]
    ]
    if not rows:
        lines.append("(no deployments in this period)")
    return "\n".join(lines) + "\n"


def _evidence(evidence: dict[str, Any], limit: int = MAX_EVIDENCE) -> str:
    text = json.dumps(evidence, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _gate_line(gate: Gate) -> str:
    return f"{'PASS' if gate.passed else 'FAIL'}  {gate.hook}: {gate.name} — {gate.reason}"


def story_json(record: ComplianceRecord) -> dict[str, Any]:
    return {
        "deployment": deployment_row(record.story.deployment),
        "description": record.story.deployment.description,
        "committed_at": record.story.deployment.committed_at.isoformat()
        if record.story.deployment.committed_at
        else None,
        "gates": [g.__dict__ for g in record.gates],
        "approvals": [_decision(d) for d in record.approvals],
        "canary": [_decision(d) for d in record.canary],
        "rollback": [_decision(d) for d in record.rollback],
        "alerts": [{"announcement": d.what, "severity": d.severity, "routed_to": list(to)} for d, to in record.alerts],
        "timeline": [_decision(d) for d in record.story.decisions],
    }


def _decision(d: DecisionRecord) -> dict[str, Any]:
    return {
        "what": d.what,
        "when": d.occurred_at.isoformat(),
        "actor": d.actor,
        "severity": d.severity,
        "summary": d.summary,
        "why": d.why,
        "evidence": dict(d.evidence),
    }


def story_text(record: ComplianceRecord) -> str:
    d = record.story.deployment
    lines = [
        f"Deployment {d.deployment_id}: {d.service or '?'} {d.version or '(version unknown)'} in {d.environment}",
        f"  outcome      {d.outcome.value}",
        f"  rolled back  {_rollback(d)}",
        f"  started      {_when(d.started_at)} by {d.started_by or 'unknown'}",
        f"  ended        {_when(d.ended_at)} ({_duration(d.duration_seconds)})",
        f"  commit       {d.commit or '-'} (committed {_when(d.committed_at)})",
        "  approvals",
        *(
            [f"    {_when(a.occurred_at)}  {a.what} by {a.actor}: {a.why or a.summary}" for a in record.approvals]
            or ["    none recorded"]
        ),
        "  gates",
        *(
            [f"    {_gate_line(g)}\n      evidence: {_evidence(g.evidence)}" for g in record.gates]
            or ["    none recorded"]
        ),
        "  canary",
        *(
            [f"    {_when(c.occurred_at)}  {c.what}: {_evidence(dict(c.evidence))}" for c in record.canary]
            or ["    none (not a canary environment, or no steps recorded)"]
        ),
        "  rollback and alarms",
        *(
            [f"    {_when(r.occurred_at)}  {r.what} ({r.severity}) by {r.actor}: {r.why}" for r in record.rollback]
            or ["    none"]
        ),
        "  alerts (routed by the environment's alert routes)",
        *(
            [
                f"    {_when(a.occurred_at)}  {a.what} ({a.severity}) -> {', '.join(to) or 'no route'}"
                for a, to in record.alerts
            ]
            or ["    none"]
        ),
        "  timeline",
        *[f"    {_when(x.occurred_at)}  {x.what}: {x.summary} ({x.actor})" for x in record.story.decisions],
    ]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def story_markdown(record: ComplianceRecord) -> str:
    d = record.story.deployment
    out = [
        f"# Change record: {d.service or '?'} {d.version or ''} in {d.environment}".rstrip(),
        "",
        f"Deployment `{d.deployment_id}` — **{d.outcome.value}**"
        + (f", **rolled back** ({_rollback(d)})" if d.rolled_back else ""),
        "",
        "| field | value |",
        "|---|---|",
        f"| environment | {d.environment} |",
        f"| service | {d.service or '-'} |",
        f"| version | {d.version or '-'} |",
        f"| commit | `{d.commit or '-'}` (committed {_when(d.committed_at)}) |",
        f"| deployed by | {d.started_by or 'unknown'} |",
        f"| started | {_when(d.started_at)} |",
        f"| ended | {_when(d.ended_at)} ({_duration(d.duration_seconds)}) |",
        f"| outcome | {d.outcome.value} |",
        f"| rolled back | {_md(_rollback(d))} |",
        "",
        "## Approvals",
        "",
        *(
            [
                f"- {_when(a.occurred_at)}: **{a.what}** by {a.actor} — {_md(a.why or a.summary)}"
                for a in record.approvals
            ]
            or ["No approval was required or recorded."]
        ),
        "",
        "## Gates and their evidence",
        "",
        "| result | hook | check | reason | evidence |",
        "|---|---|---|---|---|",
        *[
            f"| {'PASS' if g.passed else '**FAIL**'} | {g.hook} | {_md(g.name)} | {_md(g.reason)} | "
            f"`{_md(_evidence(g.evidence, MARKDOWN_EVIDENCE))}` |"
            for g in record.gates
        ],
        "",
        "## Canary",
        "",
        *(
            [f"- {_when(c.occurred_at)}: {c.what} — `{_md(_evidence(dict(c.evidence)))}`" for c in record.canary]
            or ["No canary steps recorded."]
        ),
        "",
        "## Rollback and alarms",
        "",
        *(
            [
                f"- {_when(r.occurred_at)}: **{r.what}** ({r.severity}) by {r.actor} — {_md(r.why)}"
                for r in record.rollback
            ]
            or ["None."]
        ),
        "",
        "## Alerts",
        "",
        *([f"- {a.what} ({a.severity}) → {', '.join(to) or 'no route'}" for a, to in record.alerts] or ["None."]),
        "",
        "## Timeline",
        "",
        "| when | what | actor | summary |",
        "|---|---|---|---|",
        *[f"| {_when(x.occurred_at)} | {x.what} | {x.actor} | {_md(x.summary)} |" for x in record.story.decisions],
        "",
        "_Generated by Tollgate from its ledger._",
    ]
    return "\n".join(out) + "\n"
