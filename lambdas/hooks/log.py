"""The hook function's logger: its ``service`` is the function's own (POWERTOOLS_SERVICE_NAME, set per
function by the stack); the LMS service a hook judges is logged under ``lms_service``."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "tollgate-hooks")
