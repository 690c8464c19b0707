"""Deploy the Tollgate-owned resources of a synthesized template into the embedded AWS.

A deliberately small CloudFormation: the resource types Tollgate's stack uses (bus, topic, queue,
tables, parameters, alarms, email subscriptions) are created with ordinary boto3 calls, and the
intrinsics its function environments use (Ref, GetAtt, Join, Sub, Select) are resolved to what was
created. Functions are not created in moto: the local invoker runs their handlers in-process.
IAM, KMS, log groups and the like have no local behaviour worth simulating and are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lambdas.core import aws
from tollgate.embedded_aws.server import LOCAL_ACCOUNT_ID
from tollgate.local.template import StackTemplate


class LocalDeployError(Exception):
    """A template value could not be resolved or a resource could not be created locally."""


@dataclass
class LocalStack:
    """What the local deploy created: each logical id's Ref and attributes, and what it skipped."""

    region: str
    account: str = ""  # the environment's account, which ARNs built at synth name
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            raise LocalDeployError(f"cannot resolve {value!r}")
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((name, argument),) = value.items()
        if name == "Ref":
            return self._ref(str(argument))
        if name == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return self._attribute(logical_id, attribute)
        if name == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(self.resolve(p)) for p in parts)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub_variable(m.group(1), variables)), text)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_variable(self, name: str, variables: dict[str, Any]) -> Any:
        if name in variables:
            return self.resolve(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return self._attribute(logical_id, attribute)
        return self._ref(name)

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "tollgate-local",
            "AWS::NoValue": "",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.attributes:
            return self.attributes[name]["Ref"]
        return f"local-{name}"  # a parameter or a resource with no local counterpart

    def _attribute(self, logical_id: str, attribute: str) -> str:
        known = self.attributes.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        return f"arn:aws:local:{self.region}:{LOCAL_ACCOUNT_ID}:{logical_id}/{attribute}"


def _tags(props: dict[str, Any], stack: LocalStack) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": str(stack.resolve(t["Value"]))} for t in props.get("Tags", [])]


def _create_bus(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props["Name"]))
    arn = aws.client("events").create_event_bus(Name=name)["EventBusArn"]
    return {"Ref": name, "Name": name, "Arn": arn}


def _create_topic(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props.get("TopicName", logical_id)))
    arn = aws.client("sns").create_topic(Name=name)["TopicArn"]
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}


def _create_queue(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props.get("QueueName", logical_id)))
    url = aws.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{stack.region}:{LOCAL_ACCOUNT_ID}:{name}"
    return {"Ref": url, "QueueUrl": url, "Arn": arn, "QueueName": name}


def _create_table(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props.get("TableName", logical_id)))
    dynamodb = aws.client("dynamodb")
    response = dynamodb.create_table(
        TableName=name,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **(
            {"GlobalSecondaryIndexes": [{k: g[k] for k in ("IndexName", "KeySchema", "Projection")} for g in indexes]}
            if (indexes := props.get("GlobalSecondaryIndexes"))
            else {}
        ),
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return {"Ref": name, "Arn": response["TableDescription"]["TableArn"]}


def _create_parameter(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props.get("Name", f"/tollgate-local/{logical_id}")))
    value = stack.resolve(props["Value"])
    aws.client("ssm").put_parameter(
        Name=name, Value=value if isinstance(value, str) else json.dumps(value), Type="String", Overwrite=True
    )
    return {"Ref": name, "Value": str(value)}


def _create_email_subscription(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    if props.get("Protocol") != "email":
        raise _Skip("only email subscriptions have a local counterpart (functions are invoked in-process)")
    response = aws.client("sns").subscribe(
        TopicArn=str(stack.resolve(props["TopicArn"])), Protocol="email", Endpoint=str(stack.resolve(props["Endpoint"]))
    )
    arn = str(response["SubscriptionArn"])
    return {"Ref": arn}


_ALARM_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "Metrics",
    "ThresholdMetricId",
)


def _create_alarm(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    resolved = stack.resolve({k: props[k] for k in _ALARM_KEYS if k in props})
    name = str(resolved.setdefault("AlarmName", logical_id))
    tags = _tags(props, stack)
    aws.client("cloudwatch").put_metric_alarm(**resolved, **({"Tags": tags} if tags else {}))
    arn = f"arn:aws:cloudwatch:{stack.region}:{LOCAL_ACCOUNT_ID}:alarm:{name}"
    return {"Ref": name, "Arn": arn}


def _create_composite_alarm(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    name = str(stack.resolve(props.get("AlarmName", logical_id)))
    tags = _tags(props, stack)
    aws.client("cloudwatch").put_composite_alarm(
        AlarmName=name,
        AlarmRule=str(stack.resolve(props["AlarmRule"])),
        ActionsEnabled=bool(props.get("ActionsEnabled", True)),
        **({"AlarmDescription": str(stack.resolve(props["AlarmDescription"]))} if "AlarmDescription" in props else {}),
        **({"Tags": tags} if tags else {}),
    )
    return {"Ref": name, "Arn": f"arn:aws:cloudwatch:{stack.region}:{LOCAL_ACCOUNT_ID}:alarm:{name}"}


def _create_state_machine(logical_id: str, props: dict[str, Any], stack: LocalStack) -> dict[str, str]:
    """The definition as synthesized; its Lambda tasks reach the in-process handlers (extensions.set_lambda_invoker)."""
    name = str(stack.resolve(props.get("StateMachineName", logical_id)))
    definition = stack.resolve(props["DefinitionString"])
    response = aws.client("stepfunctions").create_state_machine(
        name=name,
        definition=definition if isinstance(definition, str) else json.dumps(definition),
        roleArn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{name}",
        type=str(props.get("StateMachineType", "STANDARD")),
    )
    arn = str(response["stateMachineArn"])
    return {"Ref": arn, "Arn": arn, "Name": name}


class _Skip(Exception):  # noqa: N818 - control flow, not an error
    """This resource has no local counterpart."""


# Creation order: what others reference comes first.
_CREATORS = (
    ("AWS::Events::EventBus", _create_bus),
    ("AWS::SNS::Topic", _create_topic),
    ("AWS::SQS::Queue", _create_queue),
    ("AWS::DynamoDB::Table", _create_table),
    ("AWS::SSM::Parameter", _create_parameter),
    ("AWS::SNS::Subscription", _create_email_subscription),
    ("AWS::CloudWatch::Alarm", _create_alarm),
    ("AWS::CloudWatch::CompositeAlarm", _create_composite_alarm),
    ("AWS::StepFunctions::StateMachine", _create_state_machine),
)


def _function_attributes(template: StackTemplate, stack: LocalStack) -> None:
    for spec in template.functions.values():
        arn = f"arn:aws:lambda:{stack.region}:{LOCAL_ACCOUNT_ID}:function:{spec.name}"
        stack.attributes[spec.logical_id] = {"Ref": spec.name, "Arn": arn}


def deploy_locally(template: StackTemplate, *, region: str, account: str = "") -> LocalStack:
    """Create the template's Tollgate-owned resources in the embedded AWS (which must be running)."""
    stack = LocalStack(region=region, account=account)
    _function_attributes(template, stack)
    for resource_type, create in _CREATORS:
        for logical_id, resource in template.resources_of_type(resource_type).items():
            try:
                stack.attributes[logical_id] = create(logical_id, resource.get("Properties", {}), stack)
            except _Skip as skip:
                stack.skipped[logical_id] = str(skip)
    return stack


def function_environment(template: StackTemplate, logical_id: str, stack: LocalStack) -> dict[str, str]:
    """The function's environment variables with every intrinsic resolved to local resources."""
    spec = template.functions[logical_id]
    return {key: _in_local_account(str(stack.resolve(value)), stack) for key, value in spec.environment.items()}


def _in_local_account(value: str, stack: LocalStack) -> str:
    """An ARN the stack built for the environment's account names the embedded AWS's one account.

    moto serves every request from one account (its credentials'), so a resource created there has that
    account in its ARN; the functions still run "in" the environment's account for their guards.
    """
    if stack.account and value.startswith("arn:") and f":{stack.account}:" in value:
        return value.replace(f":{stack.account}:", f":{LOCAL_ACCOUNT_ID}:")
    return value
