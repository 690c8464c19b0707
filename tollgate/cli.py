"""The ``tollgate`` command. Each subcommand lives in its own module under ``tollgate.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lambdas.core.config import ConfigError, EnvironmentConfig, load_environment

# Modules that define ``register(subparsers)``; each adds one subcommand.
COMMAND_MODULES = (
    "tollgate.commands.replay",
    # `canary judge`; its module also owns the shared `canary` group (canary_subcommands).
    "tollgate.commands.canary_judge",
    "tollgate.commands.demo",
    "tollgate.commands.appspec",
    "tollgate.commands.approve",
    "tollgate.commands.rollback",
    "tollgate.commands.simulate",
    "tollgate.commands.history",
    "tollgate.commands.show",
    "tollgate.commands.canary",
    "tollgate.commands.doctor",
)


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit code 2, no traceback."""


def environment_config(name: str) -> EnvironmentConfig:
    """The validated config of ``name``, or a one-line CommandError naming what is wrong."""
    try:
        return load_environment(name)
    except ConfigError as error:
        raise CommandError(str(error)) from error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tollgate", description="Safe deployments for the LMS, locally and on AWS.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as error:
        print(f"tollgate: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run as `python -m tollgate.cli`: use the package's module so CommandError is the one commands raise.
    from tollgate.cli import main as package_main

    sys.exit(package_main())
