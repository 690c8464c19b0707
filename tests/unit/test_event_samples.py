"""The samples in events/ are shaped exactly as AWS sends them and map to the configured LMS.

Every replay, functional and end-to-end test feeds on these files, so a sample that drifts from
the real shape (reasonData as an object, an alarm name no environment knows) would make those
tests prove nothing. Each check below is a small function returning the problems it finds; the
samples must have none, and deliberately broken copies must have some (so the checks can fail).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig, Severity, load_all_environments
from lambdas.core.tollgate_events import TOLLGATE_SOURCE, DetailType

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
SAMPLE_FILES = sorted(EVENTS_DIR.glob("*.json"))

ENVELOPE_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
ALARM_KINDS = ("5xx-rate", "p99-latency", "unhealthy-hosts", "loan-submissions-anomaly", "service-unhealthy")
ALARM_STATES = {"OK", "ALARM", "INSUFFICIENT_DATA"}
SUPPRESSED_BY = {"Alarm", "WaitPeriod", "ExtensionPeriod"}
CODEDEPLOY_STATES = {"START", "SUCCESS", "FAILURE", "STOP", "READY"}
ECS_DEPLOYMENT_EVENTS = {"SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED"}
# SNS alarm messages name the region for people, not machines.
REGION_DISPLAY_NAMES = {"eu-west-1": {"EU (Ireland)", "Europe (Ireland)"}}

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")
ECS_DEPLOYMENT_ID = re.compile(r"^ecs-svc/\d+$")
# The envelope's time is second-precision UTC; alarm state timestamps use "+0000" with milliseconds.
ENVELOPE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ALARM_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")

# The situations the brief asks for; a missing one is a gap in what the replay tests can cover.
REQUIRED_SAMPLES = (
    "codedeploy-hook-invocation.json",
    "cloudwatch-alarm-5xx-rate-alarm.json",
    "cloudwatch-alarm-p99-latency-alarm.json",
    "cloudwatch-alarm-service-unhealthy-composite-alarm.json",
    "cloudwatch-alarm-5xx-rate-ok.json",
    "cloudwatch-alarm-p99-latency-insufficient-data.json",
    "cloudwatch-alarm-composite-suppressed.json",
    "cloudwatch-alarm-p99-latency-muted.json",
    "sns-cloudwatch-alarm.json",
    "codedeploy-deployment-start.json",
    "codedeploy-deployment-success.json",
    "codedeploy-deployment-failure.json",
    "codedeploy-deployment-stop.json",
    "codedeploy-deployment-ready.json",
    "ecs-deployment-in-progress.json",
    "ecs-deployment-completed.json",
    "ecs-deployment-failed.json",
    "scheduler-synthetics-tick.json",
)


# ---------------------------------------------------------------------------------------------
# Loading and classifying


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _samples() -> dict[str, Any]:
    # Read once per session; the checks below never mutate a sample (broken copies are deep copies).
    return {path.name: _load(path) for path in SAMPLE_FILES}


def _is_eventbridge(event: Any) -> bool:
    return isinstance(event, dict) and "detail-type" in event


def _of_type(detail_type: str) -> list[str]:
    return [
        name for name, event in _samples().items() if _is_eventbridge(event) and event["detail-type"] == detail_type
    ]


def _sns_alarm_samples() -> list[str]:
    return [name for name, event in _samples().items() if isinstance(event, dict) and "Records" in event]


@pytest.fixture(scope="module")
def environments() -> dict[str, EnvironmentConfig]:
    return load_all_environments()


def _environment_of_account(account: str, environments: dict[str, EnvironmentConfig]) -> EnvironmentConfig | None:
    return next((env for env in environments.values() if env.account == account), None)


def _parse_timestamp(value: str) -> datetime:
    # Python 3.11's fromisoformat reads both "…Z" and "…+0000".
    return datetime.fromisoformat(value)


# ---------------------------------------------------------------------------------------------
# Checks: each returns the problems it finds in one event


def envelope_problems(event: dict[str, Any]) -> list[str]:
    problems = [f"missing envelope field '{field}'" for field in ENVELOPE_FIELDS if field not in event]
    if problems:
        return problems
    if event["version"] != "0":
        problems.append("version must be the string '0'")
    if not isinstance(event["id"], str) or not UUID.match(event["id"]):
        problems.append("id must be a UUID string")
    for field in ("detail-type", "source"):
        if not isinstance(event[field], str) or not event[field]:
            problems.append(f"{field} must be a non-empty string")
    if not isinstance(event["account"], str) or not ACCOUNT.match(event["account"]):
        problems.append("account must be a 12-digit string")
    if not isinstance(event["region"], str) or not REGION.match(event["region"]):
        problems.append("region must be a region code")
    if not isinstance(event["time"], str) or not ENVELOPE_TIME.match(event["time"]):
        problems.append("time must be ISO-8601 UTC like 2026-03-12T14:20:42Z")
    else:
        _parse_timestamp(event["time"])
    resources = event["resources"]
    if not isinstance(resources, list) or not all(isinstance(r, str) and r.startswith("arn:aws:") for r in resources):
        problems.append("resources must be a list of ARNs")
    if not isinstance(event["detail"], dict | str):
        problems.append("detail must be an object (or, from EventBridge Scheduler, a string)")
    return problems


def _state_problems(label: str, state: Any) -> list[str]:
    if not isinstance(state, dict):
        return [f"{label} must be an object"]
    problems = []
    if state.get("value") not in ALARM_STATES:
        problems.append(f"{label}.value must be one of {sorted(ALARM_STATES)}")
    if not isinstance(state.get("reason"), str) or not state["reason"]:
        problems.append(f"{label}.reason must be a non-empty string")
    if not isinstance(state.get("timestamp"), str) or not ALARM_TIMESTAMP.match(state["timestamp"]):
        problems.append(f"{label}.timestamp must look like 2026-03-12T14:20:42.318+0000")
    if "reasonData" in state:
        reason_data = state["reasonData"]
        if not isinstance(reason_data, str):
            problems.append(f"{label}.reasonData must be a JSON string, not {type(reason_data).__name__}")
        else:
            try:
                if not isinstance(json.loads(reason_data), dict):
                    problems.append(f"{label}.reasonData must encode an object")
            except json.JSONDecodeError:
                problems.append(f"{label}.reasonData is not valid JSON")
    if "actionsSuppressedBy" in state:
        if state["actionsSuppressedBy"] not in SUPPRESSED_BY:
            problems.append(f"{label}.actionsSuppressedBy must be one of {sorted(SUPPRESSED_BY)}")
        if not isinstance(state.get("actionsSuppressedReason"), str):
            problems.append(f"{label}.actionsSuppressedReason must accompany actionsSuppressedBy")
    return problems


def alarm_problems(event: dict[str, Any]) -> list[str]:
    detail = event["detail"]
    problems = []
    name = detail.get("alarmName")
    if not isinstance(name, str) or not name:
        return ["detail.alarmName must be a non-empty string"]
    expected_arn = f"arn:aws:cloudwatch:{event['region']}:{event['account']}:alarm:{name}"
    if event["resources"] != [expected_arn]:
        problems.append(f"resources must be exactly the alarm's ARN {expected_arn}")
    problems += _state_problems("state", detail.get("state"))
    problems += _state_problems("previousState", detail.get("previousState"))
    configuration = detail.get("configuration")
    if not isinstance(configuration, dict):
        problems.append("detail.configuration must be an object")
    elif "alarmRule" in configuration:
        if not isinstance(configuration["alarmRule"], str) or "ALARM(" not in configuration["alarmRule"]:
            problems.append("configuration.alarmRule must be a rule expression over child alarms")
    elif not isinstance(configuration.get("metrics"), list) or not configuration["metrics"]:
        problems.append("a metric alarm's configuration.metrics must be a non-empty list")
    if "alarmTags" in detail:
        if not isinstance(detail["alarmTags"], dict) or not all(
            isinstance(v, str) for v in detail["alarmTags"].values()
        ):
            problems.append("alarmTags must be an object of string values")
        if detail.get("alarmTagsStatus") not in {"SUCCESS", "PARTIAL", "FAILED"}:
            problems.append("alarmTags come with an alarmTagsStatus")
    if "muteDetail" in detail:
        mute = detail["muteDetail"]
        if not isinstance(mute, dict) or not str(mute.get("mutedByArn", "")).startswith("arn:aws:cloudwatch:"):
            problems.append("muteDetail.mutedByArn must be an alarm mute rule ARN")
        for field in ("muteWindowStart", "muteWindowEnd"):
            if not isinstance(mute, dict) or not ALARM_TIMESTAMP.match(str(mute.get(field, ""))):
                problems.append(f"muteDetail.{field} must be a timestamp")
    return problems


def parse_alarm_name(name: str, environments: dict[str, EnvironmentConfig]) -> tuple[str, str, str] | None:
    """(environment, service, kind) for a name of the form tollgate-<environment>-<service>-<kind>."""
    for env in environments.values():
        for service in env.lms.services:
            prefix = f"tollgate-{env.name}-{service}-"
            if name.startswith(prefix) and name[len(prefix) :] in ALARM_KINDS:
                return env.name, service, name[len(prefix) :]
    return None


def alarm_mapping_problems(event: dict[str, Any], environments: dict[str, EnvironmentConfig]) -> list[str]:
    """The alarm maps to one configured environment and service, and its metrics to that service's resources."""
    detail = event["detail"]
    parsed = parse_alarm_name(detail["alarmName"], environments)
    if parsed is None:
        return [f"alarm name {detail['alarmName']!r} does not follow tollgate-<environment>-<service>-<kind>"]
    env_name, service_name, _ = parsed
    env = environments[env_name]
    problems = []
    if event["account"] != env.account or event["region"] != env.region:
        problems.append(f"account/region {event['account']}/{event['region']} are not those of {env_name}")
    tags = detail.get("alarmTags", {})
    if tags and (tags.get("tollgate:environment") != env_name or tags.get("tollgate:service") != service_name):
        problems.append("alarmTags tollgate:environment/tollgate:service disagree with the alarm name")
    if tags and tags.get("tollgate:severity") not in {severity.value for severity in Severity}:
        problems.append("alarmTags tollgate:severity must be a configured severity")
    service = env.lms.services[service_name]
    target_groups = {service.target_groups.blue, service.target_groups.green} - {None}
    for metric in detail.get("configuration", {}).get("metrics", []):
        stat = metric.get("metricStat")
        if stat is None:
            continue
        dimensions = stat["metric"]["dimensions"]
        if stat["metric"]["namespace"] != "AWS/ApplicationELB":
            problems.append(f"metric {metric['id']} is not an ALB metric")
        if dimensions.get("LoadBalancer") != env.lms.load_balancer:
            problems.append(f"metric {metric['id']} watches load balancer {dimensions.get('LoadBalancer')!r}")
        if dimensions.get("TargetGroup") not in target_groups:
            problems.append(f"metric {metric['id']} watches a target group that is not {service_name}'s")
    return problems


def sns_alarm_problems(event: dict[str, Any], environments: dict[str, EnvironmentConfig]) -> list[str]:
    records = event.get("Records")
    if not isinstance(records, list) or len(records) != 1:
        return ["an SNS Lambda event has one record in Records"]
    record = records[0]
    if record.get("EventSource") != "aws:sns":
        return ["Records[0].EventSource must be aws:sns"]
    message = record["Sns"].get("Message")
    if not isinstance(message, str):
        return ["Records[0].Sns.Message must be a JSON string"]
    try:
        alarm = json.loads(message)
    except json.JSONDecodeError:
        return ["Records[0].Sns.Message is not valid JSON"]
    problems = []
    for field in ("AlarmName", "NewStateValue", "OldStateValue", "NewStateReason", "StateChangeTime", "AlarmArn"):
        if not isinstance(alarm.get(field), str):
            problems.append(f"Message.{field} must be a string")
    if not isinstance(alarm.get("Trigger"), dict):
        problems.append("Message.Trigger must be an object")
    if problems:
        return problems
    parsed = parse_alarm_name(alarm["AlarmName"], environments)
    if parsed is None:
        return [f"alarm name {alarm['AlarmName']!r} does not follow tollgate-<environment>-<service>-<kind>"]
    env = environments[parsed[0]]
    if alarm["AlarmArn"] != f"arn:aws:cloudwatch:{env.region}:{env.account}:alarm:{alarm['AlarmName']}":
        problems.append("Message.AlarmArn is not the alarm's ARN in its environment")
    if alarm.get("Region") not in REGION_DISPLAY_NAMES.get(env.region, set()):
        problems.append(f"Message.Region must be the display name of {env.region}, not {alarm.get('Region')!r}")
    if alarm["NewStateValue"] not in ALARM_STATES or alarm["OldStateValue"] not in ALARM_STATES:
        problems.append("Message state values must be OK, ALARM or INSUFFICIENT_DATA")
    return problems


def codedeploy_problems(event: dict[str, Any], environments: dict[str, EnvironmentConfig]) -> list[str]:
    detail = event["detail"]
    env = _environment_of_account(event["account"], environments)
    if env is None:
        return [f"account {event['account']} is no configured environment"]
    problems = []
    if detail.get("state") not in CODEDEPLOY_STATES:
        problems.append(f"state must be one of {sorted(CODEDEPLOY_STATES)}")
    if not DEPLOYMENT_ID.match(str(detail.get("deploymentId"))):
        problems.append("deploymentId must look like d-ABCDEF123")
    if detail.get("application") != env.lms.codedeploy_application:
        problems.append(f"application must be {env.lms.codedeploy_application!r} in {env.name}")
    if env.service_for_deployment_group(str(detail.get("deploymentGroup"))) is None:
        problems.append(f"deployment group {detail.get('deploymentGroup')!r} is no service's in {env.name}")
    if detail.get("region") != event["region"]:
        problems.append("detail.region must repeat the envelope's region")
    if not UUID.match(str(detail.get("instanceGroupId"))):
        problems.append("instanceGroupId must be a UUID")
    return problems


def ecs_deployment_problems(event: dict[str, Any], environments: dict[str, EnvironmentConfig]) -> list[str]:
    detail = event["detail"]
    env = _environment_of_account(event["account"], environments)
    if env is None:
        return [f"account {event['account']} is no configured environment"]
    problems = []
    if detail.get("eventName") not in ECS_DEPLOYMENT_EVENTS:
        problems.append(f"eventName must be one of {sorted(ECS_DEPLOYMENT_EVENTS)}")
    expected_type = "ERROR" if detail.get("eventName") == "SERVICE_DEPLOYMENT_FAILED" else "INFO"
    if detail.get("eventType") != expected_type:
        problems.append(f"eventType of {detail.get('eventName')} must be {expected_type}")
    if not ECS_DEPLOYMENT_ID.match(str(detail.get("deploymentId"))):
        problems.append("deploymentId must look like ecs-svc/1234567890")
    if not isinstance(detail.get("reason"), str) or not detail["reason"]:
        problems.append("reason must be a non-empty string")
    _parse_timestamp(str(detail.get("updatedAt")))
    service_arns = {
        f"arn:aws:ecs:{env.region}:{env.account}:service/{env.lms.ecs_cluster}/{service.ecs_service}"
        for service in env.lms.services.values()
    }
    if len(event["resources"]) != 1 or event["resources"][0] not in service_arns:
        problems.append(f"resources must be one LMS service ARN of {env.name}")
    return problems


# ---------------------------------------------------------------------------------------------
# The samples


def test_every_required_situation_has_a_sample() -> None:
    # Given the situations the functions must be replayed against
    # When we look in events/
    missing = [name for name in REQUIRED_SAMPLES if not (EVENTS_DIR / name).is_file()]
    # Then none is missing
    assert missing == []


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_is_json_with_two_space_indent_and_final_newline(path: Path) -> None:
    # Given a sample file
    text = path.read_text(encoding="utf-8")
    # When it is parsed
    parsed = json.loads(text)
    # Then it is an object, written with 2-space indentation and ending in a newline
    assert isinstance(parsed, dict)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    indents = {len(line) - len(line.lstrip(" ")) for line in text.splitlines() if line.startswith(" ")}
    assert indents, "a sample is pretty-printed, not on one line"
    assert min(indents) == 2
    assert all(indent % 2 == 0 for indent in indents)


@pytest.mark.parametrize("name", [n for n, e in _samples().items() if _is_eventbridge(e)])
def test_eventbridge_sample_has_the_envelope_and_maps_to_an_environment(
    name: str, environments: dict[str, EnvironmentConfig]
) -> None:
    # Given an EventBridge-shaped sample
    event = _samples()[name]
    # When its envelope is checked
    problems = envelope_problems(event)
    # Then it is complete, typed as AWS types it, and from a configured account in its region
    assert problems == []
    env = _environment_of_account(event["account"], environments)
    assert env is not None, f"account {event['account']} is no configured environment"
    assert event["region"] == env.region


@pytest.mark.parametrize("name", _of_type("CloudWatch Alarm State Change"))
def test_alarm_sample_has_the_documented_detail(name: str) -> None:
    # Given an alarm state change sample
    event = _samples()[name]
    # When its detail is checked (reasonData a JSON string that parses, states, configuration)
    problems = alarm_problems(event)
    # Then nothing is off
    assert problems == []


@pytest.mark.parametrize("name", _of_type("CloudWatch Alarm State Change"))
def test_alarm_name_follows_the_scheme_and_maps_to_a_configured_service(
    name: str, environments: dict[str, EnvironmentConfig]
) -> None:
    # Given an alarm sample
    event = _samples()[name]
    # When its name and metrics are mapped to the environment config
    problems = alarm_mapping_problems(event, environments)
    # Then it names one configured environment and service, and watches that service's ALB resources
    assert problems == []


def test_alarm_samples_cover_every_transition_and_alarm_shape(environments: dict[str, EnvironmentConfig]) -> None:
    # Given every alarm sample
    details = [_samples()[name]["detail"] for name in _of_type("CloudWatch Alarm State Change")]
    transitions = {(d["previousState"]["value"], d["state"]["value"]) for d in details}
    mapped = [parse_alarm_name(d["alarmName"], environments) for d in details]
    environments_seen = {m[0] for m in mapped if m is not None}
    # Then the replay tests can exercise each transition, composite rules, suppression, muting and tags
    assert {("OK", "ALARM"), ("ALARM", "OK"), ("OK", "INSUFFICIENT_DATA")} <= transitions
    assert any("alarmRule" in d["configuration"] for d in details)
    assert any(any("expression" in m for m in d["configuration"].get("metrics", [])) for d in details)
    assert any("actionsSuppressedBy" in d["state"] for d in details)
    assert any("muteDetail" in d for d in details)
    assert any("alarmTags" in d for d in details)
    assert environments_seen == {"development", "staging", "production"}


@pytest.mark.parametrize("name", _sns_alarm_samples())
def test_sns_alarm_message_is_a_json_string_with_a_display_region(
    name: str, environments: dict[str, EnvironmentConfig]
) -> None:
    # Given an alarm delivered through SNS
    event = _samples()[name]
    # When Records[0].Sns.Message is parsed
    problems = sns_alarm_problems(event, environments)
    # Then it is the documented alarm message, its Region a display name
    assert problems == []


def test_scheduler_tick_detail_is_the_string_braces() -> None:
    # Given the EventBridge Scheduler sample
    event = _samples()["scheduler-synthetics-tick.json"]
    # Then it carries the Scheduler's defaults: source aws.scheduler and detail the *string* "{}"
    assert event["source"] == "aws.scheduler"
    assert event["detail-type"] == "Scheduled Event"
    assert event["detail"] == "{}"
    assert isinstance(event["detail"], str)
    assert event["resources"][0].startswith(f"arn:aws:scheduler:{event['region']}:{event['account']}:schedule/")


def test_hook_invocation_carries_only_the_two_ids() -> None:
    # Given the CodeDeploy lifecycle hook payload
    event = _samples()["codedeploy-hook-invocation.json"]
    # Then it is exactly the deployment id and the hook execution id, nothing else
    assert set(event) == {"DeploymentId", "LifecycleEventHookExecutionId"}
    assert DEPLOYMENT_ID.match(event["DeploymentId"])
    assert isinstance(event["LifecycleEventHookExecutionId"], str) and event["LifecycleEventHookExecutionId"]


@pytest.mark.parametrize("name", _of_type("CodeDeploy Deployment State-change Notification"))
def test_codedeploy_sample_maps_to_a_configured_deployment_group(
    name: str, environments: dict[str, EnvironmentConfig]
) -> None:
    event = _samples()[name]
    assert event["source"] == "aws.codedeploy"
    assert codedeploy_problems(event, environments) == []


def test_codedeploy_samples_cover_every_state_once_per_file() -> None:
    # Given the CodeDeploy deployment samples
    names = _of_type("CodeDeploy Deployment State-change Notification")
    states = {_samples()[name]["detail"]["state"] for name in names}
    # Then every state has a sample, and each file is named after its state
    assert states == CODEDEPLOY_STATES
    for name in names:
        assert name == f"codedeploy-deployment-{_samples()[name]['detail']['state'].lower()}.json"


@pytest.mark.parametrize("name", _of_type("ECS Deployment State Change"))
def test_ecs_sample_names_a_configured_service(name: str, environments: dict[str, EnvironmentConfig]) -> None:
    event = _samples()[name]
    assert event["source"] == "aws.ecs"
    assert ecs_deployment_problems(event, environments) == []


@pytest.mark.parametrize("name", [n for n, e in _samples().items() if e.get("source") == TOLLGATE_SOURCE])
def test_tollgate_sample_is_an_announcement_tollgate_defines(name: str) -> None:
    event = _samples()[name]
    assert event["detail-type"] in {d.value for d in DetailType}
    assert event["detail"]["environment"] in ENVIRONMENT_NAMES


def test_every_sample_is_of_a_known_kind() -> None:
    # Given every sample
    known_detail_types = {
        "CloudWatch Alarm State Change",
        "CodeDeploy Deployment State-change Notification",
        "ECS Deployment State Change",
        "Scheduled Event",
    }
    unchecked = [
        name
        for name, event in _samples().items()
        if not (
            (_is_eventbridge(event) and event["detail-type"] in known_detail_types)
            or (_is_eventbridge(event) and event["source"] == TOLLGATE_SOURCE)
            or "Records" in event
            or set(event) == {"DeploymentId", "LifecycleEventHookExecutionId"}
            or (event.get("version") == "2.0" and "http" in event.get("requestContext", {}))
        )
    ]
    # Then each one is checked by a test above (a new kind of sample needs its own checks)
    assert unchecked == []


# ---------------------------------------------------------------------------------------------
# The checks catch what they are for (broken copies of real samples)


def _broken(name: str, path: tuple[str | int, ...], value: Any) -> Any:
    event = copy.deepcopy(_samples()[name])
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("account",), "33333333333"),
        (("account",), 333333333333),
        (("time",), "12/03/2026 14:20"),
        (("version",), 0),
        (("id",), "not-a-uuid"),
        (("resources",), "arn:aws:cloudwatch:eu-west-1:333333333333:alarm:x"),
    ],
)
def test_envelope_check_rejects_a_broken_envelope(path: tuple[str, ...], value: Any) -> None:
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", path, value)
    assert envelope_problems(event) != []


def test_envelope_check_rejects_a_missing_field() -> None:
    event = copy.deepcopy(_samples()["ecs-deployment-failed.json"])
    del event["detail-type"]
    assert envelope_problems(event) == ["missing envelope field 'detail-type'"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "state", "reasonData"), {"version": "1.0"}),
        (("detail", "state", "reasonData"), "{not json"),
        (("detail", "state", "value"), "ALARMED"),
        (("detail", "previousState", "timestamp"), "2026-03-12 14:20"),
        (("resources",), ["arn:aws:cloudwatch:eu-west-1:333333333333:alarm:someone-else"]),
    ],
)
def test_alarm_check_rejects_a_broken_alarm(path: tuple[str, ...], value: Any) -> None:
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", path, value)
    assert alarm_problems(event) != []


def test_alarm_check_rejects_an_unknown_suppression() -> None:
    event = _broken(
        "cloudwatch-alarm-composite-suppressed.json", ("detail", "state", "actionsSuppressedBy"), "Maintenance"
    )
    assert alarm_problems(event) != []


@pytest.mark.parametrize(
    "alarm_name",
    [
        "tollgate-qa-backend-5xx-rate",  # no such environment
        "tollgate-production-billing-5xx-rate",  # no such service
        "tollgate-production-backend-cpu",  # no such kind
        "lms-production-backend-5xx-rate",  # not Tollgate's
        "tollgate-production-backend",
    ],
)
def test_alarm_name_outside_the_scheme_maps_to_nothing(
    alarm_name: str, environments: dict[str, EnvironmentConfig]
) -> None:
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", ("detail", "alarmName"), alarm_name)
    assert parse_alarm_name(alarm_name, environments) is None
    assert alarm_mapping_problems(event, environments) != []


def test_alarm_mapping_rejects_another_environments_account_and_resources(
    environments: dict[str, EnvironmentConfig],
) -> None:
    # A production alarm name arriving from the staging account, watching staging's load balancer
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", ("account",), environments["staging"].account)
    assert alarm_mapping_problems(event, environments) != []
    dimensions = ("detail", "configuration", "metrics", 1, "metricStat", "metric", "dimensions", "LoadBalancer")
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", dimensions, environments["staging"].lms.load_balancer)
    assert alarm_mapping_problems(event, environments) != []


@pytest.mark.parametrize(
    ("tag", "value"),
    [("tollgate:environment", "staging"), ("tollgate:service", "frontend"), ("tollgate:severity", "sev1")],
)
def test_alarm_mapping_rejects_tags_that_disagree(
    tag: str, value: str, environments: dict[str, EnvironmentConfig]
) -> None:
    event = _broken("cloudwatch-alarm-5xx-rate-alarm.json", ("detail", "alarmTags", tag), value)
    assert alarm_mapping_problems(event, environments) != []


def test_sns_check_rejects_a_decoded_message_and_a_region_code(environments: dict[str, EnvironmentConfig]) -> None:
    sample = _samples()["sns-cloudwatch-alarm.json"]
    decoded = _broken(
        "sns-cloudwatch-alarm.json",
        ("Records", 0, "Sns", "Message"),
        json.loads(sample["Records"][0]["Sns"]["Message"]),
    )
    assert sns_alarm_problems(decoded, environments) != []
    message = json.loads(sample["Records"][0]["Sns"]["Message"]) | {"Region": "eu-west-1"}
    coded = _broken("sns-cloudwatch-alarm.json", ("Records", 0, "Sns", "Message"), json.dumps(message))
    assert sns_alarm_problems(coded, environments) != []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "state"), "SUCCEEDED"),
        (("detail", "deploymentId"), "12345"),
        (("detail", "application"), "lms-staging"),
        (("detail", "deploymentGroup"), "lms-production-worker"),
    ],
)
def test_codedeploy_check_rejects_a_broken_event(
    path: tuple[str, ...], value: Any, environments: dict[str, EnvironmentConfig]
) -> None:
    event = _broken("codedeploy-deployment-start.json", path, value)
    assert codedeploy_problems(event, environments) != []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "eventName"), "SERVICE_DEPLOYMENT_DONE"),
        (("detail", "eventType"), "INFO"),
        (("resources",), ["arn:aws:ecs:eu-west-1:111111111111:service/lms-development/lms-development-worker"]),
    ],
)
def test_ecs_check_rejects_a_broken_event(
    path: tuple[str, ...], value: Any, environments: dict[str, EnvironmentConfig]
) -> None:
    event = _broken("ecs-deployment-failed.json", path, value)
    assert ecs_deployment_problems(event, environments) != []


@pytest.mark.parametrize("conclusion", ["success", "failure"])
def test_github_sample_is_a_signed_function_url_delivery_of_a_completed_run(conclusion: str) -> None:
    from lambdas.github_webhook.signature import verify  # noqa: PLC0415
    from lambdas.github_webhook.workflow_run import build_from_payload  # noqa: PLC0415
    from tollgate.local.github_webhook import LOCAL_WEBHOOK_SECRET  # noqa: PLC0415

    # Given the function URL sample of a completed workflow run
    event = _samples()[f"github-workflow-run-completed-{conclusion}.json"]
    headers = event["headers"]
    # Then it is a payload-format-2.0 POST with GitHub's headers, signed over the exact body
    assert event["requestContext"]["http"]["method"] == "POST" and event["isBase64Encoded"] is False
    assert headers["x-github-event"] == "workflow_run" and headers["x-github-delivery"]
    assert verify(LOCAL_WEBHOOK_SECRET, event["body"].encode(), headers["x-hub-signature-256"])
    # And its body is the completed run GitHub describes
    assert build_from_payload(json.loads(event["body"])).conclusion == conclusion
