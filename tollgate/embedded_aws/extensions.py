"""Calls moto lacks that Tollgate needs (placeholder; filled by the extensions work)."""


def install() -> None:
    """Patch moto's response classes; idempotent."""
