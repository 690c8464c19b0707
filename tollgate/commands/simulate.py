"""``tollgate simulate --env ENV --service SVC [--fault F] [--approve] [--json]`` and
``tollgate simulate FILE... [--json] [--out DIR] [--verbose]`` (scenario files, docs/scenarios.md).

Plays one whole CodeDeploy ECS blue/green deployment on the embedded AWS with the real hook, notifier and
rollback functions, and prints the timeline: each lifecycle step with the hook's verdict, each notification,
the final status and whether traffic was rolled back.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lambdas.core.config import ENVIRONMENT_NAMES, ConfigError
from tollgate.cli import CommandError
from tollgate.local.replay import LocalWorldError
from tollgate.local.simulation import FAULTS, Simulation, SimulationError, simulate_deployment
from tollgate.local.template import TemplateError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="play a whole CodeDeploy blue/green deployment on the embedded AWS with Tollgate's real functions",
        description="Create a CodeDeploy deployment of SERVICE's current task definition in ENV, play its "
        "lifecycle with Tollgate's hook functions (optionally against a misbehaving LMS), and print the timeline.",
    )
    # Checked by the simulation, not argparse, so a bad value is one line and exit 2 like every CommandError.
    blue_green = "|".join(e for e in ENVIRONMENT_NAMES if e != "development")
    parser.add_argument("files", nargs="*", type=Path, help="scenario files (YAML, docs/scenarios.md) to play")
    parser.add_argument("--env", help=f"environment with CodeDeploy: {blue_green}")
    parser.add_argument("--service", help="LMS service, e.g. backend or frontend")
    parser.add_argument("--fault", default="none", help=f"make the stand-in LMS misbehave: {'|'.join(FAULTS)}")
    parser.add_argument("--approve", action="store_true", help="record an approval first (production's gate)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--out", type=Path, help="scenarios: write timelines, reports, messages and report.html here")
    parser.add_argument("--verbose", action="store_true", help="scenarios: list every AWS call of every event")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.files:
        if args.env or args.service:
            raise CommandError("give scenario files or --env/--service, not both")
        return run_scenarios(args.files, out=args.out, as_json=args.json, verbose=args.verbose)
    if not args.env or not args.service:
        raise CommandError("give scenario files, or --env and --service for one deployment")
    try:
        simulation = simulate_deployment(args.env, args.service, fault=args.fault, approve=args.approve)
    except (SimulationError, LocalWorldError, ConfigError, TemplateError) as error:
        raise CommandError(str(error)) from error
    if args.json:
        json.dump(simulation.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(simulation))
    return 0


def render(simulation: Simulation) -> str:
    """The timeline for a person: steps with verdicts, who was told what, how it ended."""
    fault = "" if simulation.fault == "none" else f", LMS fault {simulation.fault}"
    approval = ", approved" if simulation.approved else ""
    lines = [
        f"{simulation.service} on {simulation.environment} (embedded AWS{fault}{approval}): "
        f"deployment {simulation.deployment_id}"
    ]
    for step in simulation.steps:
        lines.append(f"  {step.name:<22} {step.outcome:<9} {step.detail}")
        if step.verdict:
            lines.append(f"  {'':<22} {'':<9} verdict: {step.verdict}")
    lines.append("  notifications")
    for triggered in simulation.reports:
        for note in triggered.report.notifications:
            lines.append(f"    [{triggered.trigger}] {note['channel']} {note['to']}: {note['summary']}")
    if not simulation.notifications:
        lines.append("    none")
    rollback = "no"
    if simulation.rolled_back:
        rollback = f"yes (traffic back on the original task set; rollback {simulation.rollback_deployment_id or '-'})"
    lines.append(f"  status       {simulation.status}")
    lines.append(f"  rolled back  {rollback}")
    return "\n".join(lines) + "\n"


def run_scenarios(files: list[Path], *, out: Path | None, as_json: bool, verbose: bool) -> int:
    """Play scenario files; exit 1 when any outcome differs from its expectation, 2 on a bad file."""
    from tollgate.scenarios.play import exit_code, load_all, play_all  # noqa: PLC0415 - only for scenario runs
    from tollgate.scenarios.schema import ScenarioError  # noqa: PLC0415
    from tollgate.scenarios.timeline import render_summary  # noqa: PLC0415

    try:
        scenarios = load_all(files)
    except ScenarioError as error:
        raise CommandError(str(error)) from error
    try:
        results = play_all(scenarios, out=out, stdout=sys.stdout, live=not as_json, verbose=verbose)
    except (SimulationError, LocalWorldError, ConfigError, TemplateError) as error:
        raise CommandError(str(error)) from error
    if as_json:
        json.dump(
            {"passed": exit_code(results) == 0, "scenarios": [r.as_dict() for r in results]},
            sys.stdout,
            indent=2,
            default=str,
            ensure_ascii=False,
        )
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n" + render_summary(results))
        if out is not None:
            sys.stdout.write(f"timelines, reports, Slack messages and emails in {out}/, picture in {out}/report.html\n")
    return exit_code(results)
