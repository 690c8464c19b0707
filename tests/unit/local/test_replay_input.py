"""What replay accepts as an event, and the clear errors for what it does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdas.core.config import load_all_environments
from tollgate.local.recorder import redact
from tollgate.local.replay import EventError, event_kind, infer_environment, read_event


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ({"source": "aws.cloudwatch", "detail-type": "x", "detail": {}}, "eventbridge"),
        ({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "e"}, "codedeploy-hook"),
        ({"Records": [{"Sns": {"Message": "{}"}}]}, "sns"),
        ({"Records": []}, None),
        ({"hello": "world"}, None),
        ([1, 2], None),
    ],
)
def test_event_kinds(event: object, kind: str | None) -> None:
    assert event_kind(event) == kind


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "is not JSON"), ('{"hello": 1}', "is not an event"), ("[]", "is not an event")],
)
def test_bad_files_give_one_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(content)
    with pytest.raises(EventError, match=message):
        read_event(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EventError, match="cannot read"):
        read_event(tmp_path / "absent.json")


def test_environment_comes_from_the_account() -> None:
    configs = load_all_environments()
    event = {"account": configs["staging"].account, "source": "aws.codedeploy", "detail-type": "x", "detail": {}}
    assert infer_environment(event, configs) == "staging"
    topic = f"arn:aws:sns:eu-west-1:{configs['production'].account}:alarms"
    assert infer_environment({"Records": [{"Sns": {"TopicArn": topic}}]}, configs) == "production"
    assert infer_environment({"account": "999999999999"}, configs) is None


def test_secrets_never_reach_a_report() -> None:
    params = {
        "SecretId": "tollgate/prod/slack",
        "SecretString": "https://hooks.example/abc",
        "Nested": [{"Password": "x"}],
    }
    redacted = redact(params)
    assert redacted["SecretId"] == "tollgate/prod/slack"
    assert redacted["SecretString"] == "***"
    assert redacted["Nested"][0]["Password"] == "***"
    assert "abc" not in json.dumps(redacted)
    assert redact("x" * 5000).endswith("…")
