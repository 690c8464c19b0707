"""The shared foundation of every environment's stack."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Match, Template

from lambdas.core.config import ConfigError, EnvironmentConfig
from stacks.constructs.shared import SharedResources
from stacks.powertools import REQUIREMENTS, layer_parameter_name, pinned_powertools_version
from stacks.tollgate_stack import TollgateStack


def test_bus_topic_queue_and_tables_exist_once_each(bare_stack: Stack, shared_resources: SharedResources) -> None:
    # Given the shared foundation on a bare stack
    template = Template.from_stack(bare_stack)
    # Then each shared resource exists exactly once
    template.resource_count_is("AWS::Events::EventBus", 1)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::SQS::Queue", 1)
    template.resource_count_is("AWS::DynamoDB::Table", 2)
    template.resource_count_is("AWS::KMS::Key", 1)


def test_bus_is_named_for_the_environment(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    template = Template.from_stack(bare_stack)
    template.has_resource_properties("AWS::Events::EventBus", {"Name": f"tollgate-{environment_config.name}"})
    template.has_resource_properties(
        "AWS::Events::Archive",
        {"ArchiveName": f"tollgate-{environment_config.name}", "RetentionDays": Match.any_value()},
    )


def test_alert_topic_and_queue_are_encrypted_with_tollgate_key(
    bare_stack: Stack, shared_resources: SharedResources
) -> None:
    template = Template.from_stack(bare_stack)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_tables_have_ttl_pitr_and_the_documented_keys(bare_stack: Stack, shared_resources: SharedResources) -> None:
    template = Template.from_stack(bare_stack)
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )


def test_powertools_layer_is_the_release_requirements_pins_resolved_at_deploy_time(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Given the Powertools release requirements.txt pins (what the tests run)
    pinned = pinned_powertools_version(REQUIREMENTS.read_text(encoding="utf-8"))
    # Then the layer ARN is that release's public SSM parameter for python3.14, resolved by CloudFormation
    parameters = Template.from_stack(bare_stack).to_json()["Parameters"]
    defaults = [p.get("Default") for p in parameters.values()]
    arch = environment_config.lambda_architecture
    assert f"/aws/service/powertools/python/{arch}/python3.14/{pinned}" in defaults
    # And never the moving `latest` one
    assert not [d for d in defaults if isinstance(d, str) and d.endswith("/latest")]


def test_every_function_runs_python_3_14_with_the_pinned_layer(environment_config: EnvironmentConfig) -> None:
    # Given a whole environment's stack
    app = App(builtin_cloud_formation_validation=False)
    stack = TollgateStack(
        app, "Runtime", config=environment_config,
        env=Environment(account=environment_config.account, region=environment_config.region),
    )  # fmt: skip
    template = Template.from_stack(stack).to_json()
    layer_parameters = {
        k for k, p in template["Parameters"].items() if "/aws/service/powertools/" in str(p.get("Default"))
    }
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    # Then every function is on python3.14 and carries exactly the pinned layer parameter
    assert functions
    assert {f["Runtime"] for f in functions} == {"python3.14"}
    assert all(f["Layers"] == [{"Ref": p} for p in layer_parameters] for f in functions)
    assert len(layer_parameters) == 1


def test_pinned_version_is_read_from_an_exact_pin_with_extras() -> None:
    text = "boto3==1.0.0\n# the layer\naws-lambda-powertools[parser]==3.37.0  # tested\npydantic==2.0.0\n"
    assert pinned_powertools_version(text) == "3.37.0"
    assert pinned_powertools_version("aws-lambda-powertools==3.1.0") == "3.1.0"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("aws-lambda-powertools[parser]>=3.37.0", r"pinned as '>=3.37.0'.*'==X.Y.Z'"),
        ("aws-lambda-powertools~=3.37", r"pinned as '~=3.37'"),
        ("aws-lambda-powertools==3.*", r"pinned as '==3.\*'"),
        ("aws-lambda-powertools", r"pinned as ''"),
        ("boto3==1.0.0", r"no aws-lambda-powertools requirement"),
    ],
)
def test_a_pin_that_is_not_one_exact_release_fails_synth_clearly(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pinned_powertools_version(line)


def test_the_layer_parameter_names_architecture_runtime_and_release() -> None:
    assert (
        layer_parameter_name(architecture="x86_64", version="3.37.0")
        == "/aws/service/powertools/python/x86_64/python3.14/3.37.0"
    )
