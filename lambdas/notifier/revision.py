"""The version a CodeDeploy revision names (pure).

For ECS the revision is an AppSpec whose TargetService names the task definition (``family:revision``),
which is what people call the version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TASK_DEFINITION = re.compile(r"task-definition/([A-Za-z0-9_-]{1,255}:\d+)")


def version_from_revision(revision: Mapping[str, Any]) -> str | None:
    """``family:revision`` from an ECS AppSpec, or the S3 bundle's key and version; else None."""
    content = revision.get("appSpecContent") or revision.get("string") or {}
    text = content.get("content") if isinstance(content, Mapping) else None
    if isinstance(text, str):
        match = _TASK_DEFINITION.search(text)
        return match.group(1) if match else None
    s3 = revision.get("s3Location")
    if isinstance(s3, Mapping) and s3.get("key"):
        version = s3.get("version") or s3.get("eTag")
        return f"s3://{s3.get('bucket')}/{s3['key']}" + (f" ({version})" if version else "")
    return None
