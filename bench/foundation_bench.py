"""Synth time of every environment; replay latency per event against a bare boto3 call."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import boto3

from bench.measure import REPO_ROOT, line, median, timed
from lambdas.core.config import ENVIRONMENT_NAMES
from tollgate.local.replay import environment_for, local_world, read_event

EVENTS_DIR = REPO_ROOT / "events"


def synth_lines() -> list[str]:
    env = {**os.environ, "PATH": f"{REPO_ROOT / 'node_modules/.bin'}:{REPO_ROOT / '.venv/bin'}:{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run(["cdk", "synth", "--quiet"], cwd=REPO_ROOT, env=env, check=True, capture_output=True)  # noqa: S607
    cli = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(  # noqa: S603
        [str(REPO_ROOT / ".venv/bin/python"), "-c", "from tollgate.local.template import synthesize; synthesize()"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    in_process = time.perf_counter() - start
    return [
        line("cdk synth, all 3 environments (CDK CLI, with cdk-nag)", f"{cli:.2f} s"),
        line("synth in a fresh interpreter (what a stale replay pays)", f"{in_process:.2f} s"),
    ]


def replay_lines(repeat: int = 5) -> list[str]:
    by_environment: dict[str, list[Path]] = {}
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = read_event(path)
        environment = "staging" if "DeploymentId" in event else environment_for(event, None)
        by_environment.setdefault(environment, []).append(path)
    out = []
    for environment in [e for e in ENVIRONMENT_NAMES if e in by_environment]:
        start = time.perf_counter()
        with local_world(environment) as world:
            startup = time.perf_counter() - start
            sts = boto3.client("sts")
            baseline = median(timed(sts.get_caller_identity, 50))
            out.append(line(f"[{environment}] local world up (moto, seed, deploy)", f"{startup:.2f} s"))
            out.append(line(f"[{environment}] baseline: one bare boto3 call", f"{baseline * 1000:.2f} ms"))
            for path in by_environment[environment]:
                event = read_event(path)
                function = path.stem.removeprefix("codedeploy-hook-") if "DeploymentId" in event else None
                if function == "invocation":
                    function = None
                if "id" in event:
                    # A fresh event id each time: a repeated id is (rightly) answered as a duplicate.
                    def replay_fresh(e: dict[str, object] = event, f: str | None = function) -> None:
                        world.replay({**e, "id": str(uuid.uuid4())}, function=f)

                    seconds = median(timed(replay_fresh, repeat))
                    note = ""
                else:
                    # Hook payloads and SNS records carry no event id: only the first replay acts.
                    start = time.perf_counter()
                    world.replay(event, function=function)
                    seconds = time.perf_counter() - start
                    note = ", first replay only"
                out.append(
                    line(f"  replay {path.name}", f"{seconds / baseline:.1f} x", f"({seconds * 1000:.1f} ms{note})")
                )
    return out
