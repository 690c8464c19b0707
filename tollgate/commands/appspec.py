"""``tollgate appspec --env ENV --service SVC --task-definition ARN [--function-names]``: the ECS AppSpec.

Prints JSON (valid YAML too, so CodeDeploy accepts it either way) naming the service's container and port
from the config and Tollgate's hook functions for every lifecycle hook.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from lambdas.core.appspec import ecs_appspec
from lambdas.core.config import ENVIRONMENT_NAMES, EnvironmentConfig, Hook, Strategy
from lambdas.hooks.naming import hook_function_arn, hook_function_name
from tollgate.cli import CommandError, environment_config

TASK_DEFINITION_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]{1,255}:\d+$")


def build_ecs_appspec(
    config: EnvironmentConfig, service: str, task_definition_arn: str, *, function_names: bool = False
) -> dict[str, Any]:
    """The AppSpec for one service's blue/green deployment, hooks in CodeDeploy's order."""
    if config.deployment.strategy is Strategy.ROLLING:
        raise CommandError(f"{config.name} uses rolling ECS updates: CodeDeploy (and an AppSpec) is not used there")
    lms_service = config.lms.services.get(service)
    if lms_service is None:
        raise CommandError(f"{config.name} has no service '{service}' (known: {', '.join(config.lms.services)})")
    if not TASK_DEFINITION_ARN.match(task_definition_arn):
        raise CommandError(f"not an ECS task definition ARN with a revision: {task_definition_arn}")

    def target(hook: Hook) -> str:
        if function_names:
            return hook_function_name(config.name, hook)
        return hook_function_arn(region=config.region, account=config.account, environment=config.name, hook=hook)

    return ecs_appspec(
        task_definition_arn,
        container_name=lms_service.container_name,
        container_port=lms_service.container_port,
        hooks={hook.value: target(hook) for hook in Hook},
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "appspec",
        help="print the ECS AppSpec for a service's deployment, with Tollgate's hook functions",
        description="Print the ECS AppSpec (JSON) for deploying TASK_DEFINITION to SERVICE in ENV: container "
        "name and port from the environment config, and Tollgate's CodeDeployHook_ functions for every hook.",
    )
    parser.add_argument("--env", required=True, choices=ENVIRONMENT_NAMES)
    parser.add_argument("--service", required=True, help="LMS service, e.g. backend")
    parser.add_argument("--task-definition", required=True, help="task definition ARN with revision")
    parser.add_argument("--function-names", action="store_true", help="name the hook functions instead of ARNs")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = environment_config(args.env)
    appspec = build_ecs_appspec(config, args.service, args.task_definition, function_names=args.function_names)
    json.dump(appspec, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
