"""Logger and Metrics, created once for every function.

Tracing is an explicit choice: creating a Powertools Tracer imports the X-Ray SDK (100-200 ms of
cold start), so functions do not create one unless ``TOLLGATE_TRACING=true`` at deploy time.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="tollgate")
metrics = Metrics(namespace="Tollgate", service="tollgate")
