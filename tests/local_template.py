"""A small hand-made template in the shape the CDK synthesizes, for local-runtime tests."""

from __future__ import annotations

from typing import Any

HANDLERS = "tests.functional.local.sample_handlers"


def sample_template() -> dict[str, Any]:
    def function(handler: str, name: str | None = None) -> dict[str, Any]:
        props: dict[str, Any] = {
            "Handler": f"{HANDLERS}.{handler}",
            "Timeout": 10,
            "MemorySize": 256,
            "Environment": {
                "Variables": {
                    "TOLLGATE_ENVIRONMENT": "staging",
                    "TOLLGATE_EVENT_BUS": {"Ref": "Bus"},
                    "TOLLGATE_STATE_TABLE": {"Ref": "StateTable"},
                    "TOLLGATE_ALERT_TOPIC_ARN": {"Ref": "Topic"},
                    "QUEUE_ARN": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "JOINED": {"Fn::Join": ["/", [{"Ref": "AWS::Region"}, "x"]]},
                    "SUBSTITUTED": {"Fn::Sub": "bus=${Bus} arn=${Bus.Arn}"},
                }
            },
        }
        if name:
            props["FunctionName"] = name
        return {"Type": "AWS::Lambda::Function", "Properties": props}

    return {
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "tollgate-staging"}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "StateTable": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                },
            },
            "Email": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"Protocol": "email", "TopicArn": {"Ref": "Topic"}, "Endpoint": "team@example.com"},
            },
            "Param": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/tollgate/staging/bus", "Type": "String", "Value": {"Ref": "Bus"}},
            },
            "Announcer": function("announce", name="tollgate-staging-announcer"),
            "Listener": function("listen"),
            "Broken": function("explode"),
            "AlarmRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"source": ["aws.cloudwatch"], "detail": {"state": {"value": ["ALARM"]}}},
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Announcer", "Arn"]}, "Id": "Target0"}],
                },
            },
            "TollgateRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Ref": "Bus"},
                    "EventPattern": {"source": ["tollgate"], "detail-type": ["Rollback Started"]},
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Listener", "Arn"]}, "Id": "Target0"}],
                },
            },
            "BrokenRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"source": ["aws.codedeploy"]},
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Broken", "Arn"]}, "Id": "Target0"}],
                },
            },
            "Schedule": {
                "Type": "AWS::Scheduler::Schedule",
                "Properties": {"Target": {"Arn": {"Fn::GetAtt": ["Listener", "Arn"]}}},
            },
            "AlarmSubscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"Protocol": "lambda", "Endpoint": {"Fn::GetAtt": ["Listener", "Arn"]}},
            },
        }
    }
