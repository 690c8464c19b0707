"""One self-contained HTML page (inline CSS and SVG, no external assets): the summary, then per scenario a
picture of the new version's traffic share and the error rate users saw over virtual time, gates marked,
and the timeline."""

from __future__ import annotations

from html import escape

from tollgate.scenarios.timeline import ScenarioResult, clock, duration, traffic_split

WIDTH, HEIGHT, PAD = 760, 220, 40

_STYLE = """
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.passed h2::after{content:" \\2714";color:#1a7f37}.failed h2::after{content:" \\2718";color:#cf222e}
.skipped{color:#777}.traffic{fill:none;stroke:#0969da;stroke-width:2}
.error-rate{fill:none;stroke:#cf222e;stroke-width:2}
.gate-pass{stroke:#1a7f37}.gate-fail{stroke:#cf222e;stroke-width:2}.event{stroke:#9a6700;stroke-dasharray:4 3}
.axis{stroke:#888}text{font-size:11px}
"""


def render_report(results: list[ScenarioResult]) -> str:
    played = [r for r in results if r.played]
    head = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Tollgate scenarios</title>"
        f"<style>{_STYLE}</style></head><body><h1>Tollgate scenarios</h1>"
        f"<p>{sum(r.passed for r in played)} of {len(played)} played scenarios as expected; "
        f"{len(results) - len(played)} skipped.</p>"
    )
    rows = "".join(
        f"<tr class='{_status(r)}'><td><a href='#{escape(r.name)}'>{escape(r.name)}</a></td>"
        f"<td>{escape(r.expected)}</td><td>{escape(r.actual or 'skipped: ' + r.skipped)}</td>"
        f"<td>{r.rollbacks if r.played else '-'}</td><td>{len(r.alerts) if r.played else '-'}</td>"
        f"<td>{duration(r.duration_seconds) if r.played else '-'}</td></tr>"
        for r in results
    )
    summary = (
        "<table class='summary'><tr><th>scenario</th><th>expected</th><th>actual</th><th>rollbacks</th>"
        f"<th>alerts</th><th>duration</th></tr>{rows}</table>"
    )
    return head + summary + "".join(_section(r) for r in results) + "</body></html>\n"


def _status(result: ScenarioResult) -> str:
    return "skipped" if not result.played else "passed" if result.passed else "failed"


def _section(result: ScenarioResult) -> str:
    parts = [
        f"<section id='{escape(result.name)}' class='scenario {_status(result)}'>",
        f"<h2>{escape(result.name)}</h2><p>{escape(result.title)} ({escape(result.environment)})</p>",
    ]
    if not result.played:
        parts.append(f"<p>skipped: {escape(result.skipped)}</p></section>")
        return "".join(parts)
    parts.extend(f"<p class='mismatch'>{escape(m)}</p>" for m in result.mismatches)
    parts.append(timeline_svg(result))
    rows = "".join(
        f"<tr><td>{clock(e.t)}</td><td>{escape(e.step)}</td><td>{traffic_split(e.new_percent)}</td>"
        f"<td>{escape(e.check)}</td><td>{escape(e.verdict)}</td><td>{escape(e.decision)}</td>"
        f"<td>{'<br>'.join(escape(a) for a in e.alerts)}</td></tr>"
        for e in result.timeline
    )
    parts.append(
        "<table class='timeline'><tr><th>time</th><th>step</th><th>traffic</th><th>check</th><th>verdict</th>"
        f"<th>decision</th><th>alerts</th></tr>{rows}</table></section>"
    )
    return "".join(parts)


def timeline_svg(result: ScenarioResult) -> str:
    """Traffic on the new version (blue) and error rate seen by users (red), 0-100 %, over virtual time."""
    end = max(result.duration_seconds, max((e.t for e in result.timeline), default=0), 1)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(t: int) -> float:
        return round(PAD + plot_w * t / end, 1)

    def y(percent: float) -> float:
        return round(PAD + plot_h * (1 - percent / 100), 1)

    def steps(values: list[tuple[int, float]]) -> str:
        points: list[str] = []
        last = values[0][1] if values else 0.0
        points.append(f"{x(0)},{y(last)}")
        for t, value in values:
            points.append(f"{x(t)},{y(last)}")
            points.append(f"{x(t)},{y(value)}")
            last = value
        points.append(f"{x(end)},{y(last)}")
        return " ".join(points)

    traffic = steps([(e.t, float(e.new_percent)) for e in result.timeline])
    errors = steps([(e.t, e.error_percent) for e in result.timeline])
    marks = []
    for e in result.timeline:
        if e.gate:
            marks.append(
                f"<line class='gate gate-{e.gate}' x1='{x(e.t)}' x2='{x(e.t)}' y1='{PAD}' y2='{PAD + plot_h}'>"
                f"<title>{escape(e.step)} {e.gate} at {clock(e.t)}</title></line>"
            )
        elif e.decision:
            marks.append(
                f"<line class='event' x1='{x(e.t)}' x2='{x(e.t)}' y1='{PAD}' y2='{PAD + plot_h}'>"
                f"<title>{escape(e.step)} at {clock(e.t)}: {escape(e.decision)}</title></line>"
            )
    axes = (
        f"<line class='axis' x1='{PAD}' y1='{PAD + plot_h}' x2='{PAD + plot_w}' y2='{PAD + plot_h}'/>"
        f"<line class='axis' x1='{PAD}' y1='{PAD}' x2='{PAD}' y2='{PAD + plot_h}'/>"
        f"<text x='4' y='{PAD + 4}'>100%</text><text x='12' y='{PAD + plot_h}'>0%</text>"
        f"<text x='{PAD}' y='{HEIGHT - 8}'>00:00</text>"
        f"<text x='{PAD + plot_w - 30}' y='{HEIGHT - 8}'>{clock(end)}</text>"
        f"<text x='{PAD}' y='16' fill='#0969da'>traffic on the new version</text>"
        f"<text x='{PAD + 200}' y='16' fill='#cf222e'>error rate seen by users</text>"
        f"<text x='{PAD + 380}' y='16'>| gates (green pass, red fail), dashed: decisions</text>"
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='timeline-picture' width='{WIDTH}' height='{HEIGHT}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' role='img' aria-label='{escape(result.name)} timeline'>{axes}"
        f"<polyline class='traffic' points='{traffic}'/><polyline class='error-rate' points='{errors}'/>"
        f"{''.join(marks)}</svg>"
    )
