"""Hostile input (tests/fuzz.py) through the hook function on the embedded AWS: no exception escapes, and an
invocation that is not a CodeDeploy hook is ignored without a report; one that names a real pending hook
execution is reported exactly once, however often and however oddly it arrives."""

from __future__ import annotations

import copy
import json
from typing import Any

from lambdas.core.config import Hook
from lambdas.hooks.handler import handler
from lambdas.hooks.naming import hook_function_name
from tests.conftest import EVENTS_DIR
from tests.functional.hooks.conftest import reports
from tests.fuzz import answer_is_json, run_fuzz
from tollgate.local.context import LocalLambdaContext
from tollgate.local.recorder import CallRecorder


def test_hostile_invocations_never_crash_a_hook_and_never_report_twice(hook_world: Any) -> None:
    # Given a staging deployment waiting at BeforeInstall, and every hook sample of events/
    world = hook_world("staging")
    deployment_id, execution_id = world.start_deployment("backend", Hook.BEFORE_INSTALL)
    samples = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EVENTS_DIR.glob("codedeploy-hook-*.json"))]
    # CodeDeploy sends only the two ids; fields it might add some day are mutated while the ids stay real
    samples.append(
        {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id, "extra": {"a": [1, "b"]}}
    )
    recorder = CallRecorder()
    recorder.attach()
    context = LocalLambdaContext(function_name=hook_function_name("staging", Hook.BEFORE_INSTALL))

    def check(event: Any) -> str:
        recorder.clear()
        answer = handler(copy.deepcopy(event), context)
        answer_is_json(answer)
        if answer["decision"] == "ignored":
            assert recorder.named("PutLifecycleEventHookExecutionStatus") == [], answer
            assert recorder.named("PutEvents") == [], answer
        return str(answer["decision"]).split(":", 1)[0]

    # When hostile invocations arrive
    seen = run_fuzz("hooks", samples, check)
    recorder.detach()

    # Then the ignored ones reported nothing, and the real execution was reported once
    assert seen["decision:ignored"] > 0
    reported = seen["decision:Succeeded"] + seen["decision:Failed"]
    assert reported <= 1
    assert len(reports(deployment_id)) == reported
