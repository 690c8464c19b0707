"""Build the CDK app: validate every environment's config first, then one stack each, then cdk-nag."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from lambdas.core.config import ENVIRONMENTS_DIR, load_all_environments
from stacks.tollgate_stack import TollgateStack


def stack_name(environment: str) -> str:
    return f"Tollgate-{environment}"


def build_app(app: App | None = None, *, config_dir: Path = ENVIRONMENTS_DIR) -> App:
    app = app or App()
    # Construct paths in the template let the local runtime name functions as the stack does.
    app.node.set_context("aws:cdk:enable-path-metadata", True)
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
