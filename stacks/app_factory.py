"""Build the CDK app: validate every environment's config first, then one stack each, then cdk-nag."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from lambdas.core.config import ENVIRONMENTS_DIR, load_all_environments
from stacks.tollgate_stack import TollgateStack

# CDK feature flags live here rather than in cdk.json, so `cdk synth` and the in-process synth of
# the local runtime and tests produce the same templates.
FEATURE_FLAGS: dict[str, object] = {
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/core:target-partitions": ["aws"],
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/core:enablePartitionLiterals": True,
    "@aws-cdk/aws-events:eventsTargetQueueSameAccount": True,
    "@aws-cdk/aws-sns:restrictSqsDescryption": True,
    "@aws-cdk/aws-kms:aliasNameRef": True,
    "@aws-cdk/core:includePrefixInUniqueNameGeneration": True,
    "@aws-cdk/aws-lambda:useCdkManagedLogGroup": True,
}


def stack_name(environment: str) -> str:
    return f"Tollgate-{environment}"


def build_app(app: App | None = None, *, config_dir: Path = ENVIRONMENTS_DIR) -> App:
    app = app or App()
    # Construct paths in the template let the local runtime name functions as the stack does.
    app.node.set_context("aws:cdk:enable-path-metadata", True)
    for flag, value in FEATURE_FLAGS.items():
        app.node.set_context(flag, value)
    # Every environment is validated before any construct exists: a bad value fails synth naming
    # the environment and the field, and no half-built app is left behind.
    configs = load_all_environments(config_dir)
    for name, config in configs.items():
        TollgateStack(
            app,
            stack_name(name),
            config=config,
            env=Environment(account=config.account, region=config.region),
        )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
