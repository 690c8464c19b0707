"""Logger and Metrics, created once for every function.

Tracing is an explicit choice: creating a Powertools Tracer imports the X-Ray SDK (100-200 ms of
cold start), so functions do not create one unless ``TOLLGATE_TRACING=true`` at deploy time.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

# The log's ``service`` is the function's own (POWERTOOLS_SERVICE_NAME, set per function by the stack), so
# one function's lines can be told from another's; the LMS service a line is about goes under its own key.
# The metrics keep one ``service`` dimension: the dashboard and alarms query it.
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "tollgate")
metrics = Metrics(namespace="Tollgate", service="tollgate")
