"""The ECS AppSpec and the CodeDeploy revision that carries it: built in one place.

The pipeline's AppSpec (`tollgate appspec`), the rollback function's redeploy and the embedded AWS's
seed all deploy the same shape, so they share this builder. Pure: no AWS calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def ecs_appspec(
    task_definition: str, *, container_name: str, container_port: int, hooks: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An ECS blue/green AppSpec; ``hooks`` maps lifecycle hook name -> function name or ARN, in order."""
    spec: dict[str, Any] = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": task_definition,
                        "LoadBalancerInfo": {"ContainerName": container_name, "ContainerPort": container_port},
                    },
                }
            }
        ],
    }
    if hooks:
        spec["Hooks"] = [{name: target} for name, target in hooks.items()]
    return spec


def appspec_revision(content: str) -> dict[str, Any]:
    """A CodeDeploy ``revision`` carrying AppSpec content inline, with its SHA-256."""
    return {
        "revisionType": "AppSpecContent",
        "appSpecContent": {"content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()},
    }


def appspec_content(spec: Mapping[str, Any]) -> str:
    """Compact JSON (valid YAML too), as CodeDeploy accepts either."""
    return json.dumps(spec, separators=(",", ":"))
