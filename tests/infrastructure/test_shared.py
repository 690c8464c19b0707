"""The shared foundation of every environment's stack."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from lambdas.core.config import EnvironmentConfig
from stacks.constructs.shared import SharedResources


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


def test_powertools_layer_resolves_from_the_public_parameter_at_deploy_time(
    bare_stack: Stack, shared_resources: SharedResources, environment_config: EnvironmentConfig
) -> None:
    # Then the layer ARN is an SSM parameter resolved by CloudFormation, not a synth-time lookup
    parameters = Template.from_stack(bare_stack).to_json()["Parameters"]
    defaults = [p.get("Default") for p in parameters.values()]
    assert f"/aws/service/powertools/python/{environment_config.lambda_architecture}/python3.13/latest" in defaults
