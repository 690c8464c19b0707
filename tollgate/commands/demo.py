"""``tollgate demo``: the main job on the embedded AWS.

It replays every sample in ``events/`` on its environment (one line each; ``--verbose`` lists every AWS
call), then plays every built-in scenario in ``events/scenarios/`` (live timeline, then one summary table),
and writes each report, the timelines, the Slack messages, the emails and ``scenarios/report.html`` to the
output folder.
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
from tollgate.local.replay import EventError, Report, environment_for, local_world, read_event
from tollgate.local.template import REPO_ROOT
from tollgate.scenarios.play import BUILT_IN_DIR, exit_code, load_all, play_all
from tollgate.scenarios.schema import ScenarioError
from tollgate.scenarios.timeline import render_summary

EVENTS_DIR = REPO_ROOT / "events"
# Hook payloads do not name their hook: the demo replays them on a blue/green environment's
# hook function of the same name as the file's suffix (e.g. codedeploy-hook-afterallowtesttraffic).
HOOK_DEMO_ENVIRONMENT = "staging"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="replay every sample event on the embedded AWS and print the reports")
    parser.add_argument("--events", type=Path, default=EVENTS_DIR, help="folder of event samples")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="where reports and messages go")
    parser.add_argument("--scenarios", type=Path, default=BUILT_IN_DIR, help="folder of scenario files to play")
    parser.add_argument("--verbose", action="store_true", help="every sample's whole report, with its AWS calls")
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
                sys.stdout.write(render(report, source=path.name) if args.verbose else one_line(path.name, report))
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
    scenarios_ok = _play_scenarios(args.scenarios, args.out / "scenarios")
    return 1 if errors or not scenarios_ok else 0


def one_line(source: str, report: Report) -> str:
    """What a sample caused, in one line: the decision and who handled it, and how many were told."""
    handled = " -> ".join(f.rsplit("/", 1)[-1] for f in report.handled_by) or "no function"
    told = f", {len(report.notifications)} notified" if report.notifications else ""
    return f"  {source:<54} {report.decision:<12} {handled}{told}\n"


def _play_scenarios(folder: Path, out: Path) -> bool:
    sys.stdout.write(f"\n== scenarios ({folder}) ==\n")
    try:
        scenarios = load_all(sorted(folder.glob("*.yaml")))
    except ScenarioError as error:
        raise CommandError(str(error)) from error
    if not scenarios:
        raise CommandError(f"no scenario files in {folder}")
    results = play_all(scenarios, out=out, stdout=sys.stdout)
    sys.stdout.write("\n" + render_summary(results))
    sys.stdout.write(f"timelines, Slack messages and emails in {out}/; open {out}/report.html\n")
    return exit_code(results) == 0
