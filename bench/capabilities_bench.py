"""Hooks, rollback and notifier: each measured against a baseline taken in the same run."""

from __future__ import annotations

import copy
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from bench.measure import REPO_ROOT, line, median, percentile, timed
from tollgate.embedded_aws import EmbeddedAws
from tollgate.local.replay import local_world


def hook_flow_lines() -> list[str]:
    """N synthetic flows against an LMS whose every response takes 200 ms: wall time / slowest single flow."""
    from tollgate.local.lms_service import run_flows_against_slow_lms  # noqa: PLC0415

    single = median([run_flows_against_slow_lms(1, delay_seconds=0.2).elapsed_seconds for _ in range(3)])
    out = [line("baseline: one loan-application flow, 200 ms per response", f"{single * 1000:.0f} ms")]
    for flows in (5, 20):
        result = run_flows_against_slow_lms(flows, delay_seconds=0.2)
        ratio = result.elapsed_seconds / single
        note = f"({result.elapsed_seconds * 1000:.0f} ms, {result.passed}/{flows} passed; target <= 1.2)"
        out.append(line(f"{flows} flows concurrently", f"{ratio:.2f} x", note))
    return out


# The bench's storm: large enough for duplicates, flaps and every alarm kind many times over on 8 threads
# (the functional test plays 300); every event is handled on this one process's embedded AWS.
BENCH_STORM_SIZE = 500


def rollback_lines(repeat: int = 40, storm_size: int = BENCH_STORM_SIZE) -> list[str]:
    """Alarm event -> StopDeployment request, in-process, against one bare boto3 call; and a storm of alarms.

    The baseline is a warm client's simple call (STS GetCallerIdentity) from the functions' own session and
    client configuration, with the same call recorder on it, taken between the alarm events so that both see
    the same load on this machine.
    """
    from lambdas.core import aws  # noqa: PLC0415
    from tests.functional.rollback.scenario import rollback_scenario  # noqa: PLC0415
    from tests.functional.rollback.test_rollback_once import _deliver, _storm  # noqa: PLC0415

    with EmbeddedAws() as embedded:
        embedded.reset()
        with rollback_scenario("production") as scenario:
            sts = aws.client("sts")
            timed(sts.get_caller_identity, 5)  # warm: endpoint, credentials and connection pool resolved
            scenario.alarm_to_stop_deployment()  # warm: the handler imported, its clients created
            baseline_samples: list[float] = []
            runs = []
            for _ in range(repeat):
                baseline_samples += timed(sts.get_caller_identity, 2)
                runs.append(scenario.alarm_to_stop_deployment())
            scenario.in_flight_deployment("backend")
            events = _storm(scenario, ["backend"], storm_size, seed=7)
            scenario.recorder.clear()
            started = time.perf_counter()
            _deliver(scenario, events)
            storm = time.perf_counter() - started
            stops = len(scenario.recorder.named("StopDeployment"))
            storm_calls = len(scenario.recorder.calls)
    baseline = median(baseline_samples)
    latencies = [run.seconds for run in runs]
    waiting = [run.waiting_on_aws for run in runs]
    own = [run.seconds - run.waiting_on_aws for run in runs]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    before = {tuple(c.operation for c in run.calls_before) for run in runs}
    calls = max(len(names) for names in before)
    names = ", ".join(max(before, key=len))
    return [
        line(
            "baseline: one bare boto3 call on the embedded AWS", f"{baseline * 1000:.2f} ms", "(warm GetCallerIdentity)"
        ),
        line("alarm -> StopDeployment request, p50", f"{p50 / baseline:.1f} x", f"({p50 * 1000:.1f} ms; target <= 3)"),
        line("alarm -> StopDeployment request, p99", f"{p99 / baseline:.1f} x", f"({p99 * 1000:.1f} ms)"),
        line("AWS calls before StopDeployment", f"{calls}", f"({names}; target <= 3)"),
        line(
            "  of the p50: inside those calls (the floor they set)",
            f"{median(waiting) * 1000:.1f} ms",
            f"({median(waiting) / baseline:.2f} x; each needs the one before it)",
        ),
        line(
            "  of the p50: Tollgate's own code (outside those calls)",
            f"{median(own) * 1000:.1f} ms",
            f"({median(own) / baseline:.2f} x; the rest is waiting on the embedded AWS)",
        ),
        line(
            f"storm of {storm_size} ALARM events (8 threads)",
            f"{storm:.2f} s",
            f"({storm / storm_size * 1000:.1f} ms/event, {storm_calls / storm_size:.1f} AWS calls/event, "
            f"{stops} StopDeployment)",
        ),
    ]


def notifier_lines(repeat: int = 30) -> list[str]:
    """Per-event processing in-process against one bare Slack post to the local receiver, in the same run.

    Production with a bot token (the living message). The deployment exists in the embedded AWS, as in AWS
    (GetDeployment finds its revision). Three events, each a new event id (duplicates are rightly not acted
    on again): START again (the message exists: updated in place), SUCCESS (updated, and a reply in its
    thread), and START of a new deployment each time (its version looked up, the message posted).
    """
    from tollgate.embedded_aws.extensions import adopt_deployment_id  # noqa: PLC0415 - local runtime only
    from tollgate.embedded_aws.seed import create_deployment_of  # noqa: PLC0415

    start = json.loads((REPO_ROOT / "events/codedeploy-deployment-start.json").read_text())
    success = json.loads((REPO_ROOT / "events/codedeploy-deployment-success.json").read_text())
    with local_world("production") as world:
        notifier = next(f for f in world.template.functions.values() if f.handler.startswith("lambdas.notifier"))
        receiver = world.slack
        assert receiver is not None
        url = receiver.webhook_url("#bench")
        body = json.dumps({"text": "bench", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "b"}}]})

        def bare_post() -> None:
            request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5):
                pass

        def new_deployment() -> str:
            return create_deployment_of(world.config, "backend", description="bench")

        def event(sample: dict[str, object], deployment_id: str) -> dict[str, Any]:
            fresh: dict[str, Any] = copy.deepcopy(sample)
            fresh["id"] = str(uuid.uuid4())
            fresh["detail"]["deploymentId"] = deployment_id
            return fresh

        def invoke(prepared: dict[str, Any]) -> tuple[float, int, int]:
            """Seconds of one invocation, and the AWS and Slack calls it made."""
            calls, requests = len(world.recorder.calls), len(receiver.requests)
            began = time.perf_counter()
            invocation = world._invoke(notifier, prepared)
            seconds = time.perf_counter() - began
            if invocation.decision != "notified":
                raise RuntimeError(f"bench event not notified: {invocation.decision} {invocation.reason}")
            return seconds, len(world.recorder.calls) - calls, len(receiver.requests) - requests

        deployment = adopt_deployment_id(new_deployment(), start["detail"]["deploymentId"])
        world._invoke(notifier, event(start, deployment))  # the message exists; the Slack secret is read
        cases: dict[str, Callable[[], dict[str, Any]]] = {
            "notifier: START again, message updated in place": lambda: event(start, deployment),
            "notifier: SUCCESS, message updated + thread reply": lambda: event(success, deployment),
            "notifier: START of a new deployment, message posted": lambda: event(start, new_deployment()),
        }
        # Interleaved, so the baseline and every case see the same load on a shared machine.
        posts: list[float] = []
        runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in cases}
        for _ in range(repeat):
            posts += timed(bare_post, 1)
            for name, prepare in cases.items():
                runs[name].append(invoke(prepare()))  # the event is prepared outside the timing
    baseline = median(posts)
    out = [line("baseline: one bare Slack post to the local receiver", f"{baseline * 1000:.2f} ms")]
    for name, samples in runs.items():
        seconds = median([s for s, _, _ in samples])
        aws_calls, slack_calls = (sum(sample[i] for sample in samples) / len(samples) for i in (1, 2))
        note = f"({seconds * 1000:.1f} ms; {aws_calls:g} AWS + {slack_calls:g} Slack calls; target <= 10)"
        out.append(line(name, f"{seconds / baseline:.1f} x", note))
    return out
