"""Tollgate's DynamoDB tables, created in the embedded AWS for functional tests.

The shapes match the stack's tables (see stacks/); the local deploy of the synthesized template
creates them from the template itself.
"""

from __future__ import annotations

from typing import Any

IDEMPOTENCY_TABLE = "tollgate-idempotency"
STATE_TABLE = "tollgate-state"


def create_tollgate_tables(dynamodb: Any) -> dict[str, str]:
    """Create the idempotency table (pk ``id``) and the state table (``pk``/``sk``); return their names."""
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return {"idempotency": IDEMPOTENCY_TABLE, "state": STATE_TABLE}
