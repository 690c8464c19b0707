"""The pipeline metrics over a ledger of 10,000 deployments, as a ratio to reading them from the table."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from bench.measure import line

DEPLOYMENTS = 10_000
WRITE_BATCH = 25  # BatchWriteItem's limit


def ledger_lines() -> list[str]:
    from lambdas.core import aws  # noqa: PLC0415
    from lambdas.core.config import load_environment  # noqa: PLC0415
    from lambdas.ledger.adapters.table import LedgerTable  # noqa: PLC0415
    from lambdas.ledger.metrics import pipeline_metrics  # noqa: PLC0415
    from lambdas.ledger.publish import window_for  # noqa: PLC0415
    from tests.functional.ledger.ledger_world import LEDGER_TABLE, create_ledger_table  # noqa: PLC0415
    from tollgate.embedded_aws import EmbeddedAws  # noqa: PLC0415

    config = load_environment("production")
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(13)
    with EmbeddedAws(region=config.region):
        create_ledger_table()
        dynamodb = aws.client("dynamodb")
        items = []
        for index in range(DEPLOYMENTS):
            start = now - timedelta(days=6, hours=20) + timedelta(seconds=index * 58)
            end = start + timedelta(minutes=rng.randint(3, 20))
            state = "FAILURE" if rng.random() < 0.08 else "SUCCESS"
            iso = start.isoformat(timespec="microseconds")
            items.append(
                {
                    "pk": {"S": f"deployment#d-{index:09d}"},
                    "sk": {"S": "deployment"},
                    "kind": {"S": "deployment"},
                    "deployment_id": {"S": f"d-{index:09d}"},
                    "environment": {"S": config.name},
                    "service": {"S": rng.choice(("backend", "frontend"))},
                    "gsi1pk": {"S": f"deployments#{config.name}"},
                    "gsi1sk": {"S": f"{iso}#d-{index:09d}"},
                    "state_START": {"S": iso},
                    f"state_{state}": {"S": end.isoformat(timespec="microseconds")},
                    "committed_at": {"S": (start - timedelta(hours=2)).isoformat(timespec="microseconds")},
                    "rolled_back": {"BOOL": state == "FAILURE"},
                }
            )
        for offset in range(0, len(items), WRITE_BATCH):
            batch = [{"PutRequest": {"Item": i}} for i in items[offset : offset + WRITE_BATCH]]
            dynamodb.batch_write_item(RequestItems={LEDGER_TABLE: batch})
        ledger = LedgerTable(LEDGER_TABLE)
        window = window_for(config, now)
        began = time.perf_counter()
        deployments = ledger.deployments(config.name, window.start - timedelta(days=2), now)
        read = time.perf_counter() - began
        computed = []
        for _ in range(5):
            began = time.perf_counter()
            sets = pipeline_metrics(config.name, deployments, [], [], window)
            computed.append(time.perf_counter() - began)
        compute = sorted(computed)[2]
    count = sum(int(s.as_dict()["DeploymentCount"]) for s in sets)
    return [
        line("deployments read (one paginated GSI query)", f"{len(deployments)}", f"{read:.2f} s"),
        line("metrics over them (median of 5)", f"{compute * 1000:.1f} ms", f"{count} finished in the window"),
        line("metrics / reading", f"{compute / read:.3f} x", "computing is a small part of a publisher run"),
    ]
