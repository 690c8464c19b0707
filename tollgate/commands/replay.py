"""``tollgate replay EVENT.json [--env ENV] [--function NAME] [--json]``.

Exit codes: 0 the handlers ran, 1 a handler raised (one line on stderr names it), 2 unreadable input
(not UTF-8, not JSON, nested too deeply, integers too large, not an object) or another usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdas.core.config import ENVIRONMENT_NAMES, ConfigError
from tollgate.cli import CommandError
from tollgate.local.replay import EventError, LocalWorldError, Report, environment_for, local_world, read_event
from tollgate.local.template import TemplateError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run the real handlers for an event on the embedded AWS and report what they did",
        description="Route EVENT by the synthesized stack's rules (or to --function), run the handlers on the "
        "embedded AWS, and report the functions, decisions, AWS calls and notifications.",
    )
    parser.add_argument("event", type=Path, help="an event file, e.g. events/cloudwatch-alarm-5xx-rate-alarm.json")
    parser.add_argument("--env", choices=ENVIRONMENT_NAMES, help="environment (default: from the event's account)")
    parser.add_argument("--function", help="invoke this function directly (hook payloads do not name their hook)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        event = read_event(args.event)
        environment = environment_for(event, args.env)
        with local_world(environment) as world:
            report = world.replay(event, function=args.function)
    except (EventError, LocalWorldError, ConfigError, TemplateError) as error:
        raise CommandError(str(error)) from error
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(report, source=str(args.event)))
    raised = [r["function"] for r in report.results if r["decision"] == "error"]
    if raised:
        # The report is printed; the exit code and one line say that a handler raised.
        reason = " ".join(report.reason.split())[:300]
        print(f"tollgate: replay: {', '.join(raised)} raised: {reason}", file=sys.stderr)
        return 1
    return 0


def render(report: Report, *, source: str) -> str:
    """The report for a person: what handled it, what it decided, what it called, who heard."""
    lines = [f"{source} on {report.environment} (embedded AWS)"]
    chain = " -> ".join(report.handled_by) or "nothing (no rule matched)"
    lines.append(f"  handled by   {chain}")
    lines.append(f"  decision     {report.decision}: {report.reason}")
    for result in report.results:
        lines.append(f"    {result['function']}: {result['decision']} ({result['reason']})")
    lines.append(f"  AWS calls    {len(report.aws_calls)}")
    for call in report.aws_calls:
        params = json.dumps(call["params"], default=str)
        if len(params) > 160:
            params = params[:157] + "..."
        error = f"  -> {call['error']}" if call.get("error") else ""
        lines.append(f"    {call['function']}: {call['service']}.{call['operation']} {params}{error}")
    lines.append(f"  notified     {len(report.notifications)}")
    lines.extend(f"    {n['channel']} {n['to']}: {n['summary']}" for n in report.notifications)
    return "\n".join(lines) + "\n"
