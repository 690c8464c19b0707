"""The embedded CloudWatch's additions: composite alarms and alarm history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.core import aws

RULE = 'ALARM("lms-backend-5xx") OR ALARM("lms-backend-p99")'


@pytest.fixture
def cloudwatch(embedded_aws: Any) -> Any:
    return aws.client("cloudwatch")


def _metric_alarm(cloudwatch: Any, name: str, threshold: float = 5.0) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
    )


def _composite_alarm(cloudwatch: Any, name: str = "lms-backend-health", rule: str = RULE) -> None:
    cloudwatch.put_composite_alarm(
        AlarmName=name,
        AlarmRule=rule,
        AlarmDescription="backend unhealthy",
        AlarmActions=["arn:aws:sns:eu-west-1:123456789012:tollgate-alerts"],
        ActionsSuppressor="lms-maintenance",
        ActionsSuppressorWaitPeriod=120,
        ActionsSuppressorExtensionPeriod=60,
        Tags=[{"Key": "tollgate:environment", "Value": "production"}],
    )


def test_composite_alarm_is_stored_and_described(cloudwatch: Any) -> None:
    # Given a composite alarm over two metric alarms
    _metric_alarm(cloudwatch, "lms-backend-5xx")
    _composite_alarm(cloudwatch)
    # When composite alarms are described
    described = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"])
    # Then it is there with what was put, in its initial INSUFFICIENT_DATA state
    (alarm,) = described["CompositeAlarms"]
    assert described["MetricAlarms"] == []
    assert alarm["AlarmName"] == "lms-backend-health"
    assert alarm["AlarmRule"] == RULE
    assert alarm["AlarmArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:lms-backend-health"
    assert alarm["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:tollgate-alerts"]
    assert alarm["ActionsSuppressor"] == "lms-maintenance"
    assert alarm["ActionsSuppressorWaitPeriod"] == 120
    assert alarm["ActionsSuppressorExtensionPeriod"] == 60
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "tollgate:environment", "Value": "production"}]


@pytest.mark.parametrize(
    ("alarm_types", "metric_names", "composite_names"),
    [
        (None, ["lms-backend-5xx"], []),
        (["MetricAlarm"], ["lms-backend-5xx"], []),
        (["CompositeAlarm"], [], ["lms-backend-health"]),
        (["MetricAlarm", "CompositeAlarm"], ["lms-backend-5xx"], ["lms-backend-health"]),
    ],
)
def test_describe_alarms_honours_alarm_types(
    cloudwatch: Any, alarm_types: list[str] | None, metric_names: list[str], composite_names: list[str]
) -> None:
    # Given one alarm of each type
    _metric_alarm(cloudwatch, "lms-backend-5xx")
    _composite_alarm(cloudwatch)
    # When alarms are described (AWS: without AlarmTypes, only metric alarms)
    kwargs = {"AlarmTypes": alarm_types} if alarm_types else {}
    described = cloudwatch.describe_alarms(**kwargs)
    # Then only the asked-for types come back
    assert [a["AlarmName"] for a in described["MetricAlarms"]] == metric_names
    assert [a["AlarmName"] for a in described["CompositeAlarms"]] == composite_names


def test_composite_alarm_state_can_be_set(cloudwatch: Any) -> None:
    _composite_alarm(cloudwatch)
    cloudwatch.set_alarm_state(AlarmName="lms-backend-health", StateValue="ALARM", StateReason="child in ALARM")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["lms-backend-health"], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"] == "child in ALARM"


def test_alarm_history_records_state_changes(cloudwatch: Any) -> None:
    # Given a metric alarm that went to ALARM and back
    _metric_alarm(cloudwatch, "lms-backend-5xx")
    cloudwatch.set_alarm_state(
        AlarmName="lms-backend-5xx", StateValue="ALARM", StateReason="5xx above 5", StateReasonData='{"value": 9}'
    )
    cloudwatch.set_alarm_state(AlarmName="lms-backend-5xx", StateValue="OK", StateReason="back to normal")
    # When its state history is read, oldest first
    items = cloudwatch.describe_alarm_history(
        AlarmName="lms-backend-5xx", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    # Then both transitions are there, with AWS's summary and data
    assert [i["HistorySummary"] for i in items] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"]
    first = json.loads(items[0]["HistoryData"])
    assert first["oldState"]["stateValue"] == "OK"
    assert first["newState"] == {"stateValue": "ALARM", "stateReason": "5xx above 5", "stateReasonData": {"value": 9}}
    assert {i["AlarmType"] for i in items} == {"MetricAlarm"}


def test_alarm_history_is_newest_first_by_default_and_filters(cloudwatch: Any) -> None:
    # Given a metric alarm (created then updated) and a composite alarm
    _metric_alarm(cloudwatch, "lms-backend-5xx")
    _metric_alarm(cloudwatch, "lms-backend-5xx", threshold=10.0)
    _composite_alarm(cloudwatch)
    # When the whole history is read
    everything = cloudwatch.describe_alarm_history()["AlarmHistoryItems"]
    composite_only = cloudwatch.describe_alarm_history(AlarmTypes=["CompositeAlarm"])["AlarmHistoryItems"]
    metric_config = cloudwatch.describe_alarm_history(
        AlarmName="lms-backend-5xx", HistoryItemType="ConfigurationUpdate", ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    # Then it is newest first, filters by type, and an update keeps the earlier history
    stamps = [i["Timestamp"] for i in everything]
    assert stamps == sorted(stamps, reverse=True)
    assert [i["AlarmName"] for i in composite_only] == ["lms-backend-health"]
    assert [i["HistorySummary"] for i in metric_config] == [
        'Alarm "lms-backend-5xx" created',
        'Alarm "lms-backend-5xx" updated',
    ]


def test_alarm_history_time_window_and_limit(cloudwatch: Any) -> None:
    _metric_alarm(cloudwatch, "lms-backend-5xx")
    for state in ("ALARM", "OK", "ALARM"):
        cloudwatch.set_alarm_state(AlarmName="lms-backend-5xx", StateValue=state, StateReason=state)
    now = datetime.now(UTC)
    assert cloudwatch.describe_alarm_history(EndDate=now - timedelta(hours=1))["AlarmHistoryItems"] == []
    limited = cloudwatch.describe_alarm_history(StartDate=now - timedelta(hours=1), MaxRecords=2)["AlarmHistoryItems"]
    assert len(limited) == 2
