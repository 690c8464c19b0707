#!/usr/bin/env python3
"""CDK entry point: `cdk synth` builds Tollgate's stack for development, staging and production.

Context `configDir` points at another folder of environment JSON files (used by tests).
"""

import sys
from pathlib import Path

from aws_cdk import App

from lambdas.core.config import ENVIRONMENTS_DIR, ConfigError
from stacks.app_factory import build_app


def main() -> None:
    app = App()
    config_dir = Path(app.node.try_get_context("configDir") or ENVIRONMENTS_DIR)
    try:
        build_app(app, config_dir=config_dir)
    except ConfigError as error:
        sys.stderr.write(f"tollgate: invalid config: {error}\n")
        sys.exit(1)
    app.synth()


if __name__ == "__main__":
    main()
