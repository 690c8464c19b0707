"""Names the stack, the AppSpec and the hooks agree on."""

from __future__ import annotations

from lambdas.core.config import Hook

HOOK_HANDLER = "lambdas.hooks.handler.handler"

# AWSCodeDeployRoleForECS may invoke only functions whose name starts with this prefix.
CODEDEPLOY_HOOK_PREFIX = "CodeDeployHook_"


def hook_function_name(environment: str, hook: Hook) -> str:
    return f"{CODEDEPLOY_HOOK_PREFIX}tollgate-{environment}-{hook.value}"


def hook_function_arn(*, region: str, account: str, environment: str, hook: Hook) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{hook_function_name(environment, hook)}"


def hook_parameter_name(environment: str, hook: Hook) -> str:
    """SSM parameter holding the hook function's ARN, for the pipeline."""
    return f"/tollgate/{environment}/hooks/{hook.value}"
