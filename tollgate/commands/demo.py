"""``tollgate demo``: the main job on the embedded AWS.

It replays every sample in ``events/`` on its environment, then plays whole CodeDeploy blue/green
deployments (healthy, faulty, production with approval), and writes each report, the Slack messages
and the emails to the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from lambdas.core.config import ENVIRONMENT_NAMES
from tollgate.cli import CommandError
from tollgate.commands.replay import render
from tollgate.commands.simulate import render as render_simulation
from tollgate.local.replay import EventError, environment_for, local_world, read_event
from tollgate.local.simulation import SimulationError, simulate_deployment
from tollgate.local.template import REPO_ROOT

EVENTS_DIR = REPO_ROOT / "events"
# Hook payloads do not name their hook: the demo replays them on a blue/green environment's
# hook function of the same name as the file's suffix (e.g. codedeploy-hook-afterallowtesttraffic).
HOOK_DEMO_ENVIRONMENT = "staging"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="replay every sample event on the embedded AWS and print the reports")
    parser.add_argument("--events", type=Path, default=EVENTS_DIR, help="folder of event samples")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="where reports and messages go")
    parser.set_defaults(run=run)


def _plan(events_dir: Path) -> dict[str, list[tuple[Path, dict[str, Any]]]]:
    plan: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for path in sorted(events_dir.glob("*.json")):
        try:
            event = read_event(path)
        except EventError as error:
            raise CommandError(str(error)) from error
        environment = HOOK_DEMO_ENVIRONMENT if "DeploymentId" in event else environment_for(event, None)
        plan[environment].append((path, event))
    return plan


def _hook_function(path: Path) -> str | None:
    suffix = path.stem.removeprefix("codedeploy-hook-")
    return suffix if suffix not in (path.stem, "invocation") else None


def run(args: argparse.Namespace) -> int:
    plan = _plan(args.events)
    if not plan:
        raise CommandError(f"no event samples in {args.events}")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = []
    for environment in [e for e in ENVIRONMENT_NAMES if e in plan]:
        sys.stdout.write(f"== {environment}: {len(plan[environment])} events ==\n")
        with local_world(environment) as world:
            for path, event in plan[environment]:
                function = _hook_function(path) if "DeploymentId" in event else None
                try:
                    report = world.replay(event, function=function)
                except EventError as error:
                    raise CommandError(f"{path.name}: {error}") from error
                sys.stdout.write(render(report, source=path.name))
                (args.out / f"{path.stem}.report.json").write_text(
                    json.dumps(report.as_dict(), indent=2, default=str) + "\n", encoding="utf-8"
                )
                summary.append(
                    {
                        "event": path.name,
                        "environment": environment,
                        "handled_by": report.handled_by,
                        "decision": report.decision,
                        "notifications": len(report.notifications),
                    }
                )
            (args.out / f"{environment}.messages.json").write_text(
                json.dumps(world.messages_sent(), indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
            )
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    errors = [s for s in summary if s["decision"] == "error"]
    sys.stdout.write(f"\n{len(summary)} events replayed, {len(errors)} errors; reports in {args.out}/\n")
    simulations = _simulate_deployments(args.out)
    return 1 if errors or not simulations else 0


# Whole deployments played by the local CodeDeploy driver with the real hooks, notifier and rollback:
# a healthy staging release, one whose backend answers 5xx, and an approved production release.
DEMO_DEPLOYMENTS = (
    ("staging", "backend", "none", False),
    ("staging", "backend", "5xx", False),
    ("production", "frontend", "none", True),
)


def _simulate_deployments(out: Path) -> bool:
    sys.stdout.write("\n== whole deployments ==\n")
    results = []
    for environment, service, fault, approve in DEMO_DEPLOYMENTS:
        try:
            simulation = simulate_deployment(environment, service, fault=fault, approve=approve)
        except SimulationError as error:
            raise CommandError(f"simulating {service} on {environment}: {error}") from error
        sys.stdout.write(f"-- fault: {fault}{', approved' if approve else ''}\n{render_simulation(simulation)}")
        name = f"simulate-{environment}-{service}-{fault}"
        (out / f"{name}.json").write_text(
            json.dumps(simulation.as_dict(), indent=2, default=str) + "\n", encoding="utf-8"
        )
        results.append(simulation)
    return all(r.status in {"Succeeded", "Failed", "Stopped"} for r in results)
